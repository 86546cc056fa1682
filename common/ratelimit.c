#include <string.h>

#include "ratelimit.h"

/* Tokens count a line as 60000 units, so a minute's refill of PER_MIN
 * lines is exactly PER_MIN units a millisecond, with nothing lost to
 * rounding however often the bucket is asked. */
#define LINE	60000u

void
ratelimit_init(struct ratelimit *rl, uint32_t burst, uint32_t per_min)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst = burst > 0 ? burst : 1;
	rl->per_min = per_min > 0 ? per_min : 1;
}

int
ratelimit_take(struct ratelimit *rl, uint64_t now_ms, uint32_t *suppressed)
{
	const uint64_t per_min = rl->per_min ? rl->per_min : RATELIMIT_PER_MIN;
	const uint64_t full = (uint64_t)(rl->burst ? rl->burst :
	    RATELIMIT_BURST) * LINE;

	if (!rl->started) {
		rl->started = 1;
		rl->tokens = full;
		rl->last_ms = now_ms;
	}
	/* A clock that went backwards adds nothing; a long pause fills the
	 * bucket, never past full, and never overflows. */
	if (now_ms > rl->last_ms) {
		uint64_t gap = now_ms - rl->last_ms;

		if (gap >= full / per_min)
			rl->tokens = full;
		else if ((rl->tokens += gap * per_min) > full)
			rl->tokens = full;
		rl->last_ms = now_ms;
	}
	if (rl->tokens < LINE) {
		if (rl->suppressed < UINT32_MAX)
			rl->suppressed++;
		return 0;
	}
	rl->tokens -= LINE;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
