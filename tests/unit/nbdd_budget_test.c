/* The budget of payloads held whole: its default from the memory, buffer
 * sizes, the order in which waiting requests get room, one host's share,
 * and giving back. */
#include <arpa/inet.h>
#include <netinet/in.h>
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
	struct budget_want w[6], *q;
	const char *hosts[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3",
	    "10.0.0.4", "10.0.0.5", "10.0.0.6" };

	budget_init(&b, 128 * MIB);
	for (int i = 0; i < 6; i++)
		w[i] = want(hosts[i], 32 * MIB);
	q = queue(w, 6);
	ck_assert_int_eq(budget_grant(&b, &q), 4);
	ck_assert_ptr_eq(q, &w[4]);
	ck_assert_uint_eq(b.used, 128 * MIB);
	for (int i = 0; i < 4; i++)
		ck_assert(w[i].granted);
	ck_assert(!w[4].granted && !w[5].granted);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	budget_release(&b, &w[2].host, 32 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[4].granted && !w[5].granted);
	ck_assert_ptr_eq(q, &w[5]);
	for (int i = 0; i < 5; i++)
		if (i != 2)
			budget_release(&b, &w[i].host, 32 * MIB);
	ck_assert_uint_eq(b.used, 0);
	ck_assert_uint_eq(b.nhold, 0);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert_ptr_null(q);
}
END_TEST

/* A large request at the head is not passed over by small ones behind
 * it, however many come. */
START_TEST(large_not_starved)
{
	struct budget_want w[4], *q;

	budget_init(&b, 64 * MIB);
	w[0] = want("10.0.0.1", 16 * MIB);
	w[1] = want("10.0.0.2", 32 * MIB);
	q = queue(w, 2);
	ck_assert_int_eq(budget_grant(&b, &q), 2);
	/* 48 MiB used: the next 32 MiB waits, and a small one behind it
	 * too, though it would fit. */
	w[2] = want("10.0.0.4", 32 * MIB);
	w[3] = want("10.0.0.3", BUDGET_BUF_MIN);
	q = queue(&w[2], 2);
	ck_assert_int_eq(budget_grant(&b, &q), 0);
	ck_assert_ptr_eq(q, &w[2]);
	budget_release(&b, &w[0].host, 16 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[2].granted && !w[3].granted);
	ck_assert_uint_eq(b.used, 64 * MIB);
	budget_release(&b, &w[1].host, 32 * MIB);
	ck_assert_int_eq(budget_grant(&b, &q), 1);
	ck_assert(w[3].granted);
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
	tcase_add_test(tc, large_not_starved);
	tcase_add_test(tc, host_share);
	tcase_add_test(tc, release_unknown);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(budget_suite)
