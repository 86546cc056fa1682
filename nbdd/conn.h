/* layer: I/O */
/* One client connection: the handshake (negotiate.c), then the
 * transmission phase (transmit.c). */
#ifndef NBDD_CONN_H
#define NBDD_CONN_H

#include "common/allow.h"
#include "nbdd/backend.h"
#include "nbdd/claim.h"
#include "nbdd/export.h"
#include "nbdd/options.h"
#include "nbdd/overlay.h"
#include "nbdd/paybuf.h"
#include "nbdd/rbdclaim.h"
#include "nbdd/request.h"
#include "nbdd/tlsauth.h"
#include "nbdd/transport.h"

/* What every connection shares; owned by main. */
struct nbdd_ctx {
	int rootfd;			/* the root directory (-r) */
	const char *root;		/* its path, for messages */
	const char *user;		/* the user nbdd runs as, for messages */
	int timeout;			/* seconds for a handshake or a
					 * stalled request (-T) */
	int multi_conn;			/* advertise CAN_MULTI_CONN */
	struct claims claims;
	/* Images in Ceph (-C): the cluster, or NULL; their claims. */
	struct rbd_cluster *rbd;
	struct rbd_claims rbd_claims;
	/* NBD over TLS (-x, -X, -k, -y, -w, -B). */
	enum opt_tls tls_mode;
	struct tls_creds *tls;		/* NULL when TLS is off */
	struct tlsauth_policy auth;	/* who may open what over TLS */
	int bootfd;			/* its boot directory, or -1 */
	/* Shared bases' overlays; NULL when no overlay directory could be
	 * used (shared bases are then refused). */
	struct ovl_registry *overlays;
	const char *no_overlays;	/* why not, for the refusal */
	/* Buffers for payloads held whole, within a budget. */
	struct paybufs *payloads;
};

struct conn {
	struct nbdd_ctx *ctx;
	int fd;
	struct transport tp;		/* fd, or TLS over it after STARTTLS */
	char host[CLAIM_HOST_MAX];	/* the claim's holder identity */
	char peer[CLAIM_HOST_MAX + 8];	/* host and port, for log lines */
	struct export ex;		/* valid once negotiated */
	struct claim *claim;		/* NULL for shared bases */
	struct rbd_claim *rbd_claim;	/* an image in Ceph, written */
	struct overlay *ovl;		/* the host's, over a shared base */
	struct req_export caps;		/* what was negotiated for it */
	const struct conn_start *start;	/* its host; the end of its
					 * handshake, told */
	int disc;			/* the client ended with NBD_CMD_DISC */
};

/* Who accepted a connection, for the connection: its host as the limits
 * count it, and a call when its handshake is over, made before the client
 * is told (the limits on connections in the handshake are main's). */
struct conn_start {
	struct netaddr host;		/* admission.h's key */
	void (*established)(void *arg);
	void *arg;
};

/* Serves the client on fd until it goes or the socket is shut down. Does
 * not close fd: whoever accepted it does, after this returns. Only hosts
 * in the allowed networks get here (turnaway.c tells the others). */
void conn_serve(struct nbdd_ctx *ctx, int fd,
    const struct conn_start *st);

/* The handshake: 0 to go on to transmission (c->ex open and claimed, or
 * c->ovl held for a shared base; c->caps set), -1 when the client left or
 * was refused (logged). */
int negotiate(struct conn *c);

/* Lets go of what the handshake took for the export: the claim, the
 * overlay (its grace period starts, or with c->disc it goes), the image. */
void conn_release(struct conn *c);

/* The transmission phase; returns when the client disconnects, with
 * c->disc set when it said so. */
void transmit(struct conn *c);

#endif
