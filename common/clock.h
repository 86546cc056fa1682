/* The suite's one clock: CLOCK_MONOTONIC, read by the I/O layers and
 * passed into pure code as numbers, so deadlines, timers and rate limits
 * never follow the wall clock. Times are compared as differences, so an
 * order holds across the counter's wrap as long as the times compared are
 * within 292 years of each other. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>

#define NS_PER_MS	1000000ULL
#define NS_PER_SEC	1000000000ULL

uint64_t monotonic_ns(void);
uint64_t monotonic_ms(void);

/* 1 when time a is at or after time b. */
static inline int
time_reached(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) >= 0;
}

#endif
