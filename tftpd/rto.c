#include <string.h>

#include "tftpd/rto.h"

void
rto_init(struct rto *r, const struct rto_estimate *seed)
{
	memset(r, 0, sizeof(*r));
	if (seed != NULL) {
		r->est = *seed;
		r->have_estimate = 1;
	}
}

void
rto_sample(struct rto *r, uint64_t rtt_ns)
{
	struct rto_estimate *e = &r->est;
	uint64_t delta;

	/* No LAN round trip is near this; a sample this large is a clock
	 * gone wrong, and keeping it bounded keeps the sums below from
	 * overflowing. */
	if (rtt_ns > RTO_CEILING_NS * 64)
		rtt_ns = RTO_CEILING_NS * 64;
	if (!r->have_estimate) {
		e->srtt_ns = rtt_ns;
		e->rttvar_ns = rtt_ns / 2;
		r->have_estimate = 1;
	} else {
		/* RTTVAR first: it measures the sample against the SRTT
		 * that predicted it. Gains 1/4 and 1/8 (RFC 6298). */
		delta = e->srtt_ns > rtt_ns ? e->srtt_ns - rtt_ns :
		    rtt_ns - e->srtt_ns;
		e->rttvar_ns = (3 * e->rttvar_ns + delta) / 4;
		e->srtt_ns = (7 * e->srtt_ns + rtt_ns) / 8;
	}
	r->backoff = 0;
}

void
rto_backoff(struct rto *r)
{
	if (r->backoff < RTO_BACKOFF_MAX)
		r->backoff++;
}

uint64_t
rto_timeout_atleast(const struct rto *r, uint64_t min_ns)
{
	uint64_t t;

	if (r->have_estimate)
		t = r->est.srtt_ns + 4 * r->est.rttvar_ns;
	else
		t = RTO_INITIAL_NS;
	if (t < RTO_FLOOR_NS)
		t = RTO_FLOOR_NS;
	if (t < min_ns)
		t = min_ns;
	if (t > RTO_CEILING_NS)
		t = RTO_CEILING_NS;
	t <<= r->backoff;
	return t > RTO_CEILING_NS ? RTO_CEILING_NS : t;
}

uint64_t
rto_timeout(const struct rto *r)
{
	return rto_timeout_atleast(r, RTO_FLOOR_NS);
}
