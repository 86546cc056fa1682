/* The adaptive polling window: grows while requests come soon after
 * polling gives up, shrinks to nothing for an idle or distant client,
 * and never leaves [0, BUSYPOLL_MAX_NS]. */
#include <check.h>
#include <stdint.h>

#include "nbdd/busypoll.h"
#include "tests/unit/check_main.h"

START_TEST(starts_small)
{
	struct busypoll bp;

	busypoll_init(&bp);
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MIN_NS);
}
END_TEST

/* A client whose requests come gap_ns apart: polling catches a request
 * when the window covers the gap, else we sleep for the rest of it. */
static int
requests(struct busypoll *bp, int64_t gap_ns, int n)
{
	int caught = 0;

	for (int i = 0; i < n; i++) {
		if (bp->window_ns >= gap_ns)
			caught++;
		else
			busypoll_slept(bp, gap_ns - bp->window_ns);
		ck_assert_int_ge(bp->window_ns, 0);
		ck_assert_int_le(bp->window_ns, BUSYPOLL_MAX_NS);
	}
	return caught;
}

START_TEST(grows_until_it_covers_a_busy_client)
{
	struct busypoll bp;

	busypoll_init(&bp);
	/* Requests 30 us apart: 5, 10, 20 us windows miss, 40 us catches
	 * every one after. */
	ck_assert_int_eq(requests(&bp, 30000, 100), 97);
	ck_assert_int_eq(bp.window_ns, 40000);
	/* Faster still: the window stays, and catches all. */
	ck_assert_int_eq(requests(&bp, 2000, 100), 100);
	/* Requests 48 us apart: grows to the cap, which catches them. */
	ck_assert_int_eq(requests(&bp, 48000, 100), 99);
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MAX_NS);
}
END_TEST

START_TEST(never_polls_for_a_slow_client)
{
	struct busypoll bp;

	/* Requests 200 us apart (a Pi a network away): never caught, and
	 * after a few the window is gone for good. */
	busypoll_init(&bp);
	ck_assert_int_eq(requests(&bp, 200000, 100), 0);
	ck_assert_int_eq(bp.window_ns, 0);
}
END_TEST

START_TEST(shrinks_to_nothing_for_an_idle_client)
{
	struct busypoll bp;
	int i;

	busypoll_init(&bp);
	requests(&bp, 48000, 20);
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MAX_NS);
	/* A Pi over a real network, one request per millisecond: a few
	 * long sleeps and polling stops altogether. */
	for (i = 0; i < 5 && bp.window_ns > 0; i++)
		busypoll_slept(&bp, 1000 * 1000);
	ck_assert_int_eq(bp.window_ns, 0);
	busypoll_slept(&bp, 3600LL * 1000 * 1000 * 1000);
	ck_assert_int_eq(bp.window_ns, 0);
}
END_TEST

START_TEST(relearns_after_a_pause)
{
	struct busypoll bp;

	busypoll_init(&bp);
	busypoll_slept(&bp, 10 * 1000 * 1000);
	ck_assert_int_eq(bp.window_ns, 0);
	/* Busy again: the first quick request restarts polling. */
	busypoll_slept(&bp, 3000);
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MIN_NS);
}
END_TEST

START_TEST(gap_just_past_the_cap_shrinks)
{
	struct busypoll bp;

	busypoll_init(&bp);
	bp.window_ns = BUSYPOLL_MAX_NS;
	busypoll_slept(&bp, 0);		/* gap == cap: still worth it */
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MAX_NS);
	busypoll_slept(&bp, 1);		/* one past: halve */
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MAX_NS / 2);
}
END_TEST

START_TEST(bad_clock_readings)
{
	struct busypoll bp;

	/* A clock that steps back gives a negative sleep: counted as none,
	 * never as a reason to overflow or go below zero. */
	busypoll_init(&bp);
	busypoll_slept(&bp, -5000000);
	ck_assert_int_eq(bp.window_ns, 2 * BUSYPOLL_MIN_NS);
	busypoll_slept(&bp, INT64_MAX);
	ck_assert_int_ge(bp.window_ns, 0);
	ck_assert_int_le(bp.window_ns, BUSYPOLL_MAX_NS);
	bp.window_ns = BUSYPOLL_MAX_NS;
	busypoll_slept(&bp, INT64_MAX);
	ck_assert_int_eq(bp.window_ns, BUSYPOLL_MAX_NS / 2);
}
END_TEST

static Suite *
busypoll_suite(void)
{
	Suite *s = suite_create("nbdd_busypoll");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, starts_small);
	tcase_add_test(tc, grows_until_it_covers_a_busy_client);
	tcase_add_test(tc, never_polls_for_a_slow_client);
	tcase_add_test(tc, shrinks_to_nothing_for_an_idle_client);
	tcase_add_test(tc, relearns_after_a_pause);
	tcase_add_test(tc, gap_just_past_the_cap_shrinks);
	tcase_add_test(tc, bad_clock_readings);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(busypoll_suite)
