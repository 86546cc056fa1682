/* layer: I/O */
/* What every connection shares: the images' root, the claims, the
 * cluster, TLS, the overlays and the payloads' budget. Owned by main.c,
 * set up before the first connection and torn down after the last.
 * Whoever uses the payloads' buffers takes them through paybuf.h. */
#ifndef NBDD_CTX_H
#define NBDD_CTX_H

#include "nbdd/claim.h"
#include "nbdd/options.h"
#include "nbdd/paybuf.h"
#include "nbdd/rbdclaim.h"
#include "nbdd/tlsauth.h"

struct ovl_registry;
struct rbd_cluster;
struct tls_creds;

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

#endif
