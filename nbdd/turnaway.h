/* layer: I/O */
/* Hosts outside the allowed networks (-A), told why from the main loop:
 * no worker thread, no slot of -m or -c. Each socket is read and written
 * without ever blocking the loop; what to answer is refusal.c's. A host
 * has until its deadline (a few seconds) to read why, then it is closed.
 * admission.h bounds how many there are, in all and per host. Owned by
 * the main loop's thread. */
#ifndef NBDD_TURNAWAY_H
#define NBDD_TURNAWAY_H

#include <poll.h>
#include <stdint.h>

#include "common/allow.h"
#include "nbdd/admission.h"
#include "nbdd/claim.h"
#include "nbdd/refusal.h"

struct turnaway {
	int fd;				/* -1: a free slot */
	int64_t deadline;
	struct netaddr host;		/* admission.h's key */
	char peer[CLAIM_HOST_MAX + 8];	/* for log lines */
	struct refusal talk;
};

struct turnaways {
	struct turnaway slot[ADM_REFUSING_MAX];
	int n;				/* slots in use */
};

void turnaways_init(struct turnaways *t);

/* Starts telling the host on fd why it is refused: the greeting goes out
 * now. From here fd is the turnaway's, closed when the talk is over. addr
 * is the host's address as the refusal names it. 0, or -1 (logged, fd
 * closed) when no slot is free or the greeting cannot be sent. */
int turnaway_start(struct turnaways *t, int fd, const struct netaddr *host,
    const char *addr, const char *peer, int64_t deadline);

/* How many are from host (admission.h's key). */
int turnaway_count(const struct turnaways *t, const struct netaddr *host);

/* A pollfd for each, into pfd (room for ADM_REFUSING_MAX): how many.
 * Give the same entries back to turnaway_events after poll, before any
 * turnaway is started. */
int turnaway_pollfds(const struct turnaways *t, struct pollfd *pfd);

/* Reads and answers what arrived, and closes those that are over or past
 * their deadline. */
void turnaway_events(struct turnaways *t, const struct pollfd *pfd, int n,
    int64_t now_ms);

/* Milliseconds until the next deadline, or -1 when there is none. */
int turnaway_timeout(const struct turnaways *t, int64_t now_ms);

/* Closes every one (at shutdown). */
void turnaways_close(struct turnaways *t);

#endif
