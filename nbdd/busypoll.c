/* The adaptive polling window (see busypoll.h): pure arithmetic, no
 * clock and no socket, so the unit tests drive it directly. */
#include "nbdd/busypoll.h"

void
busypoll_init(struct busypoll *bp)
{
	bp->window_ns = BUSYPOLL_MIN_NS;
}

void
busypoll_slept(struct busypoll *bp, int64_t slept_ns)
{
	/* The gap between requests was window + slept; compared without
	 * the sum, which a wild clock reading could overflow. */
	if (slept_ns <= BUSYPOLL_MAX_NS - bp->window_ns) {
		/* The request came soon after we gave up: a longer window
		 * would have caught it. */
		bp->window_ns = bp->window_ns < BUSYPOLL_MIN_NS ?
		    BUSYPOLL_MIN_NS : bp->window_ns * 2;
		if (bp->window_ns > BUSYPOLL_MAX_NS)
			bp->window_ns = BUSYPOLL_MAX_NS;
	} else {
		/* A real pause: polling through it would be wasted. */
		bp->window_ns /= 2;
		if (bp->window_ns < BUSYPOLL_MIN_NS)
			bp->window_ns = 0;
	}
}
