/* layer: I/O */
/* The suite's one clock: CLOCK_MONOTONIC, read by the I/O layers and
 * passed into pure code as numbers (montime.h), so deadlines, timers and
 * rate limits never follow the wall clock. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>

#include "common/montime.h"

uint64_t monotonic_ns(void);
uint64_t monotonic_ms(void);

#endif
