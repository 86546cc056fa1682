#include <stdlib.h>

#include "tftpd/sched.h"

/* A running transfer is behind when, at its rate, it would need more
 * than 4/5 of the time its client gives it for what is left. */
#define BEHIND_NUM		5
#define BEHIND_DEN		4
/* Room: what one host gets must be this many times what the biggest
 * file needs to come in its client's time (percent), for the waves to
 * end, and for a new boot to join one: room for the wave's Pis gone on
 * to their roots (NBD shares the link), for loss, for a busy machine. */
#define ROOM_PCT		160
/* A transfer moving less than this share of the fastest one of the
 * burst (percent) is slowed by the others. */
#define SHARED_PCT		70
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
/* The limit and the link's best move once a cycle. */
#define CYCLE_NS		NS_PER_SEC
/* Cycles with none behind after which one more may run again. */
#define CALM_CYCLES		5
/* Where the limit starts when the waves begin, before the fastest
 * transfer is known. */
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

static int
behind(const struct sched_item *it, uint64_t now)
{
	if (it->ticks < SETTLE_TICKS || it->rate == 0)
		return 0;
	return (double)it->rate * secs_until(it->due_ns, now) * BEHIND_DEN <
	    (double)it->left * BEHIND_NUM;
}

/* Earliest deadline first, for the held ones' urgency. */
static int
by_due(const void *a, const void *b)
{
	const struct sched_item *x = a, *y = b;

	if (x->due_ns != y->due_ns)
		return x->due_ns < y->due_ns ? -1 : 1;
	return 0;
}

/* A transfer sending now: not held, answered, its client still waiting,
 * and moving (or only just let run). */
static int
is_sending(const struct sched_item *x, uint64_t now)
{
	return !(x->flags & (SCHED_HELD | SCHED_UNANSWERED)) &&
	    !time_reached(now, x->due_ns) &&
	    (x->ticks < SETTLE_TICKS || x->moved > 0);
}

/* How many may share the link, at its best lately, with this one still
 * finishing in its client's time less guard_ns: 1e9 while nothing was
 * measured, or nothing is left. */
static double
sharers(const struct sched *s, const struct sched_item *x, uint64_t guard_ns,
    uint64_t now)
{
	if (s->best == 0 || x->left == 0)
		return 1e9;
	return (secs_until(x->due_ns, now) - (double)guard_ns / NS_PER_SEC) *
	    (double)s->best / (double)x->left;
}

/* ... with the room a wave keeps, and the guard. */
static double
roomy_sharers(const struct sched *s, const struct sched_item *x, uint64_t now)
{
	return sharers(s, x, SCHED_GUARD_NS, now) * 100 / ROOM_PCT;
}

/* A file whose bytes left the link moves in a tick takes nothing any
 * other file would miss (a Pi's config.txt, its device tree): it waits
 * for no other's room, and is never left to its client's timeout. */
static int
costs_nothing(const struct sched *s, const struct sched_item *x)
{
	return (double)x->left <=
	    (double)s->best * SCHED_TICK_NS / NS_PER_SEC;
}

struct senders {
	unsigned n;		/* transfers sending */
	/* The most that may share the link and leave each of them that can
	 * still finish in its client's time (less the guard) enough to, with
	 * the room a wave keeps (ROOM_PCT): under loss a transfer gets less
	 * than its share. */
	double most;
	/* The same for a file to begin beside them, counting too those
	 * that can finish only in the guard (let run at their latest):
	 * held files are let run for their deadlines, new ones wait. */
	double begin;
};

static struct senders
sending(const struct sched *s, const struct sched_item *it, size_t n,
    uint64_t now)
{
	struct senders r = { .n = 0, .most = 1e9, .begin = 1e9 };

	for (size_t i = 0; i < n; i++)
		r.n += is_sending(&it[i], now);
	for (size_t i = 0; i < n; i++) {
		double most;

		/* One nearly done ends in a moment whatever begins: it
		 * holds no file back. */
		if (!is_sending(&it[i], now) || costs_nothing(s, &it[i]))
			continue;
		most = roomy_sharers(s, &it[i], now);
		/* One that cannot finish even now is not protected. */
		if (sharers(s, &it[i], SCHED_GUARD_NS, now) >= r.n &&
		    most < r.most)
			r.most = most;
		if (sharers(s, &it[i], 0, now) >= r.n && most < r.begin)
			r.begin = most;
	}
	return r;
}

/* Whether x may begin beside let sending: each of them that can still
 * finish, and x, keep the room a wave keeps with one more sharing the
 * link. Wave or not, the link is shared per host: a crowd of boots that
 * come to their big files at once (their kernels let run together) is
 * let begin as far as every file begun can still end in time. most, the
 * fewest any begun allows, takes x's when it begins. */
static int
fits(const struct sched *s, const struct sched_item *x, unsigned let,
    double *most, uint64_t now)
{
	double mine;

	if (costs_nothing(s, x))
		return 1;
	mine = roomy_sharers(s, x, now);
	if (let + 1 > *most || let + 1 > mine)
		return 0;
	if (mine < *most)
		*most = mine;
	return 1;
}

/* The most that may share the link for a file to begin once the held
 * files let run for their deadlines at this tick begin: each of them
 * too keeps its room (let run at its latest, it has none: no other file
 * begins beside it, at this tick or later, while it runs). One that
 * cannot finish beside those sending is not counted. */
static double
most_to_begin(const struct sched *s, const struct sched_item *it,
    size_t n, struct senders running, uint64_t now)
{
	double most = running.begin, mine;

	for (size_t i = 0; i < n; i++) {
		if ((it[i].flags & (SCHED_HELD | SCHED_URGENT | SCHED_ASKED)) !=
		    (SCHED_HELD | SCHED_URGENT) ||
		    sharers(s, &it[i], 0, now) < running.n + 1)
			continue;
		mine = roomy_sharers(s, &it[i], now);
		if (mine < most)
			most = mine;
	}
	return most;
}

/* Which held files must run now for each to finish before its client
 * gives up. A held file let run shares the link with those running: it
 * gets the link's best shared out to them, to itself and to each held
 * file due before it (they run by their deadlines too: the link is
 * shared per host, not served in deadline order). Counted from those
 * sending, not from what one of them gets: under loss, with few
 * running, that says more of their retransmissions than of the share a
 * new one would get. Taken earliest deadline first, the first whose
 * time left, less the guard, is no more than what it needs at that
 * share must start now, and every one due before it with it. One that
 * could not finish at that share, or even alone at the fastest rate, or
 * that would leave one running too little to finish (a file once begun
 * runs to its end), is left to its client's timeout rather than take
 * the link from the others, and counts for none after it: a crowd of
 * files due at once (a rack that powered on together parks its Pis at
 * the same files) is let run as far as the link can finish them in
 * time, never all at once to fail together. Every one is left when
 * nothing was measured yet. One whose client resent its ACK has a timer
 * of its own: it runs. */
static void
urgency(const struct sched *s, struct sched_item *it, size_t n,
    struct senders running, uint64_t now)
{
	double cap = (double)s->best;
	double guard = (double)SCHED_GUARD_NS / NS_PER_SEC;
	unsigned due_first = 0;
	size_t i, last = 0;
	int any = 0;

	qsort(it, n, sizeof(*it), by_due);
	for (i = 0; i < n; i++)
		it[i].flags &= ~SCHED_DOOMED;
	for (i = 0; i < n; i++) {
		struct sched_item *x = &it[i];
		double left_s = secs_until(x->due_ns, now), share, need;

		if ((x->flags & (SCHED_HOLDABLE | SCHED_HELD |
		    SCHED_UNANSWERED)) != (SCHED_HOLDABLE | SCHED_HELD))
			continue;
		if (x->flags & SCHED_IMPATIENT)
			x->flags |= SCHED_URGENT;
		share = cap / (running.n + due_first + 1);
		if (share > (double)s->fastest)
			share = (double)s->fastest;
		need = share > 0 ? (double)x->left / share : 0;
		/* A request not answered yet may be a Pi's probe, which
		 * moves nothing, or its fetch: it is answered in time for
		 * the file to come at the share it would get, never left to
		 * its client's timeout, and moves no one else's (the file
		 * waits again at its first block). So is a file that costs
		 * nothing. */
		if ((x->flags & SCHED_ASKED) || costs_nothing(s, x)) {
			if (left_s <= guard + need)
				x->flags |= SCHED_URGENT;
			continue;
		}
		if (cap == 0 || s->fastest == 0 || need > left_s ||
		    running.n + due_first + 1 > running.most) {
			x->flags |= SCHED_DOOMED;
			continue;
		}
		due_first++;
		if (left_s <= guard + need) {
			last = i;
			any = 1;
		}
	}
	for (i = 0; any && i <= last; i++) {
		struct sched_item *x = &it[i];

		if ((x->flags & (SCHED_HOLDABLE | SCHED_HELD |
		    SCHED_UNANSWERED | SCHED_DOOMED | SCHED_ASKED)) ==
		    (SCHED_HOLDABLE | SCHED_HELD))
			x->flags |= SCHED_URGENT;
	}
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
		it[i].ticks++;
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

/* How many transfers the link, at its best lately, carries with room for
 * the biggest file each in its client's time: the most a wave may hold
 * whatever one transfer's rate says (under loss a lone transfer is slow
 * for its retransmissions, not for want of a share, and would make the
 * link look emptier than it is). 0 when nothing was measured yet. */
static unsigned
room_cap(const struct sched *s)
{
	double n;

	if (s->best == 0)
		return 0;
	n = (double)s->best * SCHED_FILE_TIMEOUT_NS / NS_PER_SEC * 100 /
	    ((double)big(s) * ROOM_PCT);
	return n < 1 ? 1 : n > 1e6 ? 1000000 : (unsigned)n;
}

/* The end of a cycle: as many let run as fill the link, each moving
 * what the fastest did in these waves (one lock-step transfer cannot
 * fill a fast link), and one more for the gaps between a Pi's files
 * (its next request, its OACK); one fewer for each cycle that one of
 * them fell behind its deadline through, given back a cycle at a time
 * once none has for a while. */
static void
end_cycle(struct sched *s, uint64_t now)
{
	unsigned fill, cap;

	cycle_rate(s, now);
	s->big -= s->big / BIG_DECAY;
	/* Behind through most of the cycle, not for a tick or two: the
	 * clients share this machine's CPU, and their rates stutter. */
	if (s->cycle_lagging * 2 > s->cycle_ticks) {
		s->cut++;
		s->quiet = 0;
	} else if (s->cut > 0 && ++s->quiet >= CALM_CYCLES) {
		s->cut--;
		s->quiet = 0;
	}
	fill = s->fastest > 0 ? (unsigned)((s->best + s->fastest - 1) /
	    s->fastest) + 1 : START_LIMIT;
	s->limit = fill > s->cut + 1 ? fill - s->cut : 1;
	if ((cap = room_cap(s)) > 0 && s->limit > cap)
		s->limit = cap;
	s->cycle_ns = now;
	s->cycle_bytes = 0;
	s->cycle_lagging = s->cycle_ticks = 0;
	s->cycle_waiting = 0;
}

int
sched_tick(struct sched *s, struct sched_item *it, size_t n, uint64_t now)
{
	uint64_t typ;
	unsigned let = 0, cap;
	int lagging = 0;
	struct senders running;
	double hosts, most;
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
		/* As many as the link has room for, when the biggest file
		 * is known beforehand (sched_boot_seen). */
		cap = room_cap(s);
		s->limit = cap > START_LIMIT ? cap : START_LIMIT;
		s->fastest = 0;
		s->cut = s->quiet = 0;
		s->fresh = 1;
		return 1;
	}
	running = sending(s, it, n, now);
	urgency(s, it, n, running, now);
	most = most_to_begin(s, it, n, running, now);
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
			 * slows it; one let run for its deadline, late by
			 * design, says nothing of how many share. */
			if ((x->flags & SCHED_MEMBER) && behind(x, now) &&
			    x->rate * 100 < s->fastest * SHARED_PCT)
				lagging = 1;
		}
	}
	/* The fastest transfer, while no more run than the limit lets (the
	 * files begun before the waves have run their course): what one
	 * gets when few share the link. */
	if (let <= s->limit)
		for (i = 0; i < n; i++)
			if (!(it[i].flags & SCHED_HELD) &&
			    it[i].ticks >= SETTLE_TICKS &&
			    it[i].rate > s->fastest)
				s->fastest = it[i].rate;
	/* The hosts the link is shared out to now, at least those sending:
	 * counted from what one running transfer gets of it, as a switch
	 * port's, a NIC's queueing shares it per host; that counts the Pis
	 * gone on to their roots too. */
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
		if (x->flags & SCHED_ASKED) {
			/* Its answer costs nothing: it goes to a boot of the
			 * wave, to one that could join it now, or by its
			 * deadline. The file waits again at its first block
			 * for a place. */
			x->run = (x->flags & (SCHED_WAVE | SCHED_URGENT)) ||
			    let == 0 || (let < s->limit &&
			    room(s, hosts + 1, big(s)));
			if (!x->run) {
				s->held++;
				s->cycle_waiting = 1;
			}
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
		    room(s, hosts > 1 ? hosts : 1, x->size)) &&
		    fits(s, x, let, &most, now));
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
		end_cycle(s, now);
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
