#include <stdlib.h>

#include "tftpd/sched.h"

/* Room: what one host gets must be this many times what the biggest
 * file needs to come in its client's time (percent), for the waves to
 * end, and for a new boot to join one: room for loss, for a busy
 * machine, for the wave's Pis gone on to their roots over NBD. */
#define ROOM_PCT		160
/* A new boot joins the wave only while what a running transfer gets
 * would bring the biggest file in this many times over (percent): the
 * wave's boots gone on to their roots over NBD take their share of the
 * link after it joins. */
#define SHARE_PCT		130
/* A file no bigger than this part of the biggest is a small one. */
#define SMALL_PART		8
/* What a boot is counted on to want, at least, until a bigger file is
 * seen: a Linux kernel is about this big, an initramfs bigger. A rack
 * whose transfers could not each move this much in a Pi's time, with
 * room, is overloaded before its Pis come to their big files. */
#define BIG_PRIOR		(8ULL << 20)
/* A file bigger than this beside a boot's is not one a Pi loads in its
 * time (no kernel or initramfs is near it): something else kept in the
 * boot partition, a backup or an image, that no boot asks for. */
#define SEEN_MAX		(256ULL << 20)
/* A rate means something after this many ticks of running: the first
 * tick of a transfer is only part of one. */
#define SETTLE_TICKS		3
/* The wave's size and the link's best move once a cycle. */
#define CYCLE_NS		NS_PER_SEC
/* The wave's size when the waves begin before the link was measured. */
#define START_LIMIT		2
/* The best cycle forgets by this share a cycle (1/64) through which a
 * running transfer got too little: a link that got slower for good is
 * believed within a minute or two. */
#define BEST_DECAY		64
/* The biggest file lately is forgotten by this share a cycle (1/600):
 * the next storm's Pis ask for the files this one's did. */
#define BIG_DECAY		600
/* Ticks stopped this long (fewer than two transfers): the next burst
 * starts afresh. */
#define IDLE_NS			(5 * NS_PER_SEC)
/* Nothing held, and room, for this long: the waves are over. */
#define CALM_NS			(5 * NS_PER_SEC)

void
sched_init(struct sched *s, uint64_t now)
{
	*s = (struct sched){ .last_ns = now, .cycle_ns = now,
	    .limit = START_LIMIT };
}

void
sched_boot_seen(struct sched *s, uint64_t beside)
{
	if (beside <= SEEN_MAX && beside > s->big)
		s->big = beside;
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

/* A small file takes little any other would miss: one the link moves in
 * a tick (a Pi's config.txt, its device tree), or a small part of the
 * biggest (its start4.elf beside an initramfs). A boot parked outside
 * the wave is let have it at its latest: a Pi that came to its
 * start4.elf only once the waves began has no smaller file before it
 * to wait at. */
static int
small(const struct sched *s, const struct sched_item *x)
{
	return (double)x->left <=
	    (double)s->best * SCHED_TICK_NS / NS_PER_SEC ||
	    x->left <= big(s) / SMALL_PART;
}

/* Which held transfers of boots outside the wave run now. Such a boot
 * is parked: each request it makes is answered at its latest, and a
 * small file let run then, so that the boot waits (up to its client's
 * time at each small file) without failing, until the wave has room
 * for it. A small file's latest leaves it the guard and the time it
 * needs, with room, at the share of the link one more of hosts would
 * get; the latest of a request for a big file leaves the guard alone.
 * A big file of such a boot waits for the boot to join the wave, or is
 * left to its client's timeout: let run beside the wave, a crowd of
 * boots parked at the same files would come to their kernels and
 * initramfs together, more than the link can carry in their time, and
 * all fail together. A request not answered yet waits at its latest whatever
 * the file: its first block waits again for the same decision; one
 * whose client has asked for another file since is answered at once
 * (a host that asks for many and vanishes holds none of them for long).
 * One whose client resent its ACK has a timer of its own: it runs. */
static void
urgency(const struct sched *s, struct sched_item *it, size_t n,
    double hosts, uint64_t now)
{
	double guard = (double)SCHED_GUARD_NS / NS_PER_SEC;
	double share = (double)s->best / (hosts + 1);

	for (size_t i = 0; i < n; i++) {
		struct sched_item *x = &it[i];

		x->flags &= ~SCHED_DOOMED;
		if ((x->flags & (SCHED_HOLDABLE | SCHED_HELD |
		    SCHED_UNANSWERED)) != (SCHED_HOLDABLE | SCHED_HELD))
			continue;
		if ((x->flags & SCHED_IMPATIENT) || (x->flags &
		    (SCHED_ASKED | SCHED_SUPERSEDED)) ==
		    (SCHED_ASKED | SCHED_SUPERSEDED))
			x->flags |= SCHED_URGENT;
		if (x->flags & SCHED_WAVE)
			continue;
		if (!small(s, x)) {
			if (!(x->flags & SCHED_ASKED))
				x->flags |= SCHED_DOOMED;
			else if (secs_until(x->due_ns, now) <= guard)
				x->flags |= SCHED_URGENT;
		} else if (secs_until(x->due_ns, now) <= guard + (share > 0 ?
		    (double)x->left * ROOM_PCT / 100 / share : 0))
			x->flags |= SCHED_URGENT;
	}
}

/* Urgent first; then the big files of boots outside the wave, which
 * fail unless their boot joins (the others can wait at their small
 * files); then the others; each the oldest boot first. */
static int
order(const void *a, const void *b)
{
	const struct sched_item *x = a, *y = b;
	int ux = (x->flags & SCHED_URGENT) != 0;
	int uy = (y->flags & SCHED_URGENT) != 0;
	int dx = (x->flags & SCHED_DOOMED) != 0;
	int dy = (y->flags & SCHED_DOOMED) != 0;

	if (ux != uy)
		return uy - ux;
	if (dx != dy)
		return dy - dx;
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
	s->flow = 0;
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
		it[i].ticks++;
		if (it[i].moved > 0)
			s->flow += it[i].rate;
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
 * and that must leave room for the file to finish in its client's
 * time. */
static int
room(const struct sched *s, double hosts, uint64_t size)
{
	double need = (double)size * NS_PER_SEC / SCHED_FILE_TIMEOUT_NS;

	if (s->best == 0)
		return 1;	/* nothing measured yet: the limit decides */
	return (double)s->best / hosts * 100 >= need * ROOM_PCT;
}

/* Whether what a running transfer gets now would still bring the
 * biggest file in, in its client's time less the guard, with room: when
 * the Pis gone on to their roots over NBD (unseen here) crowd the link,
 * it would not, and a new boot waits. Nothing running: nothing says
 * no. */
static int
shares_enough(const struct sched *s)
{
	return s->typical == 0 ||
	    (double)s->typical * (SCHED_FILE_TIMEOUT_NS - SCHED_GUARD_NS) /
	    NS_PER_SEC * 100 >= (double)big(s) * SHARE_PCT;
}

/* Whether x, shared the link with hosts hosts, would still finish in its
 * client's time less the guard, with room: a boot that joins the wave
 * at a file it can no longer bring in takes a place to fail. */
static int
in_time(const struct sched *s, const struct sched_item *x, double hosts,
    uint64_t now)
{
	double left_s = secs_until(x->due_ns, now) -
	    (double)SCHED_GUARD_NS / NS_PER_SEC;

	if (s->best == 0)
		return 1;
	return left_s * (double)s->best / hosts * 100 >=
	    (double)x->left * ROOM_PCT;
}

/* The link's best lately, from what the cycle now ending moved, bytes a
 * second, or the transfers at its end if more (the first cycle of a
 * storm is mostly its start). Only a cycle through which a running
 * transfer got too little (crowded) says the link can do less: the wave
 * leaves the link short by design at times (its boots between files,
 * at their roots over NBD). */
static void
best_lately(struct sched *s, int crowded, uint64_t now)
{
	uint64_t len = now - s->cycle_ns;
	uint64_t moved = (uint64_t)((double)s->cycle_bytes * NS_PER_SEC /
	    (len ? len : 1));

	if (s->flow > moved)
		moved = s->flow;
	if (moved >= s->best)
		s->best = moved;
	else if (crowded && (s->best -= s->best / BEST_DECAY) < moved)
		s->best = moved;
}

/* How many boots the link, at its best lately, carries with room for
 * the biggest file each in its client's time less the guard: the most
 * a wave may hold, whatever one transfer's rate says (under loss a lone
 * transfer is slow for its retransmissions, not for want of a share,
 * and would make the link look emptier than it is). 0 when nothing was
 * measured yet. */
static unsigned
room_cap(const struct sched *s)
{
	double n;

	if (s->best == 0)
		return 0;
	n = (double)s->best * (SCHED_FILE_TIMEOUT_NS - SCHED_GUARD_NS) /
	    NS_PER_SEC * 100 / ((double)big(s) * ROOM_PCT);
	return n < 1 ? 1 : n > 1e6 ? 1000000 : (unsigned)n;
}

/* The wave's size: as many boots as the link has room for. Not fewer
 * for a boot of the wave that falls behind: under loss a lock-step
 * transfer does, however few share the link. */
static unsigned
wave_size(const struct sched *s)
{
	unsigned cap = room_cap(s);

	return cap > 0 ? cap : START_LIMIT;
}

/* The end of a cycle. */
static void
end_cycle(struct sched *s, uint64_t now)
{
	/* Through most of the cycle, not for a tick or two: the clients
	 * share this machine's CPU, and their rates stutter. */
	best_lately(s, s->cycle_crowded * 2 > s->cycle_ticks, now);
	s->big -= s->big / BIG_DECAY;
	s->limit = wave_size(s);
	s->cycle_ns = now;
	s->cycle_bytes = 0;
	s->cycle_crowded = s->cycle_ticks = 0;
}

/* Boots in the wave now: those whose transfers carry SCHED_WAVE, each
 * counted once. */
static unsigned
wave_boots(const struct sched_item *it, size_t n)
{
	unsigned w = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!(it[i].flags & SCHED_WAVE))
			continue;
		for (j = 0; j < i; j++)
			if ((it[j].flags & SCHED_WAVE) && it[j].key == it[i].key)
				break;
		w += j == i;
	}
	return w;
}

/* Whether a boot may join the wave now: the wave has a place, and a
 * boot joined no sooner than the link takes to move the biggest file.
 * Joined all at once, the boots of a wave would come to their big files
 * and leave for their roots together; and what one transfer gets says
 * how many share the link only once the last to join are moving. */
static int
paced(const struct sched *s, uint64_t now)
{
	return s->best == 0 || !s->joined ||
	    (double)(now - s->joined_ns) * (double)s->best >=
	    (double)big(s) * NS_PER_SEC;
}

int
sched_measures(const struct sched *s, uint64_t now)
{
	return now - s->last_ns >= SCHED_TICK_NS;
}

int
sched_tick(struct sched *s, struct sched_item *it, size_t n, uint64_t now)
{
	uint64_t typ = 0;
	int measures = sched_measures(s, now);
	unsigned let = 0, wave;
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
	if (measures) {
		measure(s, it, n, now);
		if ((typ = typical(it, n, s->sample)) > 0)
			s->typical = typ;
	}
	if (!s->overloaded) {
		/* Every transfer runs, as it always did, while each gets
		 * enough for a big file to finish in time. */
		s->held = s->urgent = 0;
		for (i = 0; i < n; i++)
			it[i].run = 1;
		if (!measures || now - s->cycle_ns < CYCLE_NS)
			return 0;
		best_lately(s, 0, now);
		s->cycle_ns = now;
		s->cycle_bytes = 0;
		if (typ == 0 || roomy(s))
			return 0;
		/* Too many for the link: waves, from the oldest boot. No
		 * boot is in a wave yet; those sending finish their file. */
		s->overloaded = 1;
		s->calm_ns = now;
		s->joined = 0;
		/* As many as the link has room for, the biggest file known
		 * beforehand (sched_boot_seen). */
		s->limit = wave_size(s);
		return 1;
	}
	/* Those already sending take their places first: a file once begun
	 * runs to its end (held halfway, it would need more of the link
	 * later, when its client has less time left). One whose client
	 * stopped answering takes none. */
	s->held = s->urgent = 0;
	wave = wave_boots(it, n);
	for (i = 0; i < n; i++) {
		struct sched_item *x = &it[i];

		if (x->flags & SCHED_HOLDABLE)
			continue;
		x->run = 1;
		/* Its boot stays in the wave. When the waves begin, no boot
		 * is in one: the files begun before run their course, and
		 * boots join as what one transfer gets leaves room. */
		if (x->flags & SCHED_WAVE)
			x->flags |= SCHED_MEMBER;
		if (!time_reached(now, x->due_ns) &&
		    (x->ticks < SETTLE_TICKS || x->moved > 0))
			let++;
	}
	/* The hosts the link is shared out to (a switch port's, a NIC's
	 * queueing shares it per host): those sending, and the boots of the
	 * wave between their files. Not counted from what one transfer
	 * gets: a lock-step transfer is slow for its round trip or its
	 * losses as much as for want of a share, and its rate would fill
	 * the link with hosts that are not there. The Pis gone on to their
	 * roots over NBD share it too, unseen: what one transfer gets says
	 * when they crowd it (shares_enough). */
	hosts = let > wave ? let : wave;
	urgency(s, it, n, hosts, now);
	qsort(it, n, sizeof(*it), order);
	/* Then those waiting to begin, in order. A boot of the wave goes
	 * on at once: the wave's size leaves each of its boots room for its
	 * biggest file. Another joins the wave while it has a place, paced,
	 * if with one host more each would still have room for the biggest
	 * file, what one transfer gets still brings it in, and its own file
	 * would still come in time; or it waits, parked (urgency). One
	 * whose client has not answered its OACK yet waits for the
	 * answer. */
	for (i = 0; i < n; i++) {
		struct sched_item *x = &it[i];
		int asked = (x->flags & SCHED_ASKED) != 0;

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
		x->run = (x->flags & (SCHED_URGENT | SCHED_WAVE)) ||
		    (wave < s->limit && ((wave == 0 && let == 0) ||
		    (paced(s, now) && room(s, hosts + 1, big(s)) &&
		    shares_enough(s) && in_time(s, x, hosts + 1, now))));
		if (!x->run) {
			s->held++;
			continue;
		}
		if (!asked)
			let++;
		if (x->flags & SCHED_URGENT)
			s->urgent++;
		else if (x->flags & SCHED_WAVE)
			x->flags |= SCHED_MEMBER;
		else if (!asked) {
			/* It joins. A request is only answered: its boot
			 * joins at the file's first block, if it still may
			 * then (a host that asks and never answers the OACK
			 * takes no place). */
			x->flags |= SCHED_MEMBER;
			s->joined = 1;
			s->joined_ns = now;
			wave++;
			hosts++;
		}
	}
	if (measures) {
		s->cycle_ticks++;
		s->cycle_crowded += !shares_enough(s);
		if (now - s->cycle_ns >= CYCLE_NS)
			end_cycle(s, now);
	}
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
