/* layer: I/O */
/* One writer per image in Ceph, across every server that serves it. The
 * first host to open an RBD image (not a snapshot) claims it as claim.h
 * has it on one server: more connections from that host share the claim
 * (and one image handle), any other host of this server is refused,
 * naming the holder. The claim is RBD's exclusive lock, taken with
 * rbd_lock_acquire when the image is opened for writing and held until
 * the last connection of the host is gone: a client of another server is
 * refused the same way, naming the holder as far as Ceph says (its client
 * and address, and the host nbdd recorded in the image's metadata,
 * netboot.holder, when that record is the lock holder's).
 *
 * A server that dies releases nothing: Ceph hands the lock to the next
 * server that asks once the dead one's watch on the image has expired (or
 * at once when its connections were reset), and adds the dead one to the
 * blocklist, so that it can never write again (rbdcluster.h). */
#ifndef NBDD_RBDCLAIM_H
#define NBDD_RBDCLAIM_H

#include <pthread.h>
#include <stddef.h>

#include "common/rbdcluster.h"
#include "nbdd/claim.h"
#include "nbdd/export.h"

#define RBD_HOLDER_KEY	"netboot.holder"

struct rbd_claim;

struct rbd_claims {
	pthread_mutex_t lock;		/* never held across a call to the
					 * cluster, which may take as long as
					 * its timeouts */
	pthread_cond_t settled;		/* a claim was locked or let go of */
	struct rbd_claim *list;
};

/* What a connection writes through: the image open for writing with the
 * lock held, shared by the host's connections. */
struct rbd_writer {
	struct rbd_cluster *cl;
	struct rbdc_instance *inst;
	rbd_image_t image;
	int cached;			/* librbd's cache is on: FUA flushes */
};

int rbd_claims_init(struct rbd_claims *cs);
void rbd_claims_destroy(struct rbd_claims *cs);

/* Claims ex (opened by rbdx_open, not a snapshot) for host. Returns the
 * claim, or NULL with the reason in why: held by another host here
 * (naming it), locked by another server (naming it as far as Ceph says),
 * an image without the exclusive-lock feature (with the command that
 * gives it one), the cluster's error. While this server is locking or
 * letting go of the same image in the cluster, waits for that to end
 * (so that it never refuses a host on its own behalf); claims of other
 * images never wait on it. */
struct rbd_claim *rbd_claim_take(struct rbd_claims *cs, const struct export *ex,
    const char *host, char *why, size_t whylen);
void rbd_claim_release(struct rbd_claims *cs, struct rbd_claim *c);
const struct rbd_writer *rbd_claim_writer(const struct rbd_claim *c);

#endif
