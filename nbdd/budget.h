/* layer: pure */
/* What buffered payloads may hold, in all and per host, and which
 * waiting request gets room next. A WRITE too long for the connection's
 * input buffer is held whole before it is written (a WRITE cut short
 * writes nothing), and a long READ that cannot go out with sendfile is
 * gathered before it is sent: each takes room here for its buffer first,
 * so what clients make nbdd hold is bounded, whatever -m says. Pure:
 * paybuf.c holds the lock, the waiting and the buffers. */
#ifndef NBDD_BUDGET_H
#define NBDD_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "common/allow.h"

/* The default budget: an eighth of the server's memory, within these. */
#define BUDGET_MIN		(64ULL << 20)
#define BUDGET_MAX		(256ULL << 20)
/* Buffers come in powers of two from this size (the input buffer's:
 * nothing shorter is buffered) up to the largest payload. */
#define BUDGET_BUF_MIN		(256u * 1024)
/* Hosts holding room at once: every holder holds BUDGET_BUF_MIN or
 * more. */
#define BUDGET_HOSTS_MAX	(BUDGET_MAX / BUDGET_BUF_MIN)
/* The longest request a kernel client sends unless told otherwise (the
 * block layer's cap on max_sectors_kb, which nbd devices take since
 * Linux 6.9): room for more is a large payload, from qemu-img, nbdcopy
 * or a tool. Large payloads together leave a quarter of the budget to
 * the others: they may wait minutes for room, each taking its payload
 * over the link at its share, and a Pi's WRITE behind them would fail
 * its kernel's timeout. */
#define BUDGET_KERNEL_MAX	(4ULL << 20)

struct budget_hold {
	struct netaddr host;	/* admission.h's key */
	uint64_t bytes;
};

struct budget {
	uint64_t total;		/* every host together */
	uint64_t host_max;	/* one host */
	uint64_t used;
	uint64_t large_used;	/* of used, by large payloads */
	struct budget_hold hold[BUDGET_HOSTS_MAX];
	size_t nhold;
};

/* A request for room, in a queue in order of arrival. */
struct budget_want {
	struct budget_want *next;
	struct netaddr host;
	uint64_t bytes;
	int granted;
};

/* The budget for a server with ram bytes of memory. */
uint64_t budget_default(uint64_t ram);

/* total, and half of it for one host: one host (-c connections of it)
 * can never make every other wait. total must be at least BUDGET_MIN,
 * at most BUDGET_MAX. */
void budget_init(struct budget *b, uint64_t total);

/* What payloads over BUDGET_KERNEL_MAX may hold together. */
uint64_t budget_large_max(const struct budget *b);

/* The size of buffer, and of room, for a payload of len bytes. */
uint64_t budget_buffer_size(uint64_t len);

/* Grants the queue what it may have now, in order. A request whose host
 * holds its share already waits without holding up the others. The
 * first large payload that does not fit (the budget, or the three
 * quarters of it large ones may hold) holds up the large ones behind it,
 * and lets the others behind it have only the quarter kept for them, so
 * that it is never passed over for ever; the first other one that does
 * not fit holds up everyone behind it. The granted are taken off the
 * queue with granted set: how many. */
int budget_grant(struct budget *b, struct budget_want **queue);

/* Whether a request of bytes can ever be granted. */
int budget_fits(const struct budget *b, uint64_t bytes);

/* Gives back what a granted request held. */
void budget_release(struct budget *b, const struct netaddr *host,
    uint64_t bytes);

#endif
