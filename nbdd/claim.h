/* layer: I/O */
/* One writer per image. The first host to open a writable image claims
 * it; more connections from that host share the claim (multi-conn), any
 * other host is refused until the last of them is gone. The claim is also
 * a lock on the image that other processes can see: flock(LOCK_EX) and an
 * OFD write lock (fcntl F_OFD_SETLK) over the whole file, both on one open
 * file description, so flock(1), another nbdd, and qemu-img/qemu-nbd
 * (which take OFD locks) all find the image busy. */
#ifndef NBDD_CLAIM_H
#define NBDD_CLAIM_H

#include <pthread.h>
#include <stddef.h>

#include "nbdd/export.h"
#include "nbdd/namemax.h"

struct claim;

struct claims {
	pthread_mutex_t lock;
	struct claim *list;
};

int claims_init(struct claims *cs);
/* Every claim must have been released. */
void claims_destroy(struct claims *cs);

/* Claims ex for host. Returns the claim, or NULL with the reason (naming
 * the holder) in why. */
struct claim *claim_take(struct claims *cs, const struct export *ex,
    const char *host, char *why, size_t whylen);
void claim_release(struct claims *cs, struct claim *c);
/* Whether a host holds ex now: 1 with its address in host, or 0. (A
 * shared base must not be one: an image made read-only while a host
 * still writes it is not a base until that host is gone.) */
int claim_holder(struct claims *cs, const struct export *ex, char *host,
    size_t hostlen);

#endif
