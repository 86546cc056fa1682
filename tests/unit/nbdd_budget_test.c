/* The budget of payloads held whole: its default from the memory, buffer
 * sizes, the order in which waiting requests get room, one host's share,
 * and giving back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nbdd/budget.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"

#define MIB	(1ULL << 20)

static struct budget b;

static struct netaddr
host(const char *s)
{
	struct netaddr n;

	memset(&n, 0, sizeof(n));
	n.family = AF_INET;
	n.prefix = 32;
	ck_assert_int_eq(inet_pton(AF_INET, s, n.addr), 1);
	return n;
}

static struct budget_want
want(const char *h, uint64_t bytes)
{
	struct budget_want w = { .host = host(h), .bytes = bytes };

	return w;
}

/* Links w[0..n) into a queue, in order. */
static struct budget_want *
queue(struct budget_want *w, int n)
{
	for (int i = 0; i < n; i++)
		w[i].next = i + 1 < n ? &w[i + 1] : NULL;
	return n > 0 ? &w[0] : NULL;
}

START_TEST(default_from_memory)
{
	ck_assert_uint_eq(budget_default(0), BUDGET_MIN);
	ck_assert_uint_eq(budget_default(256 * MIB), BUDGET_MIN);
	ck_assert_uint_eq(budget_default(1024 * MIB), 128 * MIB);
	ck_assert_uint_eq(budget_default(24000 * MIB), BUDGET_MAX);
	/* One host's share always holds the largest payload. */
	budget_init(&b, BUDGET_MIN);
	ck_assert_uint_eq(b.host_max, BUDGET_MIN / 2);
	ck_assert(budget_fits(&b, budget_buffer_size(NBDD_MAX_PAYLOAD)));
	ck_assert(!budget_fits(&b, BUDGET_MIN / 2 + 1));
	ck_assert_uint_eq(budget_large_max(&b), 48 * MIB);
}
END_TEST

START_TEST(buffer_sizes)
{
	ck_assert_uint_eq(budget_buffer_size(1), BUDGET_BUF_MIN);
	ck_assert_uint_eq(budget_buffer_size(BUDGET_BUF_MIN), BUDGET_BUF_MIN);
	ck_assert_uint_eq(budget_buffer_size(BUDGET_BUF_MIN + 1),
	    2 * BUDGET_BUF_MIN);
	ck_assert_uint_eq(budget_buffer_size(1280 * 1024), 2 * MIB);
	ck_assert_uint_eq(budget_buffer_size(NBDD_MAX_PAYLOAD),
	    NBDD_MAX_PAYLOAD);
	ck_assert_uint_eq(budget_buffer_size(UINT64_MAX), UINT64_MAX);
}
END_TEST

/* Within the budget every request gets room at once; beyond it the
 * rest wait, and get it as room is given back, in order. */
START_TEST(in_order)
{
	struct budget_want w[18], *q;
	char name[32];	/* "10.0.N." and any int */

	budget_init(&b, 64 * MIB);
	for (int i = 0; i < 18; i++) {
		snprintf(name, sizeof(name), "10.0.0.%d", i + 1);
		w[i] = want(name, BUDGET_KERNEL_MAX);
	}
	q = queue(w, 18);
	ck_assert_int_eq(budget_grant(&b, &q), 16);
	ck_assert_ptr_eq(q, &w[16]);
	ck_assert_uint_eq(b.used, 64 * MIB);
	ck_assert_uint_eq(b.large_used, 0);
	for (int i = 0; i < 16; i++)
		ck_assert(w[i].granted);
	ck_assert(!w[16].granted && !w[17].granted);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	budget_release(&b, &w[2].host, BUDGET_KERNEL_MAX);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[16].granted && !w[17].granted);
	ck_assert_ptr_eq(q, &w[17]);
	for (int i = 0; i < 17; i++)
		if (i != 2)
			budget_release(&b, &w[i].host, BUDGET_KERNEL_MAX);
	ck_assert_uint_eq(b.used, 0);
	ck_assert_uint_eq(b.nhold, 0);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert_ptr_null(q);
}
END_TEST

/* Large payloads hold three quarters at most, in order; a Pi's WRITE
 * queued behind them gets room from the quarter kept for the others at
 * once, as do the others behind it until that quarter is held. */
START_TEST(kernel_sized_pass_large)
{
	struct budget_want w[16], *q;
	char name[32];	/* "10.0.N." and any int */

	budget_init(&b, 64 * MIB);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "10.0.1.%d", i + 1);
		w[i] = want(name, 16 * MIB);
	}
	for (int i = 6; i < 16; i++) {
		snprintf(name, sizeof(name), "10.0.2.%d", i + 1);
		w[i] = want(name, budget_buffer_size(1280 * 1024));
	}
	q = queue(w, 16);
	/* Three large, then eight of 2 MiB in the quarter kept. */
	ck_assert_int_eq(budget_grant(&b, &q), 11);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(w[i].granted, i < 3 || (i >= 6 && i < 14));
	ck_assert_uint_eq(b.large_used, 48 * MIB);
	ck_assert_uint_eq(b.used, 64 * MIB);
	ck_assert_ptr_eq(q, &w[3]);
	/* Room a large one gives back goes to the next large one, in
	 * order, not to the others past the quarter. */
	budget_release(&b, &w[0].host, 16 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[3].granted && !w[4].granted && !w[14].granted);
	/* A 2 MiB given back goes to the next of the others. */
	budget_release(&b, &w[6].host, 2 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[14].granted && !w[15].granted);
	ck_assert_uint_eq(b.used - b.large_used, 16 * MIB);
}
END_TEST

/* A large request is not passed over for ever by small ones behind it,
 * however many come: they have only the quarter kept for them. */
START_TEST(large_not_starved)
{
	struct budget_want w[16], big, late[4], *q;
	char name[32];	/* "10.0.N." and any int */

	budget_init(&b, 64 * MIB);
	for (int i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "10.0.0.%d", i + 1);
		w[i] = want(name, BUDGET_KERNEL_MAX);
	}
	q = queue(w, 14);
	ck_assert_int_eq(budget_grant(&b, &q), 14);
	ck_assert_uint_eq(b.used, 56 * MIB);
	/* 56 MiB held by others: a 16 MiB one waits, and the small ones
	 * behind it with it, though one would fit. */
	big = want("10.0.1.1", 16 * MIB);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "10.0.2.%d", i + 1);
		late[i] = want(name, BUDGET_KERNEL_MAX);
	}
	q = &big;
	big.next = queue(late, 4);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	ck_assert_ptr_eq(q, &big);
	budget_release(&b, &w[0].host, BUDGET_KERNEL_MAX);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	budget_release(&b, &w[1].host, BUDGET_KERNEL_MAX);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(big.granted && !late[0].granted);
	ck_assert_uint_eq(b.used, 64 * MIB);
	for (int i = 2; i < 14; i++)
		budget_release(&b, &w[i].host, BUDGET_KERNEL_MAX);
	ck_assert_int_eq(budget_grant(&b, &q), 4);
	ck_assert_ptr_null(q);
	ck_assert_uint_eq(b.large_used, 16 * MIB);
}
END_TEST

/* One host holds at most half: its next request waits without holding
 * up another host's behind it. */
START_TEST(host_share)
{
	struct budget_want w[5], *q;

	budget_init(&b, 128 * MIB);
	w[0] = want("10.0.0.1", 32 * MIB);
	w[1] = want("10.0.0.1", 32 * MIB);
	w[2] = want("10.0.0.1", 32 * MIB);
	w[3] = want("10.0.0.2", 32 * MIB);
	w[4] = want("10.0.0.1", BUDGET_BUF_MIN);
	q = queue(w, 5);
	ck_assert_int_eq(budget_grant(&b, &q), 3);
	ck_assert(w[0].granted && w[1].granted && w[3].granted);
	ck_assert(!w[2].granted && !w[4].granted);
	ck_assert_uint_eq(b.used, 96 * MIB);
	ck_assert_ptr_eq(q, &w[2]);
	ck_assert_ptr_eq(w[2].next, &w[4]);
	/* Another host's room given back does nothing for it ... */
	budget_release(&b, &w[3].host, 32 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	/* ... its own does. */
	budget_release(&b, &w[0].host, 32 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[2].granted && !w[4].granted);
}
END_TEST

START_TEST(release_unknown)
{
	struct netaddr h = host("10.0.0.9");

	budget_init(&b, 64 * MIB);
	budget_release(&b, &h, MIB);
	ck_assert_uint_eq(b.used, 0);
	ck_assert_uint_eq(b.nhold, 0);
}
END_TEST

static Suite *
budget_suite(void)
{
	Suite *s = suite_create("nbdd_budget");
	TCase *tc = tcase_create("budget");

	tcase_add_test(tc, default_from_memory);
	tcase_add_test(tc, buffer_sizes);
	tcase_add_test(tc, in_order);
	tcase_add_test(tc, kernel_sized_pass_large);
	tcase_add_test(tc, large_not_starved);
	tcase_add_test(tc, host_share);
	tcase_add_test(tc, release_unknown);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(budget_suite)
