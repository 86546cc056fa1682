/* layer: pure */
/* Times of the monotonic clock (clock.h) as pure code takes them: numbers
 * of nanoseconds or milliseconds, passed in. Times are compared as
 * differences, so an order holds across the counter's wrap as long as the
 * times compared are within 292 years of each other. */
#ifndef COMMON_MONTIME_H
#define COMMON_MONTIME_H

#include <stdint.h>

#define NS_PER_MS	1000000ULL
#define NS_PER_SEC	1000000000ULL

/* 1 when time a is at or after time b. */
static inline int
time_reached(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) >= 0;
}

#endif
