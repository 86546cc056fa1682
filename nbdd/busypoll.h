/* Polling a connection's socket for a few microseconds before sleeping on
 * it, with a window that adapts to the client.
 *
 * A client that keeps requests in flight sends the next one a few
 * microseconds after it reads our last reply. If we are asleep in recv()
 * by then, its send() must wake us: the wakeup runs inside the client's
 * send() (tcp_data_queue -> sock_def_readable -> try_to_wake_up), so on
 * loopback, in a virtual machine or on any shared host the client, usually
 * the slower side, pays for our scheduling on every request. Polling a
 * little first keeps us off the socket's wait queue while requests come
 * quickly, and answers them sooner.
 *
 * The window adapts as the kernel's haltpoll cpuidle governor does: a sleep
 * that ended soon after polling gave up grows it, a long one (an idle or a
 * distant client) shrinks it towards nothing, so a client that sends one
 * request now and then costs no polling at all. */
#ifndef NBDD_BUSYPOLL_H
#define NBDD_BUSYPOLL_H

#include <stdint.h>

#define BUSYPOLL_MIN_NS		5000	/* the smallest window worth it */
#define BUSYPOLL_MAX_NS		50000	/* the longest gap polled through */

struct busypoll {
	int64_t window_ns;	/* poll this long before sleeping; 0: don't */
};

void busypoll_init(struct busypoll *bp);

/* Polling for the window found nothing, and the sleep after it lasted
 * slept_ns until the next request came: adapt the window. */
void busypoll_slept(struct busypoll *bp, int64_t slept_ns);

#endif
