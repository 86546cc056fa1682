/* The scheduler's decisions (sched.h), one tick at a time: the oldest
 * boots first, a begun file never held nor a boot of the wave, room for
 * a new boot counted per host and joins paced, a boot outside the wave
 * parked at its small files (and its big file left to its client's
 * timeout), the wave's size following what the link moved, ticks asked
 * at once that only decide, and the overload's beginning and end. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "tftpd/sched.h"
#include "tests/unit/check_main.h"

#define MS	NS_PER_MS
#define S	NS_PER_SEC
#define MB	1000000ULL

/* A transfer waiting at its first block, from the boot begun at key. */
static struct sched_item
waiting(uint64_t key, uint64_t now, uint64_t size)
{
	return (struct sched_item){ .owner = (void *)(uintptr_t)(key + 1),
	    .key = key, .due_ns = now + SCHED_FILE_TIMEOUT_NS, .size = size,
	    .left = size, .flags = SCHED_HOLDABLE | SCHED_HELD };
}

/* One that has been sending for a while at rate. */
static struct sched_item
sending(uint64_t key, uint64_t due, uint64_t size, uint64_t left,
    uint64_t rate)
{
	return (struct sched_item){ .owner = (void *)(uintptr_t)(key + 1),
	    .key = key, .due_ns = due, .size = size, .left = left,
	    .moved = rate / 10, .rate = rate, .ticks = 10 };
}

static struct sched_item *
find(struct sched_item *it, size_t n, uint64_t key)
{
	for (size_t i = 0; i < n; i++)
		if (it[i].key == key)
			return &it[i];
	ck_abort_msg("no item with key %llu", (unsigned long long)key);
	return NULL;
}

/* A scheduler in waves for a while, whose link has moved best bytes a
 * second and whose running transfers get typical. */
static void
measured(struct sched *s, uint64_t now, uint64_t best, uint64_t typical,
    unsigned limit)
{
	sched_init(s, now - SCHED_TICK_NS);
	s->overloaded = 1;
	s->calm_ns = now;
	s->best = best;
	s->typical = typical;
	s->limit = limit;
}

/* Three transfers at 1 MB/s each, cycle after cycle, then at 200 KB/s
 * once a boot with a file of seen bytes beside its first began (0: none
 * known), until the waves begin; then the first tick of the waves. */
static void
into_waves(struct sched *s, uint64_t *now, uint64_t seen,
    struct sched_item it[3])
{
	int t;

	/* A file of 8 MiB (a kernel, what a boot is counted on to want at
	 * least) would fit 30 s with room: all run, nothing held. */
	sched_init(s, *now);
	for (t = 0; t < 30; t++) {
		*now += SCHED_TICK_NS;
		for (int i = 0; i < 3; i++)
			it[i] = sending(i * S, *now + 20 * S, 2 * MB, MB, MB);
		it[2] = waiting(9 * S, *now, 100);
		ck_assert_int_eq(sched_tick(s, it, 3, *now), 0);
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(it[i].run, 1);
	}
	ck_assert_int_eq(s->overloaded, 0);
	ck_assert_uint_eq(s->best, 2 * MB);
	/* At 200 KB/s each, 8 MiB would not: waves, at a cycle's end. */
	sched_boot_seen(s, seen);
	for (t = 0; t < 10 && !s->overloaded; t++) {
		*now += SCHED_TICK_NS;
		for (int i = 0; i < 3; i++)
			it[i] = sending(i * S, *now + 20 * S, 2 * MB, MB,
			    200000);
		sched_tick(s, it, 3, *now);
	}
	ck_assert_int_eq(s->overloaded, 1);
	ck_assert_int_le(t, 10);
	*now += SCHED_TICK_NS;
	for (int i = 0; i < 3; i++)
		it[i] = sending(i * S, *now + 20 * S, 2 * MB, MB, 200000);
	sched_tick(s, it, 3, *now);
}

START_TEST(fair_while_a_big_file_would_fit)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* With a 20 MB file known beside the boots, the link (2 MB/s at
	 * best) has room for one boot at a time: 2 MB/s x 27 s / (20 MB x
	 * 1.6). No boot is in the wave yet: those sending finish their
	 * file, and boots join as what one transfer gets leaves room. */
	into_waves(&s, &now, 20 * MB, it);
	ck_assert_uint_eq(s.limit, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert(!(it[i].flags & SCHED_MEMBER));
		ck_assert_int_eq(it[i].run, 1);
	}
}
END_TEST

START_TEST(waves_start_as_wide_as_the_link_has_room)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* Only the 8 MiB prior known: 2 MB/s at best carries four such
	 * files in 30 s less the guard, with room (2 MB/s x 27 s / (8 MiB x
	 * 1.6)), so the waves start four wide. A file no Pi loads beside a
	 * boot's (a backup of the image, say) is not counted. */
	into_waves(&s, &now, 0, it);
	ck_assert_uint_eq(s.limit, 4);
	into_waves(&s, &now, 300ULL << 20, it);
	ck_assert_uint_eq(s.limit, 4);
}
END_TEST

START_TEST(oldest_boots_first)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[5];
	const uint64_t keys[5] = { 50, 10, 30, 20, 40 };

	measured(&s, now, 0, 0, 2);
	for (int i = 0; i < 5; i++)
		it[i] = waiting(keys[i] * S, now, 1000);
	/* Nothing measured yet: the limit lets two run. */
	ck_assert_int_eq(sched_tick(&s, it, 5, now), 0);
	ck_assert_uint_eq(s.held, 3);
	ck_assert_int_eq(find(it, 5, 10 * S)->run, 1);
	ck_assert_int_eq(find(it, 5, 20 * S)->run, 1);
	ck_assert_int_eq(find(it, 5, 30 * S)->run, 0);
	ck_assert_int_eq(find(it, 5, 40 * S)->run, 0);
	/* Those let run are in the wave now. */
	ck_assert(find(it, 5, 10 * S)->flags & SCHED_MEMBER);
	ck_assert(!(find(it, 5, 30 * S)->flags & SCHED_MEMBER));
	ck_assert_int_eq(find(it, 5, 50 * S)->run, 0);
}
END_TEST

START_TEST(the_wave_is_never_held)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[4];

	/* Room for one boot, and two sending. A boot of the wave at its
	 * next file goes on at once all the same: the wave's size left it
	 * room when it joined. A file begun runs to its end, even one far
	 * behind. An older boot outside the wave waits, its big file left
	 * to its client's timeout. */
	measured(&s, now, 10 * MB, 2 * MB, 1);
	it[0] = sending(90 * S, now + 20 * S, 30 * MB, 25 * MB, 100000);
	it[0].flags |= SCHED_WAVE;
	it[1] = sending(80 * S, now + 20 * S, 30 * MB, 5 * MB, 2 * MB);
	it[2] = waiting(10 * S, now, 30 * MB);
	it[2].flags |= SCHED_WAVE;
	it[3] = waiting(5 * S, now, 30 * MB);
	sched_tick(&s, it, 4, now);
	ck_assert_int_eq(find(it, 4, 90 * S)->run, 1);
	ck_assert_int_eq(find(it, 4, 80 * S)->run, 1);
	ck_assert_int_eq(find(it, 4, 10 * S)->run, 1);
	ck_assert(find(it, 4, 10 * S)->flags & SCHED_MEMBER);
	ck_assert_int_eq(find(it, 4, 5 * S)->run, 0);
	ck_assert(find(it, 4, 5 * S)->flags & SCHED_DOOMED);
	ck_assert_uint_eq(s.held, 1);
}
END_TEST

START_TEST(a_new_boot_needs_room_per_host)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[7];

	/* 10 MB/s at best; a 30 MB file needs 1 MB/s, with room 1.6 MB/s:
	 * six hosts may share the link (10/6), not seven (10/7). The boots
	 * of the wave, between their files, count as hosts: five of them,
	 * and one more joins; six, and it waits. */
	for (int wave = 6; wave >= 5; wave--) {
		measured(&s, now, 10 * MB, 0, 20);
		s.big = 30 * MB;
		for (int i = 0; i < wave; i++) {
			it[i] = waiting((uint64_t)i * S, now, 100);
			it[i].flags |= SCHED_WAVE | SCHED_ASKED;
		}
		it[wave] = waiting(50 * S, now, 100);
		sched_tick(&s, it, (size_t)wave + 1, now);
		ck_assert_int_eq(find(it, (size_t)wave + 1, 50 * S)->run,
		    wave == 5);
		ck_assert_uint_eq(s.held, wave == 6);
	}
	/* So do those sending, in the wave or not. */
	measured(&s, now, 10 * MB, 0, 20);
	s.big = 30 * MB;
	for (int i = 0; i < 6; i++)
		it[i] = sending((uint64_t)i * S, now + 20 * S, 30 * MB,
		    20 * MB, 1500000);
	it[6] = waiting(50 * S, now, 100);
	sched_tick(&s, it, 7, now);
	ck_assert_int_eq(find(it, 7, 50 * S)->run, 0);
	/* Not what one of them gets: a lock-step transfer slow for its
	 * losses (1.5 MB/s of 10, enough for 30 MB in 27 s with room,
	 * 1.3 times over) is one host, not seven. But one that gets too
	 * little for that (1.2 MB/s: the Pis gone on to their roots crowd
	 * the link) says there is no room for another. */
	for (int crowded = 0; crowded <= 1; crowded++) {
		uint64_t rate = crowded ? 1200000 : 1500000;

		measured(&s, now, 10 * MB, rate, 20);
		s.big = 30 * MB;
		it[0] = sending(5 * S, now + 20 * S, 30 * MB, 20 * MB, rate);
		it[1] = waiting(50 * S, now, 100);
		sched_tick(&s, it, 2, now);
		ck_assert_int_eq(find(it, 2, 50 * S)->run, !crowded);
		ck_assert_int_eq(!!(find(it, 2, 50 * S)->flags & SCHED_MEMBER),
		    !crowded);
	}
}
END_TEST

START_TEST(joins_are_paced)
{
	struct sched s;
	uint64_t now = 100 * S, t0 = now;
	struct sched_item it[30];
	const uint64_t at[4] = { 0, 2100 * MS, 2200 * MS, 4300 * MS };
	const unsigned members[4] = { 1, 1, 2, 2 };

	/* Thirty boots at their 2 MB start4.elf, room for seven with a
	 * 26 MB initramfs each on a 12 MB/s link: one joins at a time, the
	 * link's time for the initramfs (2.17 s) apart, the oldest first.
	 * Joined all at once they would come to their big files, and leave
	 * for their roots, together. */
	measured(&s, now, 12 * MB, 0, 7);
	s.big = 26 * MB;
	for (int i = 0; i < 30; i++)
		it[i] = waiting((uint64_t)(i + 1) * S, now, 2 * MB);
	for (int t = 0; t < 4; t++) {
		unsigned in = 0;

		now = t0 + at[t];
		sched_tick(&s, it, 30, now);
		for (int i = 0; i < 30; i++) {
			/* The caller marks the boot (boots.h); its file
			 * begins. */
			if (it[i].flags & SCHED_MEMBER)
				it[i].flags = (it[i].flags | SCHED_WAVE) &
				    ~(SCHED_HOLDABLE | SCHED_HELD);
			in += (it[i].flags & SCHED_WAVE) != 0;
		}
		ck_assert_uint_eq(in, members[t]);
		ck_assert(find(it, 30, members[t] * S)->flags & SCHED_WAVE);
	}
	ck_assert_uint_eq(s.limit, 7);
}
END_TEST

START_TEST(a_big_file_joins_before_a_small_one)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* One place, and one join now: a younger boot at its kernel, which
	 * fails unless its boot joins, goes before an older one at its
	 * device tree, which can wait. */
	measured(&s, now, 12 * MB, 2 * MB, 2);
	s.big = 26 * MB;
	it[0] = sending(1 * S, now + 20 * S, 26 * MB, 10 * MB, 2 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(10 * S, now, 52593);
	it[2] = waiting(20 * S, now, 9 * MB);
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 20 * S)->run, 1);
	ck_assert(find(it, 3, 20 * S)->flags & SCHED_MEMBER);
	ck_assert_int_eq(find(it, 3, 10 * S)->run, 0);
	/* Not when the kernel can no longer come in time: 9 MB in the 4 s
	 * its client has left, less the guard, at half the link. Its boot
	 * would take a place to fail; the older one joins. */
	measured(&s, now, 12 * MB, 2 * MB, 2);
	s.big = 26 * MB;
	it[0] = sending(1 * S, now + 20 * S, 26 * MB, 10 * MB, 2 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(10 * S, now, 52593);
	it[2] = waiting(20 * S, now - 26 * S, 9 * MB);
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 20 * S)->run, 0);
	ck_assert(find(it, 3, 20 * S)->flags & SCHED_DOOMED);
	ck_assert_int_eq(find(it, 3, 10 * S)->run, 1);
	ck_assert(find(it, 3, 10 * S)->flags & SCHED_MEMBER);
}
END_TEST

START_TEST(nothing_running_lets_one_run)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[2];

	/* Measured when the link was crowded: no room for anyone; with
	 * nothing running and no boot in the wave, the oldest goes
	 * anyway. */
	measured(&s, now, 1 * MB, 100000, 4);
	s.big = 30 * MB;
	it[0] = waiting(20 * S, now, 30 * MB);
	it[1] = waiting(10 * S, now, 30 * MB);
	sched_tick(&s, it, 2, now);
	ck_assert_int_eq(find(it, 2, 10 * S)->run, 1);
	ck_assert_int_eq(find(it, 2, 20 * S)->run, 0);
}
END_TEST

START_TEST(a_parked_boot_waits_at_each_small_file)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[7];

	/* The wave full (two of two), at its initramfs. Outside it: */
	measured(&s, now, 12 * MB, 1500000, 2);
	s.big = 26 * MB;
	for (int i = 0; i < 2; i++) {
		it[i] = sending((uint64_t)(i + 1) * S, now + 20 * S, 26 * MB,
		    10 * MB, 1500000);
		it[i].flags |= SCHED_WAVE;
	}
	/* a device tree due in 3.1 s waits; */
	it[2] = waiting(50 * S, now - 30 * S + 3100 * MS, 52593);
	/* one due in 2.9 s, within the guard, runs, its boot still
	 * outside the wave; */
	it[3] = waiting(60 * S, now - 30 * S + 2900 * MS, 52593);
	/* a kernel due in 2.9 s is left to its client's timeout; */
	it[4] = waiting(70 * S, now - 30 * S + 2900 * MS, 9 * MB);
	/* a request for a kernel due in 2.9 s is answered: the file waits
	 * again at its first block. */
	it[5] = waiting(80 * S, now - 30 * S + 2900 * MS, 9 * MB);
	it[5].flags |= SCHED_ASKED;
	/* a start4.elf, an eighth of the initramfs or less, due in 3.8 s,
	 * runs: the guard and what it needs with room at a third of the
	 * link (0.9 s). A boot that came to it once the waves began has no
	 * smaller file before it to wait at. */
	it[6] = waiting(90 * S, now - 30 * S + 3800 * MS, 2252800);
	sched_tick(&s, it, 7, now);
	ck_assert_int_eq(find(it, 7, 50 * S)->run, 0);
	ck_assert(!(find(it, 7, 50 * S)->flags & SCHED_DOOMED));
	ck_assert_int_eq(find(it, 7, 60 * S)->run, 1);
	ck_assert(find(it, 7, 60 * S)->flags & SCHED_URGENT);
	ck_assert(!(find(it, 7, 60 * S)->flags & SCHED_MEMBER));
	ck_assert_int_eq(find(it, 7, 70 * S)->run, 0);
	ck_assert(find(it, 7, 70 * S)->flags & SCHED_DOOMED);
	ck_assert_int_eq(find(it, 7, 80 * S)->run, 1);
	ck_assert(!(find(it, 7, 80 * S)->flags & SCHED_DOOMED));
	ck_assert(!(find(it, 7, 80 * S)->flags & SCHED_MEMBER));
	ck_assert_int_eq(find(it, 7, 90 * S)->run, 1);
	ck_assert(!(find(it, 7, 90 * S)->flags & SCHED_DOOMED));
	ck_assert_uint_eq(s.urgent, 3);
	ck_assert_uint_eq(s.held, 2);

	/* Its deadline gone, it runs, in no one's place: its client has
	 * given up (it ends at its own timeout) or has none. */
	it[4] = waiting(70 * S, now - 31 * S, 9 * MB);
	sched_tick(&s, it, 5, now);
	ck_assert_int_eq(find(it, 5, 70 * S)->run, 1);
}
END_TEST

START_TEST(asked_requests)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* A boot of the wave gets its answer at once, in no one's place;
	 * another's request waits, never left to its client's timeout. */
	measured(&s, now, 1 * MB, 1 * MB, 2);
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(5 * S, now, 8 * MB);
	it[1].flags |= SCHED_ASKED | SCHED_WAVE;
	it[2] = waiting(50 * S, now - 10 * S, 26 * MB);
	it[2].flags |= SCHED_ASKED;
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 5 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 50 * S)->run, 0);
	ck_assert(!(find(it, 3, 50 * S)->flags & SCHED_DOOMED));
	ck_assert_uint_eq(s.held, 1);
	/* A host's request it has asked for another file since: answered
	 * at once, its boot outside the wave and the wave full. */
	measured(&s, now, 1 * MB, 1 * MB, 1);
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(50 * S, now, 26 * MB);
	it[1].flags |= SCHED_ASKED | SCHED_SUPERSEDED;
	sched_tick(&s, it, 2, now);
	ck_assert_int_eq(find(it, 2, 50 * S)->run, 1);
	ck_assert(!(find(it, 2, 50 * S)->flags & SCHED_MEMBER));
	/* With room, a boot's request is answered at once, and the boot
	 * joins the wave at the file's first block: one that asks and never
	 * answers the OACK takes no place. */
	measured(&s, now, 12 * MB, 0, 4);
	it[0] = waiting(50 * S, now, 26 * MB);
	it[0].flags |= SCHED_ASKED;
	sched_tick(&s, it, 1, now);
	ck_assert_int_eq(it[0].run, 1);
	ck_assert(!(it[0].flags & SCHED_MEMBER));
	ck_assert_int_eq(s.joined, 0);
	it[0].flags &= ~SCHED_ASKED;
	sched_tick(&s, it, 1, now + MS);
	ck_assert_int_eq(it[0].run, 1);
	ck_assert(it[0].flags & SCHED_MEMBER);
	ck_assert_int_eq(s.joined, 1);
}
END_TEST

START_TEST(a_tick_asked_at_once_only_decides)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[12];
	unsigned joined = 0, ticks;

	/* Three kernels of the wave sending at 3 MB/s on a 12 MB/s link,
	 * room for seven with a 26 MB file each. Then, a millisecond
	 * apart, nine boots come to their next file, each held and decided
	 * at once: the ticks between those that measure see what the last
	 * one saw (each sending moved its 300 KB), not what a millisecond
	 * holds (a block or none: every transfer idle, or one faster than
	 * the link). */
	measured(&s, now, 12 * MB, 3 * MB, 7);
	s.big = 26 * MB;
	for (int i = 0; i < 3; i++) {
		it[i] = sending((uint64_t)i * S, now + 25 * S, 9 * MB, 6 * MB,
		    3 * MB);
		it[i].flags |= SCHED_WAVE;
	}
	sched_tick(&s, it, 3, now);
	ticks = s.cycle_ticks;
	for (int k = 0; k < 9; k++) {
		now += MS;
		ck_assert_int_eq(sched_measures(&s, now), 0);
		it[3 + k] = waiting((uint64_t)(10 + k) * S, now, 9 * MB);
		sched_tick(&s, it, 4 + (size_t)k, now);
		for (int i = 0; i < 4 + k; i++) {
			/* One let run has sent its first block. */
			if (it[i].run && (it[i].flags & SCHED_HOLDABLE))
				it[i].flags &= ~(SCHED_HOLDABLE | SCHED_HELD);
			/* A rate is kept, not made of a millisecond. */
			if (it[i].key < 3 * S) {
				ck_assert_uint_eq(it[i].rate, 3 * MB);
				ck_assert_uint_eq(it[i].ticks, 11);
			}
		}
		ck_assert_uint_eq(s.typical, 3 * MB);
		ck_assert_uint_eq(s.cycle_ticks, ticks);
	}
	for (int i = 0; i < 12; i++)
		joined += it[i].key >= 10 * S && it[i].run;
	/* One joined: the next must wait the link's time for a big file. */
	ck_assert_uint_eq(joined, 1);
	ck_assert_int_eq(find(it, 12, 10 * S)->run, 1);
	now = 100 * S + SCHED_TICK_NS;
	ck_assert_int_eq(sched_measures(&s, now), 1);
}
END_TEST

START_TEST(impatient_and_unanswered)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	measured(&s, now, 10 * MB, 1 * MB, 1);
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	it[0].flags |= SCHED_WAVE;
	/* Its client resent its ACK: it has a timer of its own. */
	it[1] = waiting(50 * S, now, 6 * MB);
	it[1].flags |= SCHED_IMPATIENT;
	/* Its OACK unanswered: it waits for the answer, in no place. */
	it[2] = waiting(5 * S, now, 6 * MB);
	it[2].flags |= SCHED_UNANSWERED | SCHED_WAVE;
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 50 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 5 * S)->run, 0);
	ck_assert_uint_eq(s.held, 0);
}
END_TEST

START_TEST(the_wave_follows_the_link)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[7];

	/* Seven boots of the wave moving 12 MB/s in all, their initramfs
	 * 26 MB: 12 MB/s x 27 s / (26 MB x 1.6) makes room for seven. */
	measured(&s, now, 0, 0, 2);
	for (int t = 0; t < 30; t++) {
		now += SCHED_TICK_NS;
		for (int i = 0; i < 7; i++) {
			it[i] = sending((uint64_t)i * S, now + 20 * S, 26 * MB,
			    10 * MB, 12 * MB / 7);
			it[i].flags |= SCHED_WAVE;
		}
		sched_tick(&s, it, 7, now);
	}
	ck_assert_uint_ge(s.best, 11900000);
	ck_assert_uint_le(s.best, 12 * MB);
	ck_assert_uint_eq(s.limit, 7);
}
END_TEST

/* A second of n transfers of 30 MB sending at rate each. */
static void
sending_for_a_second(struct sched *s, uint64_t *now, int n, uint64_t rate)
{
	struct sched_item it[8];

	for (int t = 0; t < 10; t++) {
		*now += SCHED_TICK_NS;
		for (int i = 0; i < n; i++) {
			it[i] = sending((uint64_t)i * S, *now + 10 * S, 30 * MB,
			    10 * MB, rate);
			it[i].flags |= SCHED_WAVE;
		}
		sched_tick(s, it, (size_t)n, *now);
	}
}

START_TEST(a_crowded_link_is_believed_slower)
{
	struct sched s;
	uint64_t now = 100 * S;

	/* 10 MB/s at best, files of 30 MB: room for five boots. Eight
	 * sending at 0.5 MB/s, too little for 30 MB in 27 s, through a
	 * cycle: the link is believed a little slower than its best (they
	 * moved 4 MB/s), and no boot joins. */
	measured(&s, now, 10 * MB, 500000, 5);
	sending_for_a_second(&s, &now, 8, 500000);
	ck_assert_uint_lt(s.best, 10 * MB);
	ck_assert_uint_gt(s.best, 9800000);
	/* Six at 1.5 MB/s each, enough, though the cycle moved less than
	 * the best (9 MB/s): the wave leaves the link short at times by
	 * design; the best stands, and the wave's size with it. */
	measured(&s, now, 10 * MB, 1500000, 5);
	sending_for_a_second(&s, &now, 6, 1500000);
	ck_assert_uint_eq(s.best, 10 * MB);
	ck_assert_uint_eq(s.limit, 5);
}
END_TEST

START_TEST(overload_begins_and_ends)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];
	int changes = 0;

	measured(&s, now, 10 * MB, 1 * MB, 1);
	it[0] = sending(10 * S, now + 20 * S, 2 * MB, 1 * MB, 5 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(20 * S, now, 100);
	ck_assert_int_eq(sched_tick(&s, it, 2, now), 0);
	ck_assert_int_eq(s.held, 1);
	/* Nothing held any more: over after a calm spell, said once (and
	 * 5 MB/s for a transfer leaves room for the biggest file seen). */
	for (int t = 0; t < 80; t++) {
		now += SCHED_TICK_NS;
		it[0] = sending(10 * S, now + 20 * S, 2 * MB, 1 * MB, 5 * MB);
		changes += sched_tick(&s, it, 1, now);
	}
	ck_assert_int_eq(s.overloaded, 0);
	ck_assert_int_eq(changes, 1);
	/* After a long pause the next burst starts afresh: all run. */
	now += 60 * S;
	s.overloaded = 1;
	it[0] = waiting(10 * S, now, 100);
	it[1] = waiting(20 * S, now, 100);
	it[2] = waiting(30 * S, now, 100);
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(s.overloaded, 0);
	ck_assert_uint_eq(s.held, 0);
	ck_assert_int_eq(it[2].run, 1);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite *s = suite_create("tftpd_sched");
	TCase *tc = tcase_create("sched");

	tcase_add_test(tc, fair_while_a_big_file_would_fit);
	tcase_add_test(tc, waves_start_as_wide_as_the_link_has_room);
	tcase_add_test(tc, oldest_boots_first);
	tcase_add_test(tc, the_wave_is_never_held);
	tcase_add_test(tc, a_new_boot_needs_room_per_host);
	tcase_add_test(tc, joins_are_paced);
	tcase_add_test(tc, a_big_file_joins_before_a_small_one);
	tcase_add_test(tc, nothing_running_lets_one_run);
	tcase_add_test(tc, a_parked_boot_waits_at_each_small_file);
	tcase_add_test(tc, asked_requests);
	tcase_add_test(tc, a_tick_asked_at_once_only_decides);
	tcase_add_test(tc, impatient_and_unanswered);
	tcase_add_test(tc, the_wave_follows_the_link);
	tcase_add_test(tc, a_crowded_link_is_believed_slower);
	tcase_add_test(tc, overload_begins_and_ends);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sched_suite)
