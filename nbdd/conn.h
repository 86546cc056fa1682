/* layer: I/O */
/* One client connection: the handshake (negotiate.h), then the
 * transmission phase (transmit.h, or rbdxmit.h for an image in Ceph);
 * at its end, what it held of the export let go of (hold.h). */
#ifndef NBDD_CONN_H
#define NBDD_CONN_H

#include "common/allow.h"
#include "nbdd/export.h"
#include "nbdd/namemax.h"
#include "nbdd/request.h"
#include "nbdd/transport.h"

struct claim;
struct nbdd_ctx;
struct overlay;
struct rbd_claim;

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

#endif
