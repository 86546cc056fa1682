/* The heap of transfer deadlines: the earliest first, moves, removals, a
 * full heap, the clock's wrap, and a long random run checked against a
 * plain scan. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/clock.h"
#include "tftpd/timerheap.h"
#include "tests/unit/check_main.h"

/* Every timer in the heap knows its slot, and no child is due before
 * its parent. */
static void
check_heap(const struct timerheap *h)
{
	for (size_t i = 0; i < h->n; i++) {
		ck_assert_uint_eq(h->v[i]->slot, i);
		if (i > 0)
			ck_assert((int64_t)(h->v[i]->due -
			    h->v[(i - 1) / 2]->due) >= 0);
	}
}

START_TEST(empty_and_order)
{
	struct timerheap h;
	struct timer t[5];
	const uint64_t due[5] = { 50, 10, 40, 30, 20 };

	ck_assert_int_eq(timerheap_init(&h, 5), 0);
	ck_assert_ptr_null(timerheap_first(&h));
	for (int i = 0; i < 5; i++) {
		timer_init(&t[i]);
		ck_assert_int_eq(timerheap_set(&h, &t[i], due[i]), 0);
		check_heap(&h);
	}
	for (uint64_t want = 10; want <= 50; want += 10) {
		struct timer *f = timerheap_first(&h);

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->due, want);
		timerheap_remove(&h, f);
		ck_assert_uint_eq(f->slot, TIMER_UNSET);
		check_heap(&h);
	}
	ck_assert_ptr_null(timerheap_first(&h));
	timerheap_free(&h);
}
END_TEST

START_TEST(move_and_remove)
{
	struct timerheap h;
	struct timer t[4];

	ck_assert_int_eq(timerheap_init(&h, 4), 0);
	for (int i = 0; i < 4; i++) {
		timer_init(&t[i]);
		ck_assert_int_eq(timerheap_set(&h, &t[i], 100 + i), 0);
	}
	/* Later: the first moves down and the next comes up. */
	ck_assert_int_eq(timerheap_set(&h, &t[0], 1000), 0);
	check_heap(&h);
	ck_assert_ptr_eq(timerheap_first(&h), &t[1]);
	/* Earlier: the last moves to the top. */
	ck_assert_int_eq(timerheap_set(&h, &t[3], 5), 0);
	check_heap(&h);
	ck_assert_ptr_eq(timerheap_first(&h), &t[3]);
	ck_assert_uint_eq(h.n, 4);
	/* A timer taken out of the middle; taking it again does nothing. */
	timerheap_remove(&h, &t[2]);
	timerheap_remove(&h, &t[2]);
	check_heap(&h);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_int_eq(timerheap_set(&h, &t[2], 1), 0);
	ck_assert_ptr_eq(timerheap_first(&h), &t[2]);
	timerheap_free(&h);
}
END_TEST

START_TEST(full)
{
	struct timerheap h;
	struct timer t[3];

	ck_assert_int_eq(timerheap_init(&h, 2), 0);
	for (int i = 0; i < 3; i++)
		timer_init(&t[i]);
	ck_assert_int_eq(timerheap_set(&h, &t[0], 1), 0);
	ck_assert_int_eq(timerheap_set(&h, &t[1], 2), 0);
	ck_assert_int_eq(timerheap_set(&h, &t[2], 0), -1);
	ck_assert_uint_eq(t[2].slot, TIMER_UNSET);
	/* Moving one already in is no insertion. */
	ck_assert_int_eq(timerheap_set(&h, &t[1], 0), 0);
	ck_assert_ptr_eq(timerheap_first(&h), &t[1]);
	timerheap_free(&h);
}
END_TEST

START_TEST(across_the_wrap)
{
	struct timerheap h;
	struct timer a, b, c;

	ck_assert_int_eq(timerheap_init(&h, 3), 0);
	timer_init(&a);
	timer_init(&b);
	timer_init(&c);
	/* Due just after the clock wraps is later than due just before. */
	ck_assert_int_eq(timerheap_set(&h, &a, 3), 0);
	ck_assert_int_eq(timerheap_set(&h, &b, UINT64_MAX - 2), 0);
	ck_assert_int_eq(timerheap_set(&h, &c, 0), 0);
	ck_assert_ptr_eq(timerheap_first(&h), &b);
	timerheap_remove(&h, &b);
	ck_assert_ptr_eq(timerheap_first(&h), &c);
	ck_assert(time_reached(2, UINT64_MAX - 2));
	ck_assert(!time_reached(UINT64_MAX - 2, 2));
	ck_assert(time_reached(7, 7));
	timerheap_free(&h);
}
END_TEST

START_TEST(random_against_scan)
{
	enum { N = 200 };
	struct timerheap h;
	struct timer t[N];
	unsigned seed = 12345;

	ck_assert_int_eq(timerheap_init(&h, N), 0);
	for (int i = 0; i < N; i++)
		timer_init(&t[i]);
	for (int step = 0; step < 20000; step++) {
		struct timer *x = &t[rand_r(&seed) % N], *min = NULL;

		if (rand_r(&seed) % 4 == 0)
			timerheap_remove(&h, x);
		else
			ck_assert_int_eq(timerheap_set(&h, x,
			    (uint64_t)(rand_r(&seed) % 1000)), 0);
		if (step % 97 == 0)
			check_heap(&h);
		for (int i = 0; i < N; i++)
			if (t[i].slot != TIMER_UNSET &&
			    (min == NULL || t[i].due < min->due))
				min = &t[i];
		if (min == NULL)
			ck_assert_ptr_null(timerheap_first(&h));
		else
			ck_assert_uint_eq(timerheap_first(&h)->due, min->due);
	}
	check_heap(&h);
	timerheap_free(&h);
}
END_TEST

static Suite *
timerheap_suite(void)
{
	Suite *s = suite_create("tftpd_timerheap");
	TCase *tc = tcase_create("timerheap");

	tcase_add_test(tc, empty_and_order);
	tcase_add_test(tc, move_and_remove);
	tcase_add_test(tc, full);
	tcase_add_test(tc, across_the_wrap);
	tcase_add_test(tc, random_against_scan);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(timerheap_suite)
