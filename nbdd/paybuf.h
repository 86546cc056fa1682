/* layer: I/O */
/* Buffers for payloads held whole (budget.h): a connection takes one for
 * a long WRITE or READ and gives it back when the request is answered.
 * Room comes in order of asking, waiting while the budget is spent:
 * nothing else of the connection is held meanwhile, and other
 * connections' requests go on. Buffers given back are kept for the next
 * (no page faults per request), up to a quarter of the budget; the
 * buffers in use and kept never hold more than the budget together. */
#ifndef NBDD_PAYBUF_H
#define NBDD_PAYBUF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/allow.h"
#include "nbdd/budget.h"

#define PAYBUF_SPARES_MAX	64

struct paybuf_spare {
	void *p;
	size_t size;
};

struct paybufs {
	pthread_mutex_t lock;		/* guards the rest */
	pthread_cond_t turn;		/* some waiting request was granted */
	struct budget budget;
	struct budget_want *queue;
	struct paybuf_spare spare[PAYBUF_SPARES_MAX];
	size_t nspare;
	uint64_t spare_bytes;
	uint64_t spare_max;
};

/* 0, or -1 with errno. */
int paybufs_init(struct paybufs *pb, uint64_t total);
void paybufs_destroy(struct paybufs *pb);

/* A buffer for a payload of len bytes from host (admission.h's key), and
 * in *size how large it is, to give it back. With wait 0, NULL and EAGAIN
 * when it would have to wait; else it waits its turn. NULL and ENOMEM
 * when the memory cannot be had. */
void *paybuf_take(struct paybufs *pb, const struct netaddr *host,
    size_t len, int wait, size_t *size);

void paybuf_give(struct paybufs *pb, const struct netaddr *host, void *buf,
    size_t size);

#endif
