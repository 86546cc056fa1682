/* layer: pure */
/* A token bucket for log lines that a remote host can cause: a scan or a
 * flood gets a few lines and a count, never a full disk. Pure: the caller
 * passes the time. */
#ifndef COMMON_RATELIMIT_H
#define COMMON_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_BURST		10	/* lines at once */
#define RATELIMIT_PER_MIN	30	/* then this many a minute */

/* A zeroed bucket allows RATELIMIT_BURST lines at once, then
 * RATELIMIT_PER_MIN a minute; ratelimit_init sets other figures. */
struct ratelimit {
	uint32_t burst;		/* 0: RATELIMIT_BURST */
	uint32_t per_min;	/* 0: RATELIMIT_PER_MIN */
	uint64_t last_ms;
	uint64_t tokens;	/* 1/60000 of a line each */
	uint32_t suppressed;	/* lines not logged since the last one */
	int started;
};

/* An empty history and a bucket of burst lines at once, then per_min a
 * minute (each at least 1). */
void ratelimit_init(struct ratelimit *rl, uint32_t burst, uint32_t per_min);

/* Whether a line may be logged now. When it may, *suppressed is how many
 * were held back since the last line that was logged (and the count starts
 * again); otherwise the line is counted as held back. */
int ratelimit_take(struct ratelimit *rl, uint64_t now_ms,
    uint32_t *suppressed);

#endif
