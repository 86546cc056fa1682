#include <time.h>

#include "clock.h"

uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
monotonic_ms(void)
{
	return monotonic_ns() / NS_PER_MS;
}
