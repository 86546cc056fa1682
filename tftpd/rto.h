/* layer: pure */
/* A retransmission timer that follows a client's measured round trip, in
 * the style of RFC 6298: smoothed RTT and RTT variance from samples of
 * exchanges that were sent once (Karn's algorithm), RTO = SRTT + 4 RTTVAR
 * held between a floor and a ceiling, doubled on each consecutive
 * timeout. Pure arithmetic: times are nanoseconds of a monotonic clock,
 * passed in by the caller; nothing here reads a clock. */
#ifndef TFTPD_RTO_H
#define TFTPD_RTO_H

#include <stdint.h>

#include "common/montime.h"

/* The floor covers what the estimator cannot see: the event loop wakes
 * with millisecond granularity, and a client's answer can be late by a
 * scheduler's time slice now and then. It is far below TCP's: TCP's
 * floor is there for delayed ACKs, and a TFTP client ACKs every block at
 * once. A timer that fires too early costs one duplicate block, which the
 * client ACKs again and tftpd ignores; one that fires too late stalls the
 * client for the whole wait, so the floor stays close to the granularity. */
#define RTO_FLOOR_NS		(2 * NS_PER_MS)
/* The ceiling is the fixed timer tftpd used before it measured: backed
 * off as far as it goes, a transfer never waits longer between tries
 * than it always did, and a client back from a pause is served again
 * within a second. No LAN round trip comes near it. */
#define RTO_CEILING_NS		NS_PER_SEC
/* A peer with no estimate: far above any LAN round trip (and above the
 * time a client takes to open its output file), so the first exchange is
 * normally measured rather than resent, yet a lost first packet costs a
 * fraction of the old fixed second. A Pi pays it once: its next requests
 * start from what its first one measured. */
#define RTO_INITIAL_NS		(200 * NS_PER_MS)
/* Doublings beyond this cannot matter: the floor doubled this often is
 * past the ceiling. Bounds the shift. */
#define RTO_BACKOFF_MAX		16

/* What a transfer knows of its client's round trip. */
struct rto_estimate {
	uint64_t srtt_ns;	/* smoothed round-trip time */
	uint64_t rttvar_ns;	/* its mean deviation */
};

struct rto {
	struct rto_estimate est;
	int have_estimate;	/* est holds a sample or a seed */
	unsigned backoff;	/* doublings since the last clean sample */
};

/* Starts from a remembered estimate (seed), or with no estimate (seed
 * NULL): RTO_INITIAL_NS until the first sample. */
void rto_init(struct rto *r, const struct rto_estimate *seed);

/* A round trip measured on an exchange that was sent once: updates SRTT
 * and RTTVAR (the first sample sets SRTT to it and RTTVAR to half of it)
 * and ends any backoff, since the estimate now reflects the path again.
 * The caller never passes a sample from a retransmitted exchange (Karn):
 * whose answer it got, the first send's or the resend's, is unknown. */
void rto_sample(struct rto *r, uint64_t rtt_ns);

/* A timeout: the next wait is twice as long, up to the ceiling. The
 * doubling holds for the exchanges after this one until rto_sample: a
 * client whose round trip really grew is then measured again instead of
 * being resent to at the old pace forever. */
void rto_backoff(struct rto *r);

/* The wait before a retransmission: SRTT + 4 RTTVAR (RTO_INITIAL_NS with
 * no estimate) between the floor and the ceiling, doubled per backoff,
 * never above the ceiling. */
uint64_t rto_timeout(const struct rto *r);

/* The same with a higher floor, min_ns, for an exchange whose answer
 * takes the client more than a round trip. */
uint64_t rto_timeout_atleast(const struct rto *r, uint64_t min_ns);

#endif
