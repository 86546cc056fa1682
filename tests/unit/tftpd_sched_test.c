/* The scheduler's decisions (sched.h), one tick at a time: the oldest
 * boots first, a begun file never held, room for a new boot counted per
 * host, a held file let run for its deadline (and one that cannot make
 * it left alone), the limit following what the link moved, and the
 * overload's beginning and end. */
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
	 * best) has room for one at a time: the waves start at two. Of
	 * those sending, the oldest are in the wave, the limit's worth; the
	 * others finish their file. */
	into_waves(&s, &now, 20 * MB, it);
	ck_assert_uint_eq(s.limit, 2);
	ck_assert(find(it, 3, 0)->flags & SCHED_MEMBER);
	ck_assert(find(it, 3, 1 * S)->flags & SCHED_MEMBER);
	ck_assert(!(find(it, 3, 2 * S)->flags & SCHED_MEMBER));
	ck_assert_int_eq(find(it, 3, 2 * S)->run, 1);
}
END_TEST

START_TEST(waves_start_as_wide_as_the_link_has_room)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* Only the 8 MiB prior known: 2 MB/s at best carries four such
	 * files in 30 s with room (2 MB/s x 30 s / (8 MiB x 1.6)), so the
	 * waves start four wide and all three sending are in the first. */
	into_waves(&s, &now, 0, it);
	ck_assert_uint_eq(s.limit, 4);
	for (int i = 0; i < 3; i++)
		ck_assert(it[i].flags & SCHED_MEMBER);
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

START_TEST(a_begun_file_runs_to_its_end)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	measured(&s, now, 10 * MB, 2 * MB, 1);
	s.fastest = 4 * MB;
	/* Young boots, already sending, and one far behind: never held. */
	it[0] = sending(90 * S, now + 20 * S, 30 * MB, 25 * MB, 100000);
	it[0].flags |= SCHED_WAVE;
	it[1] = sending(80 * S, now + 20 * S, 30 * MB, 5 * MB, 2 * MB);
	it[2] = waiting(10 * S, now, 30 * MB);
	it[2].flags |= SCHED_WAVE;
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 90 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 80 * S)->run, 1);
	/* The oldest waits: the two take the places the limit has. */
	ck_assert_int_eq(find(it, 3, 10 * S)->run, 0);
	ck_assert_int_eq(s.cycle_lagging, 1);
}
END_TEST

START_TEST(a_new_boot_needs_room_per_host)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	/* 10 MB/s at best, 2 MB/s each now: five hosts share the link. A
	 * 30 MB file needs 1 MB/s, with room 1.6 MB/s: a sixth host would
	 * get 10/6, enough; a seventh not. */
	measured(&s, now, 10 * MB, 2 * MB, 20);
	s.big = 30 * MB;
	it[0] = waiting(10 * S, now, 100);
	it[1] = waiting(20 * S, now, 100);
	it[2] = waiting(30 * S, now, 100);
	it[2].flags |= SCHED_WAVE;	/* goes on: its host is counted */
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 10 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 20 * S)->run, 0);
	ck_assert_int_eq(find(it, 3, 30 * S)->run, 1);
	/* A boot of the wave waits too when its host's share has no room
	 * for its file (here, no way to finish it in time). */
	measured(&s, now, 10 * MB, 1 * MB, 20);
	it[0] = waiting(10 * S, now, 40 * MB);
	it[0].flags |= SCHED_WAVE;
	it[1] = waiting(20 * S, now, 10 * MB);
	it[1].flags |= SCHED_WAVE;
	it[2] = sending(5 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 10 * S)->run, 0);
	ck_assert_int_eq(find(it, 3, 20 * S)->run, 1);
}
END_TEST

/* How many of 30 new boots, each at its first file, join the first wave
 * of a link that moved 12.5 MB/s, when one transfer alone gets 600 KB/s
 * (a lossy link: its rate is its retransmissions', not its share). */
static unsigned
first_wave(uint64_t seen)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[30];
	unsigned ran = 0;

	measured(&s, now, 12500000, 0, 22);
	s.fastest = 600000;
	sched_boot_seen(&s, seen);
	for (int i = 0; i < 30; i++)
		it[i] = waiting((uint64_t)(i + 1) * S, now, 2 * MB);
	sched_tick(&s, it, 30, now);
	for (int i = 0; i < 30; i++)
		ran += (unsigned)it[i].run;
	return ran;
}

START_TEST(files_beside_a_boot_bound_the_first_wave)
{
	/* Not known: a kernel's size, and the limit decides. */
	ck_assert_uint_eq(first_wave(0), 22);
	/* A 26 MB initramfs beside their first file: 1.39 MB/s each, with
	 * room, so nine hosts share 12.5 MB/s. */
	ck_assert_uint_eq(first_wave(26 * MB), 9);
	/* A file no Pi loads (a backup of the image, say) is not counted. */
	ck_assert_uint_eq(first_wave(300ULL << 20), 22);
}
END_TEST

START_TEST(nothing_running_lets_one_run)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[2];

	/* Measured when the link was crowded: no room for anyone; with
	 * nothing running the oldest goes anyway. */
	measured(&s, now, 1 * MB, 100000, 4);
	s.big = 30 * MB;
	it[0] = waiting(20 * S, now, 30 * MB);
	it[1] = waiting(10 * S, now, 30 * MB);
	sched_tick(&s, it, 2, now);
	ck_assert_int_eq(find(it, 2, 10 * S)->run, 1);
	ck_assert_int_eq(find(it, 2, 20 * S)->run, 0);
}
END_TEST

START_TEST(held_runs_for_its_deadline)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[4];

	/* A slow link: 1 MB/s at best, the fastest transfer 1 MB/s. */
	measured(&s, now, 1 * MB, 1 * MB, 1);
	s.fastest = 1 * MB;
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	/* 6 MB due in 12 s: beside the one sending it would get half the
	 * link and need 12 s; with the guard (3 s) it must start now, over
	 * the limit. */
	it[1] = waiting(50 * S, now - 30 * S + 12 * S, 6 * MB);
	/* 6 MB due in 5 s: could not, even alone; left to its client. */
	it[2] = waiting(60 * S, now - 30 * S + 5 * S, 6 * MB);
	/* Due after the first, and small: can wait. */
	it[3] = waiting(70 * S, now - 30 * S + 20 * S, 1000);
	sched_tick(&s, it, 4, now);
	ck_assert_int_eq(find(it, 4, 50 * S)->run, 1);
	ck_assert(find(it, 4, 50 * S)->flags & SCHED_URGENT);
	ck_assert_uint_eq(s.urgent, 1);
	ck_assert_int_eq(find(it, 4, 60 * S)->run, 0);
	ck_assert(!(find(it, 4, 60 * S)->flags & SCHED_URGENT));
	ck_assert_int_eq(find(it, 4, 70 * S)->run, 0);

	/* Two of 3 MB due in 10 s: one alone could wait (at half the link,
	 * 6 + 3 s), both together cannot (at a third each, 9 + 3 s): both
	 * start now, the one sending keeping room to finish. */
	measured(&s, now, 1 * MB, 1 * MB, 1);
	s.fastest = 1 * MB;
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 3 * MB, 1 * MB);
	it[1] = waiting(50 * S, now - 20 * S, 3 * MB);
	it[2] = waiting(60 * S, now - 20 * S, 3 * MB);
	sched_tick(&s, it, 3, now);
	ck_assert_uint_eq(s.urgent, 2);
	ck_assert_int_eq(find(it, 3, 50 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 60 * S)->run, 1);

	/* Its deadline gone, it runs, in no one's place: its client has
	 * given up (it ends at its own timeout) or has none. */
	measured(&s, now, 10 * MB, 1 * MB, 2);
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	it[1] = waiting(60 * S, now - 31 * S, 6 * MB);
	it[2] = waiting(70 * S, now, 100);
	it[2].flags |= SCHED_WAVE;
	sched_tick(&s, it, 3, now);
	ck_assert_int_eq(find(it, 3, 60 * S)->run, 1);
	ck_assert_int_eq(find(it, 3, 70 * S)->run, 1);
}
END_TEST

/* Held files let run share the link with those running: a kernel held
 * behind eight running transfers starts when, at a ninth of the link, it
 * would need the time left (less the guard), not when it would at the
 * whole link; of a crowd of initramfs due at once, only as many are let
 * run as can finish beside the others, not all to fail together; and
 * none that would leave a running one too little to finish. */
START_TEST(held_runs_at_a_fair_share)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[24];
	int urgent = 0, doomed = 0;

	/* Eight sending at 1.5 MB/s of a 12 MB/s link (the fastest alone
	 * 12 MB/s), with room to spare: a 9 MB kernel would get a ninth,
	 * 1.33 MB/s, and need 6.75 s (at the whole link, 0.75 s). */
	for (int t = 0; t < 2; t++) {
		uint64_t left_ms = t == 0 ? 10000 : 9500;

		measured(&s, now, 12 * MB, 1500000, 8);
		s.fastest = 12 * MB;
		for (int i = 0; i < 8; i++)
			it[i] = sending(i * S, now + 25 * S, 26 * MB, 10 * MB,
			    1500000);
		it[8] = waiting(50 * S, now - 30 * S + left_ms * MS, 9 * MB);
		sched_tick(&s, it, 9, now);
		/* 10 s left: it can wait; 9.5 s (6.75 + 3 > 9.5): it runs. */
		ck_assert_int_eq(find(it, 9, 50 * S)->run, t);
	}

	/* Sixteen 26 MB files due in 29 s, beside the eight: the first
	 * gets 12/9 MB/s and needs 19.5 s, the third 12/11 and 23.8 s, the
	 * fourth 12/12 and 26 s, the fifth 28.2 s, the sixth 30.3 s: five
	 * run now, the others are left to their clients. */
	measured(&s, now, 12 * MB, 1500000, 8);
	s.fastest = 12 * MB;
	for (int i = 0; i < 8; i++)
		it[i] = sending(i * S, now + 25 * S, 26 * MB, 10 * MB, 1500000);
	for (int i = 8; i < 24; i++)
		it[i] = waiting((50 + i) * S, now - 1 * S, 26 * MB);
	sched_tick(&s, it, 24, now);
	for (int i = 0; i < 24; i++) {
		if (it[i].key < 50 * S)
			continue;
		urgent += (it[i].flags & SCHED_URGENT) != 0;
		doomed += (it[i].flags & SCHED_DOOMED) != 0;
		ck_assert_int_eq(it[i].run, (it[i].flags & SCHED_URGENT) != 0);
	}
	ck_assert_int_eq(urgent, 5);
	ck_assert_int_eq(doomed, 11);
	ck_assert_uint_eq(s.urgent, 5);

	/* Seven sending, each with 12 MB left and 16 s: with the room a
	 * wave keeps (1.6 times what they need), eight may share the link
	 * (12.8 s of their 13 s less the guard), not nine (14.4 s). Of two
	 * 26 MB files due in 20 s, which could both finish (17.3 and
	 * 19.5 s), one runs: a file once begun runs to its end. */
	measured(&s, now, 12 * MB, 12 * MB / 7, 8);
	s.fastest = 12 * MB;
	for (int i = 0; i < 7; i++)
		it[i] = sending(i * S, now + 16 * S, 26 * MB, 12 * MB,
		    12 * MB / 7);
	for (int i = 7; i < 9; i++)
		it[i] = waiting((50 + i) * S, now - 10 * S, 26 * MB);
	sched_tick(&s, it, 9, now);
	ck_assert_uint_eq(s.urgent, 1);
	ck_assert_int_eq(find(it, 9, 57 * S)->run, 1);
	ck_assert_int_eq(find(it, 9, 58 * S)->run, 0);
	ck_assert(find(it, 9, 58 * S)->flags & SCHED_DOOMED);
}
END_TEST

/* A request held before its OACK: answering it costs nothing (a Pi's
 * probe moves no byte), so it is never left to its client's timeout,
 * and takes no place; a boot of the wave gets its answer at once. */
START_TEST(asked_requests)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[4];

	measured(&s, now, 1 * MB, 1 * MB, 1);
	s.fastest = 10 * MB;
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
	/* 26 MB due in 20 s: as a file it could not (at half the link, it
	 * would need 52 s); as a probe it can, and a probe answered late
	 * leaves its Pi's next request less time. It is answered once
	 * the time left is no more than the file would need at the share
	 * it would get: now. */
	it[1] = waiting(50 * S, now - 10 * S, 26 * MB);
	it[1].flags |= SCHED_ASKED;
	/* 2 MB due in 20 s: at half the link 4 s, with the guard 7 s: it
	 * waits. */
	it[2] = waiting(60 * S, now - 10 * S, 2 * MB);
	it[2].flags |= SCHED_ASKED;
	/* A boot of the wave: answered now, in no one's place. */
	it[3] = waiting(5 * S, now, 8 * MB);
	it[3].flags |= SCHED_ASKED | SCHED_WAVE;
	sched_tick(&s, it, 4, now);
	ck_assert_int_eq(find(it, 4, 50 * S)->run, 1);
	ck_assert(!(find(it, 4, 50 * S)->flags & SCHED_DOOMED));
	ck_assert_int_eq(find(it, 4, 60 * S)->run, 0);
	ck_assert_int_eq(find(it, 4, 5 * S)->run, 1);
	ck_assert_uint_eq(s.held, 1);
}
END_TEST

/* A crowd of the wave's boots at their big files at once (their kernels
 * were let run together): as many begin as leave every file begun, and
 * each of theirs, time to end with the room a wave keeps, whatever the
 * limit lets. */
START_TEST(a_crowd_begins_as_far_as_all_can_end)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[10];
	unsigned let;

	for (int tight = 1; tight >= 0; tight--) {
		/* 12 MB/s at best, four sending. Three have 2 MB left and
		 * 25 s; the fourth, when tight, 8 MB and 9 s: with the
		 * guard and room it allows (9 - 3) x 12 / 8 / 1.6, 5.6
		 * sharing the link. A 26 MB file due in 30 s allows
		 * (30 - 3) x 12 / 26 / 1.6, 7.8. The limit would let 20. */
		measured(&s, now, 12 * MB, 3 * MB, 20);
		s.big = 26 * MB;
		for (int i = 0; i < 3; i++)
			it[i] = sending(i * S, now + 25 * S, 26 * MB, 2 * MB,
			    3 * MB);
		it[3] = tight ? sending(3 * S, now + 9 * S, 9 * MB, 8 * MB,
		    3 * MB) : sending(3 * S, now + 9 * S, 9 * MB, 1 * MB,
		    3 * MB);
		for (int i = 4; i < 10; i++) {
			it[i] = waiting((10 + i) * S, now, 26 * MB);
			it[i].flags |= SCHED_WAVE;
		}
		sched_tick(&s, it, 10, now);
		let = 0;
		for (int i = 0; i < 10; i++)
			let += it[i].key >= 10 * S && it[i].run;
		/* The oldest boots first: five sending when tight, seven
		 * when not. */
		ck_assert_uint_eq(let, (tight ? 1 : 3));
		ck_assert_int_eq(find(it, 10, 14 * S)->run, 1);
		ck_assert_int_eq(find(it, 10, 19 * S)->run, 0);
		ck_assert_uint_eq(s.held, (tight ? 5 : 3));
	}
}
END_TEST

/* A held file let run at its latest has no room to spare: no file
 * begins beside it, at that tick or while it runs. */
START_TEST(a_file_let_run_at_its_latest_keeps_its_share)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[6];

	for (int t = 0; t < 3; t++) {
		/* Three sending at ease on a 12 MB/s link. A 9 MB kernel
		 * held with 5.9 s left would get a quarter, 3 MB/s, and
		 * need 3 s: it is let run now. Then it sends; then it is
		 * done. Two boots of the wave at a 26 MB file due in 30 s
		 * (room for 7.8 sharing) wait until it is done. */
		measured(&s, now, 12 * MB, 3 * MB, 20);
		s.big = 26 * MB;
		s.fastest = 12 * MB;
		for (int i = 0; i < 3; i++)
			it[i] = sending(i * S, now + 25 * S, 26 * MB, 2 * MB,
			    3 * MB);
		if (t == 0)
			it[3] = waiting(50 * S, now - 30 * S + 5900 * MS,
			    9 * MB);
		else if (t == 1)
			it[3] = sending(50 * S, now + 5800 * MS, 9 * MB,
			    8700000, 3 * MB);
		else
			it[3] = sending(50 * S, now + 3 * S, 9 * MB, 0, 3 * MB);
		for (int i = 4; i < 6; i++) {
			it[i] = waiting((10 + i) * S, now, 26 * MB);
			it[i].flags |= SCHED_WAVE;
		}
		sched_tick(&s, it, 6, now);
		ck_assert_int_eq(find(it, 6, 50 * S)->run, 1);
		ck_assert_uint_eq(s.urgent, t == 0);
		ck_assert_int_eq(find(it, 6, 14 * S)->run, t == 2);
		ck_assert_int_eq(find(it, 6, 15 * S)->run, t == 2);
	}
}
END_TEST

/* A file the link moves in a tick (a Pi's device tree) takes nothing
 * the others would miss: it begins beside a file let run at its latest,
 * and at its own latest it is let run, never left to its timeout. One
 * sending with no more than that left holds no file back. */
START_TEST(a_file_that_costs_nothing_is_never_left)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[4];
	/* 52 KB due in 2.9 s; 2 MB, no longer nothing; a boot of the
	 * wave at its device tree; the same at its initramfs once the
	 * kernel has but 100 KB left, in its last 2 s. */
	const uint64_t size[4] = { 52593, 2 * MB, 52593, 26 * MB };
	const uint64_t asked[4] = { now - 30 * S + 2900 * MS,
	    now - 30 * S + 2900 * MS, now, now };

	for (int t = 0; t < 4; t++) {
		/* Three sending on a 12 MB/s link, one of them with 9 MB
		 * left and 5.8 s: no room for another file to begin, nor
		 * for a held one to be let run beside it. */
		measured(&s, now, 12 * MB, 3 * MB, 20);
		s.big = 26 * MB;
		s.fastest = 12 * MB;
		it[0] = sending(1 * S, now + 25 * S, 26 * MB, 2 * MB, 3 * MB);
		it[1] = sending(2 * S, now + 25 * S, 26 * MB, 2 * MB, 3 * MB);
		it[2] = t < 3 ? sending(3 * S, now + 5800 * MS, 9 * MB, 9 * MB,
		    3 * MB) : sending(3 * S, now + 2 * S, 9 * MB, 100000,
		    3 * MB);
		it[3] = waiting(50 * S, asked[t], size[t]);
		if (t >= 2)
			it[3].flags |= SCHED_WAVE;
		sched_tick(&s, it, 4, now);
		ck_assert_int_eq(find(it, 4, 50 * S)->run, (t != 1));
		ck_assert_int_eq(!!(find(it, 4, 50 * S)->flags & SCHED_DOOMED),
		    (t == 1));
	}
}
END_TEST

START_TEST(impatient_and_unanswered)
{
	struct sched s;
	uint64_t now = 100 * S;
	struct sched_item it[3];

	measured(&s, now, 10 * MB, 1 * MB, 1);
	it[0] = sending(10 * S, now + 20 * S, 30 * MB, 5 * MB, 1 * MB);
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

/* Ticks of a link that moves rate(limit) bytes a second with limit
 * transfers running; returns the limit after secs seconds. */
static unsigned
run_link(struct sched *s, uint64_t *now, unsigned secs,
    uint64_t (*rate)(unsigned))
{
	struct sched_item it[64];

	for (unsigned t = 0; t < secs * 10; t++) {
		unsigned lim = s->limit < 40 ? s->limit : 40;
		uint64_t each = rate(lim) / lim;

		*now += SCHED_TICK_NS;
		for (unsigned i = 0; i < 64; i++) {
			if (i < lim)
				it[i] = sending(i * S, *now + 20 * S, 10 * MB,
				    MB, each);
			else
				it[i] = waiting(i * S, *now, 100);
			it[i].flags |= SCHED_WAVE;
		}
		sched_tick(s, it, 64, *now);
	}
	return s->limit;
}

static uint64_t
fills_at_six(unsigned n)
{
	return (n < 6 ? n : 6) * 2 * MB;
}

START_TEST(limit_finds_what_fills_the_link)
{
	struct sched s;
	uint64_t now = 100 * S;
	unsigned lim;

	measured(&s, now, 0, 0, 2);
	/* Each transfer moves 2 MB/s alone; the link takes 12. */
	lim = run_link(&s, &now, 30, fills_at_six);
	ck_assert_uint_ge(lim, 6);
	ck_assert_uint_le(lim, 8);
	ck_assert_uint_ge(s.best, 11 * MB);
}
END_TEST

/* A second of eight transfers of size bytes, each with 10 MB left and
 * 10 s to go at 1 MB/s: behind. */
static void
eight_behind(struct sched *s, uint64_t *now, uint64_t size, unsigned flags)
{
	struct sched_item it[8];

	for (int t = 0; t < 10; t++) {
		*now += SCHED_TICK_NS;
		for (int i = 0; i < 8; i++) {
			it[i] = sending(i * S, *now + 10 * S, size, 10 * MB,
			    1 * MB);
			it[i].flags |= flags;
		}
		sched_tick(s, it, 8, *now);
	}
}

START_TEST(lagging_lowers_the_limit)
{
	struct sched s;
	uint64_t now = 100 * S;

	measured(&s, now, 10 * MB, 1 * MB, 8);
	/* One alone moved 3 MB/s lately: sharing slows these. */
	s.fastest = 3 * MB;
	eight_behind(&s, &now, 30 * MB, SCHED_WAVE);
	ck_assert_uint_lt(s.limit, 8);
	/* Behind, but as fast as one alone: fewer would not help. */
	measured(&s, now, 10 * MB, 1 * MB, 8);
	s.fastest = 1 * MB;
	eight_behind(&s, &now, 15 * MB, 0);
	/* As many as fill the link at 1 MB/s each, and one more. */
	ck_assert_uint_eq(s.cut, 0);
	ck_assert_uint_eq(s.limit, 10 + 1);
	/* But no more than the link has room for: with files of 30 MB,
	 * 1.6 MB/s each (their need in 30 s, with room), six. */
	measured(&s, now, 10 * MB, 1 * MB, 8);
	s.fastest = 1 * MB;
	eight_behind(&s, &now, 30 * MB, 0);
	ck_assert_uint_eq(s.cut, 0);
	ck_assert_uint_eq(s.limit, 6);
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
	tcase_add_test(tc, a_begun_file_runs_to_its_end);
	tcase_add_test(tc, a_new_boot_needs_room_per_host);
	tcase_add_test(tc, nothing_running_lets_one_run);
	tcase_add_test(tc, files_beside_a_boot_bound_the_first_wave);
	tcase_add_test(tc, held_runs_for_its_deadline);
	tcase_add_test(tc, held_runs_at_a_fair_share);
	tcase_add_test(tc, asked_requests);
	tcase_add_test(tc, a_crowd_begins_as_far_as_all_can_end);
	tcase_add_test(tc, a_file_let_run_at_its_latest_keeps_its_share);
	tcase_add_test(tc, a_file_that_costs_nothing_is_never_left);
	tcase_add_test(tc, impatient_and_unanswered);
	tcase_add_test(tc, limit_finds_what_fills_the_link);
	tcase_add_test(tc, lagging_lowers_the_limit);
	tcase_add_test(tc, overload_begins_and_ends);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sched_suite)
