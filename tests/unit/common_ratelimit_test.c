/* The rate limit of the lines a remote host can cause. */
#include <stdint.h>
#include <string.h>

#include "common/ratelimit.h"
#include "tests/unit/check_main.h"

START_TEST(ratelimit_burst_then_rate)
{
	struct ratelimit rl;
	uint32_t held = 99;
	int ok = 0;

	memset(&rl, 0, sizeof(rl));
	for (int i = 0; i < 1000; i++)
		ok += ratelimit_take(&rl, 5000, &held);
	ck_assert_int_eq(ok, RATELIMIT_BURST);
	/* Two seconds on: one more line, which counts those held back. */
	ck_assert(ratelimit_take(&rl, 7000, &held));
	ck_assert_uint_eq(held, 1000 - RATELIMIT_BURST);
	ck_assert(!ratelimit_take(&rl, 7000, &held));
	/* A minute of a flood at 1000 a second yields about PER_MIN. */
	ok = 0;
	for (uint64_t t = 8000; t < 68000; t++)
		ok += ratelimit_take(&rl, t, &held);
	ck_assert_int_le(ok, RATELIMIT_PER_MIN + 1);
	ck_assert_int_ge(ok, RATELIMIT_PER_MIN - 1);
	/* A long quiet refills to the burst, no more. */
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += ratelimit_take(&rl, 10000000, &held);
	ck_assert_int_eq(ok, RATELIMIT_BURST);
	/* A clock that goes back adds nothing; one near the top of its
	 * range neither overflows nor refills wrongly. */
	ck_assert(!ratelimit_take(&rl, 5, &held));
	ck_assert(ratelimit_take(&rl, UINT64_MAX, &held));
}
END_TEST

START_TEST(ratelimit_own_figures)
{
	struct ratelimit rl;
	uint32_t held = 99;
	int ok = 0;

	ratelimit_init(&rl, 200, 60);
	for (int i = 0; i < 1000; i++)
		ok += ratelimit_take(&rl, 5000, &held);
	ck_assert_int_eq(ok, 200);
	/* 60 a minute: one a second, and it counts those held back. */
	ck_assert(!ratelimit_take(&rl, 5999, &held));
	ck_assert(ratelimit_take(&rl, 6000, &held));
	ck_assert_uint_eq(held, 1000 - 200 + 1);
	ok = 0;
	for (uint64_t t = 6001; t < 66001; t++)
		ok += ratelimit_take(&rl, t, &held);
	ck_assert_int_le(ok, 61);
	ck_assert_int_ge(ok, 59);
	/* A long quiet refills to this bucket's burst, no more; a clock at
	 * the top of its range does not overflow it. */
	ok = 0;
	for (int i = 0; i < 1000; i++)
		ok += ratelimit_take(&rl, UINT64_MAX, &held);
	ck_assert_int_eq(ok, 200);
	/* Zero figures are taken as one, never as "no limit". */
	ratelimit_init(&rl, 0, 0);
	ck_assert(ratelimit_take(&rl, 0, &held));
	ck_assert(!ratelimit_take(&rl, 59999, &held));
	ck_assert(ratelimit_take(&rl, 60000, &held));
	ck_assert_uint_eq(held, 1);
}
END_TEST

static Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("common/ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, ratelimit_burst_then_rate);
	tcase_add_test(tc, ratelimit_own_figures);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ratelimit_suite)
