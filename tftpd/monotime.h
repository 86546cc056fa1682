/* Times in tftpd: nanoseconds of CLOCK_MONOTONIC, read once by the I/O
 * layer (udp.c) and passed into the pure code. Compared as differences,
 * so an order holds across the counter's wrap as long as the times
 * compared are within 292 years of each other. */
#ifndef TFTPD_MONOTIME_H
#define TFTPD_MONOTIME_H

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
