#include <stdlib.h>

#include "tftpd/sched.h"

/* A running transfer is behind when, at its rate, it would need more
 * than 4/5 of the time its client gives it for what is left. */
#define BEHIND_NUM		5
#define BEHIND_DEN		4
/* A held transfer is let run when, at the rate it would get, it would
 * need more than 2/3 of the time its client still gives it. */
#define MUST_NUM		3
#define MUST_DEN		2
/* A new boot joins the wave only if, with it, each host would still get
 * this many times what the biggest file needs (percent): room for the
 * wave's Pis that go on to their roots (NBD shares the link) and for
 * loss. */
#define ROOM_PCT		160
/* A transfer moving less than this share of the fastest one of the
 * burst (percent) is slowed by the others. */
#define SHARED_PCT		70
/* What a boot is counted on to want, at least, until a bigger file is
 * seen: a Linux kernel is about this big, an initramfs bigger. A rack
 * whose transfers could not each move this much in a Pi's time, with
 * room, is overloaded before its Pis come to their big files. */
#define BIG_PRIOR		(8ULL << 20)
/* A rate means something after this many ticks of running: the first
 * tick of a transfer is only part of one. */
#define SETTLE_TICKS		3
/* The limit moves once a cycle, by what the cycle moved in all. */
#define CYCLE_NS		NS_PER_SEC
/* A step up that moved less than this share of the cycle before it
 * (percent) found the link full. */
#define GAIN_PCT		108
/* A full link is tried with one more this often (cycles). */
#define PROBE_EVERY		5
/* Where the limit starts when transfers begin to contend. */
#define START_LIMIT		2
/* The best cycle forgets by this share a cycle (1/64): a link that got
 * slower for good is believed within a minute or two. */
#define BEST_DECAY		64
/* The biggest file lately is forgotten by this share a cycle (1/600):
 * the next storm's Pis ask for the files this one's did. */
#define BIG_DECAY		600
/* Ticks stopped this long (fewer than two transfers): the next burst
 * starts afresh. */
#define IDLE_NS			(5 * NS_PER_SEC)
/* Nothing held for this long: the overload is over. */
#define CALM_NS			(5 * NS_PER_SEC)

void
sched_init(struct sched *s, uint64_t now)
{
	*s = (struct sched){ .last_ns = now, .cycle_ns = now,
	    .limit = START_LIMIT, .growing = 1 };
}

/* The biggest file a boot is counted on to want. */
static uint64_t
big(const struct sched *s)
{
	return s->big > BIG_PRIOR ? s->big : BIG_PRIOR;
}

/* Whether what a running transfer gets now leaves room for the biggest
 * file to finish in its client's time: then every transfer may run. */
static int
roomy(const struct sched *s)
{
	return (double)s->typical * SCHED_FILE_TIMEOUT_NS / NS_PER_SEC * 100 >=
	    (double)big(s) * ROOM_PCT;
}

static double
secs_until(uint64_t when, uint64_t now)
{
	return time_reached(now, when) ? 0 :
	    (double)(when - now) / NS_PER_SEC;
}

static int
behind(const struct sched_item *it, uint64_t now)
{
	if (it->ticks < SETTLE_TICKS || it->rate == 0)
		return 0;
	return (double)it->rate * secs_until(it->due_ns, now) * BEHIND_DEN <
	    (double)it->left * BEHIND_NUM;
}

/* A held transfer must run now to finish before its client gives up,
 * with a margin, at the rate it would get (est, bytes a second), and it
 * still can: one that cannot, even let run now, would only take the
 * link from the others; it is left to its client's timeout. Or its
 * client has a timer of its own that ran out. */
static int
must_run(const struct sched_item *it, uint64_t est, uint64_t now)
{
	double can;

	if (it->flags & SCHED_IMPATIENT)
		return 1;
	if (est == 0)
		return time_reached(now + SCHED_GUARD_NS, it->due_ns);
	can = (double)est * secs_until(it->due_ns, now);
	if (can < (double)it->left)
		return 0;
	return time_reached(now + SCHED_GUARD_NS, it->due_ns) ||
	    (double)est * secs_until(it->due_ns - SCHED_GUARD_NS, now) *
	    MUST_DEN <= (double)it->left * MUST_NUM;
}

/* Urgent first, then the others; each the oldest boot first. */
static int
order(const void *a, const void *b)
{
	const struct sched_item *x = a, *y = b;
	int ux = (x->flags & SCHED_URGENT) != 0;
	int uy = (y->flags & SCHED_URGENT) != 0;

	if (ux != uy)
		return uy - ux;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->due_ns != y->due_ns)
		return x->due_ns < y->due_ns ? -1 : 1;
	return 0;
}

/* Rates from what each transfer moved since the last tick; the biggest
 * file in sight. */
static void
measure(struct sched *s, struct sched_item *it, size_t n, uint64_t now)
{
	uint64_t dt = now - s->last_ns, rate;

	if (dt == 0)
		dt = 1;
	s->last_ns = now;
	for (size_t i = 0; i < n; i++) {
		s->cycle_bytes += it[i].moved;
		if (it[i].size > s->big)
			s->big = it[i].size;
		if (it[i].flags & SCHED_HELD) {
			/* It keeps the rate it had: what it would get. */
			it[i].ticks = 0;
			continue;
		}
		rate = (uint64_t)((double)it[i].moved * NS_PER_SEC / dt);
		it[i].rate = it[i].ticks == 0 ? rate : (it[i].rate + rate) / 2;
		if (++it[i].ticks >= SETTLE_TICKS && it[i].rate > s->fastest)
			s->fastest = it[i].rate;
	}
}

/* The rate a transfer let run gets now: the median of those running. */
static uint64_t
typical(const struct sched_item *it, size_t n, uint64_t *sample)
{
	size_t m = 0;

	for (size_t i = 0; i < n && m < SCHED_SAMPLE; i++)
		if (!(it[i].flags & SCHED_HELD) && it[i].ticks >= SETTLE_TICKS &&
		    it[i].moved > 0)
			sample[m++] = it[i].rate;
	if (m == 0)
		return 0;
	/* Insertion sort: a sample is small. */
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && sample[j - 1] > sample[j]; j--) {
			uint64_t x = sample[j];

			sample[j] = sample[j - 1];
			sample[j - 1] = x;
		}
	return sample[m / 2];
}

/* Whether the link has room for a file of size bytes when it is shared
 * out to hosts hosts: each would get the best the link moved, shared,
 * and that must leave room (ROOM_PCT) for the file to finish in its
 * client's time. The link is shared per host (a switch port's, a NIC's
 * queueing), so the hosts that share it are counted from what one
 * running transfer gets of it: that counts the Pis that went on to their
 * roots too. */
static int
room(const struct sched *s, double hosts, uint64_t size)
{
	double need = (double)size * NS_PER_SEC / SCHED_FILE_TIMEOUT_NS;

	if (s->best == 0)
		return 1;	/* nothing measured yet: the limit decides */
	return (double)s->best / hosts * 100 >= need * ROOM_PCT;
}

/* What the cycle now ending moved, bytes a second; the best lately. Only
 * a cycle with more to send than it sent says the link can do less. */
static uint64_t
cycle_rate(struct sched *s, uint64_t now)
{
	uint64_t len = now - s->cycle_ns;
	uint64_t moved = (uint64_t)((double)s->cycle_bytes * NS_PER_SEC /
	    (len ? len : 1));

	if (moved >= s->best)
		s->best = moved;
	else if (s->cycle_waiting && (s->best -= s->best / BEST_DECAY) < moved)
		s->best = moved;
	return moved;
}

/* The end of a cycle: the limit follows what the link moved. Fewer run
 * while one of them falls behind its deadline. While some wait: more,
 * doubling at first, as long as each step up moves clearly more than
 * the cycle before it; a step that did not is taken back, and tried
 * again some cycles later (the link may have room again). */
static void
end_cycle(struct sched *s, uint64_t now, unsigned running)
{
	uint64_t moved = cycle_rate(s, now);
	unsigned step = s->limit / 4 > 1 ? s->limit / 4 : 1;
	int up = 0;

	s->big -= s->big / BIG_DECAY;
	if (s->limit > running + 1)
		s->limit = running + 1;	/* more than could run */
	/* Behind through most of the cycle, not for a tick or two: the
	 * clients share this machine's CPU, and their rates stutter. */
	if (s->cycle_lagging * 2 > s->cycle_ticks) {
		s->limit = s->limit > step ? s->limit - step : 1;
		s->growing = 0;
	} else if (s->cycle_waiting) {
		if (s->probed > 0) {
			if (moved * 100 >= s->last_moved * GAIN_PCT)
				up = 1;
			else {
				/* It filled before: take the step back. */
				s->limit = s->limit > s->probed ?
				    s->limit - s->probed : 1;
				s->growing = 0;
			}
		} else if (++s->quiet >= PROBE_EVERY)
			up = 1;
	}
	s->probed = 0;
	if (up) {
		s->probed = s->growing && s->limit / 2 > step ?
		    s->limit / 2 : step;
		s->limit += s->probed;
		s->quiet = 0;
	}
	/* Never fewer than it takes to fill the link, each moving what the
	 * fastest did, and one more: one lock-step transfer cannot fill a
	 * fast link, and a Pi's transfers have their gaps (the next
	 * request, its OACK) between them. */
	if (s->cycle_waiting && s->fastest > 0 && s->limit < s->best /
	    s->fastest + 2)
		s->limit = (unsigned)(s->best / s->fastest + 2);
	s->last_moved = moved;
	s->cycle_ns = now;
	s->cycle_bytes = 0;
	s->cycle_lagging = s->cycle_ticks = 0;
	s->cycle_waiting = 0;
}

int
sched_tick(struct sched *s, struct sched_item *it, size_t n, uint64_t now)
{
	uint64_t est, typ;
	unsigned let = 0;
	int lagging = 0;
	double hosts;
	int changed = 0;
	size_t i;

	if (now - s->last_ns > IDLE_NS) {
		/* A new burst: nothing is known of it but the files the
		 * last one's boots wanted. */
		uint64_t seen = s->big;

		sched_init(s, now - SCHED_TICK_NS);
		s->big = seen;
	}
	measure(s, it, n, now);
	if ((typ = typical(it, n, s->sample)) > 0)
		s->typical = typ;
	if (!s->overloaded) {
		/* Every transfer runs, as it always did, while each gets
		 * enough for a big file to finish in time. */
		s->held = s->urgent = 0;
		for (i = 0; i < n; i++)
			it[i].run = 1;
		if (now - s->cycle_ns < CYCLE_NS)
			return 0;
		cycle_rate(s, now);
		s->cycle_ns = now;
		s->cycle_bytes = 0;
		if (typ == 0 || roomy(s))
			return 0;
		/* Too many for the link: waves, from the oldest boot. No
		 * boot is in a wave yet; those sending finish their file. */
		s->overloaded = 1;
		s->calm_ns = now;
		s->limit = START_LIMIT;
		s->growing = 1;
		s->fastest = 0;
		s->probed = s->quiet = 0;
		s->fresh = 1;
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!(it[i].flags & SCHED_HELD))
			continue;
		/* What it would get: what it got when it ran, if less. */
		est = s->typical;
		if (it[i].rate > 0 && it[i].rate < est)
			est = it[i].rate;
		if (must_run(&it[i], est, now))
			it[i].flags |= SCHED_URGENT;
	}
	qsort(it, n, sizeof(*it), order);

	/* Those already sending take their places first: a file once begun
	 * runs to its end (held halfway, it would need more of the link
	 * later, when its client has less time left). One whose client
	 * stopped answering takes none. */
	s->held = s->urgent = 0;
	for (i = 0; i < n; i++) {
		struct sched_item *x = &it[i];

		if (x->flags & SCHED_HOLDABLE)
			continue;
		x->run = 1;
		/* Its boot stays in the wave, or was among the oldest when
		 * the waves began. */
		if ((x->flags & SCHED_WAVE) || (s->fresh && let < s->limit))
			x->flags |= SCHED_MEMBER;
		if (!time_reached(now, x->due_ns) &&
		    (x->ticks < SETTLE_TICKS || x->moved > 0)) {
			let++;
			/* Fewer let run help it only if sharing is what
			 * slows it. */
			if (behind(x, now) &&
			    x->rate * 100 < s->fastest * SHARED_PCT)
				lagging = 1;
		}
	}
	/* The hosts the link is shared out to now, at least those sending. */
	hosts = s->typical > 0 ? (double)s->best / s->typical : 0;
	if (hosts < let)
		hosts = let;
	/* Then those waiting to begin, in order, while there is room: a
	 * boot of the wave goes on if the share its host gets has room for
	 * this file; a new one joins the wave only if, with one host more,
	 * each would still have room for the biggest file lately (it will
	 * want one). One whose client has not answered its OACK yet waits
	 * for the answer and takes no place (a host that asks and vanishes
	 * gets none). */
	for (i = 0; i < n; i++) {
		struct sched_item *x = &it[i];
		int joins = !(x->flags & SCHED_WAVE);

		if (!(x->flags & SCHED_HOLDABLE))
			continue;
		if (x->flags & SCHED_UNANSWERED) {
			x->run = 0;
			continue;
		}
		if (time_reached(now, x->due_ns)) {
			/* Its client has given up, or has no such deadline:
			 * it runs, in no one's place. */
			x->run = 1;
			continue;
		}
		/* With nothing running, the link has room whatever was
		 * measured before. */
		x->run = (x->flags & SCHED_URGENT) || let == 0 ||
		    (let < s->limit && (joins ? room(s, hosts + 1, big(s)) :
		    room(s, hosts > 1 ? hosts : 1, x->size)));
		if (!x->run) {
			s->held++;
			s->cycle_waiting = 1;
			continue;
		}
		if (x->flags & SCHED_URGENT)
			s->urgent++;
		else
			x->flags |= SCHED_MEMBER;
		let++;
		hosts += joins;
	}
	s->fresh = 0;
	s->cycle_ticks++;
	s->cycle_lagging += lagging;
	if (now - s->cycle_ns >= CYCLE_NS)
		end_cycle(s, now, let);
	if (s->held > 0 || !roomy(s))
		s->calm_ns = now;
	else if (now - s->calm_ns >= CALM_NS) {
		/* Nothing held for a while, and room: all run again. */
		s->overloaded = 0;
		s->cycle_ns = now;
		s->cycle_bytes = 0;
		changed = 1;
	}
	return changed;
}
