/* The retransmission timer's estimator (RFC 6298 arithmetic, floor,
 * ceiling, backoff) and the table of recent clients' round trips that
 * seeds new transfers. Karn's rule lives in the transfer and is tested
 * there (tftpd_transfer_test.c). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "tftpd/peerrtt.h"
#include "tftpd/rto.h"
#include "tests/unit/check_main.h"

#define MS	NS_PER_MS
#define US	(NS_PER_MS / 1000)

START_TEST(no_estimate_starts_at_initial)
{
	struct rto r;

	rto_init(&r, NULL);
	ck_assert_int_eq(r.have_estimate, 0);
	ck_assert_uint_eq(rto_timeout(&r), RTO_INITIAL_NS);
	/* The bounds make sense together. */
	ck_assert_uint_lt(RTO_FLOOR_NS, RTO_INITIAL_NS);
	ck_assert_uint_le(RTO_INITIAL_NS, RTO_CEILING_NS);
}
END_TEST

START_TEST(first_sample)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_sample(&r, 40 * MS);
	ck_assert_int_eq(r.have_estimate, 1);
	ck_assert_uint_eq(r.est.srtt_ns, 40 * MS);
	ck_assert_uint_eq(r.est.rttvar_ns, 20 * MS);
	/* SRTT + 4 RTTVAR = 3 R. */
	ck_assert_uint_eq(rto_timeout(&r), 120 * MS);
}
END_TEST

START_TEST(second_sample_rfc6298_gains)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_sample(&r, 40 * MS);
	rto_sample(&r, 80 * MS);
	/* RTTVAR = 3/4 20 + 1/4 |40 - 80| = 25; SRTT = 7/8 40 + 1/8 80. */
	ck_assert_uint_eq(r.est.rttvar_ns, 25 * MS);
	ck_assert_uint_eq(r.est.srtt_ns, 45 * MS);
	ck_assert_uint_eq(rto_timeout(&r), 145 * MS);
	/* A sample below SRTT counts its distance the same way. */
	rto_sample(&r, 5 * MS);
	ck_assert_uint_eq(r.est.rttvar_ns, (3 * 25 * MS + 40 * MS) / 4);
	ck_assert_uint_eq(r.est.srtt_ns, (7 * 45 * MS + 5 * MS) / 8);
}
END_TEST

START_TEST(steady_samples_converge)
{
	struct rto r;

	rto_init(&r, NULL);
	for (int i = 0; i < 200; i++)
		rto_sample(&r, 30 * MS);
	ck_assert_uint_eq(r.est.srtt_ns, 30 * MS);
	/* The variance decays to (almost) nothing: the timer sits just
	 * above the round trip, not at a multiple of it. */
	ck_assert_uint_lt(r.est.rttvar_ns, 10 * US);
	ck_assert_uint_ge(rto_timeout(&r), 30 * MS);
	ck_assert_uint_lt(rto_timeout(&r), 31 * MS);
}
END_TEST

START_TEST(steady_lan_samples_sit_on_the_floor)
{
	struct rto r;

	rto_init(&r, NULL);
	for (int i = 0; i < 100; i++)
		rto_sample(&r, 120 * US);
	ck_assert_uint_eq(r.est.srtt_ns, 120 * US);
	ck_assert_uint_eq(rto_timeout(&r), RTO_FLOOR_NS);
	/* A zero round trip (answer within the clock's resolution) is a
	 * sample like any other. */
	rto_init(&r, NULL);
	rto_sample(&r, 0);
	ck_assert_int_eq(r.have_estimate, 1);
	ck_assert_uint_eq(rto_timeout(&r), RTO_FLOOR_NS);
}
END_TEST

START_TEST(variance_widens_the_timer)
{
	struct rto r;

	rto_init(&r, NULL);
	for (int i = 0; i < 100; i++)
		rto_sample(&r, i % 2 ? 10 * MS : 30 * MS);
	/* Mean 20 ms, deviation 10 ms: the timer leaves room for the slow
	 * answers, well above the mean. */
	ck_assert_uint_gt(r.est.srtt_ns, 17 * MS);
	ck_assert_uint_lt(r.est.srtt_ns, 23 * MS);
	ck_assert_uint_gt(r.est.rttvar_ns, 7 * MS);
	ck_assert_uint_gt(rto_timeout(&r), 45 * MS);
	ck_assert_uint_lt(rto_timeout(&r), 80 * MS);
}
END_TEST

START_TEST(backoff_doubles_up_to_the_ceiling)
{
	struct rto r;
	uint64_t want = 9 * MS;

	rto_init(&r, NULL);
	rto_sample(&r, 3 * MS);
	ck_assert_uint_eq(rto_timeout(&r), want);
	for (int i = 0; i < 200; i++) {
		rto_backoff(&r);
		want = want * 2 > RTO_CEILING_NS ? RTO_CEILING_NS : want * 2;
		ck_assert_uint_eq(rto_timeout(&r), want);
	}
	ck_assert_uint_eq(rto_timeout(&r), RTO_CEILING_NS);
	ck_assert_uint_le(r.backoff, RTO_BACKOFF_MAX);
	/* Backing off changes the wait, not the estimate. */
	ck_assert_uint_eq(r.est.srtt_ns, 3 * MS);
}
END_TEST

START_TEST(backoff_from_no_estimate)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout(&r), 2 * RTO_INITIAL_NS > RTO_CEILING_NS ?
	    RTO_CEILING_NS : 2 * RTO_INITIAL_NS);
	for (int i = 0; i < 10; i++)
		rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout(&r), RTO_CEILING_NS);
}
END_TEST

START_TEST(sample_ends_backoff)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_sample(&r, 500 * US);
	ck_assert_uint_eq(rto_timeout(&r), RTO_FLOOR_NS);
	rto_backoff(&r);
	rto_backoff(&r);
	rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout(&r), 8 * RTO_FLOOR_NS);
	rto_sample(&r, 500 * US);
	ck_assert_uint_eq(r.backoff, 0);
	ck_assert_uint_eq(rto_timeout(&r), RTO_FLOOR_NS);
}
END_TEST

START_TEST(higher_floor)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_sample(&r, 500 * US);
	ck_assert_uint_eq(rto_timeout_atleast(&r, 200 * MS), 200 * MS);
	/* Backoff doubles from the higher floor, to the ceiling. */
	rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout_atleast(&r, 200 * MS), 400 * MS);
	ck_assert_uint_eq(rto_timeout(&r), 2 * RTO_FLOOR_NS);
	for (int i = 0; i < 5; i++)
		rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout_atleast(&r, 200 * MS), RTO_CEILING_NS);
	/* An estimate above the floor asked for wins. */
	rto_init(&r, NULL);
	rto_sample(&r, 100 * MS);
	ck_assert_uint_eq(rto_timeout_atleast(&r, 200 * MS), 300 * MS);
	ck_assert_uint_eq(rto_timeout_atleast(&r, 0), 300 * MS);
}
END_TEST

START_TEST(huge_samples_clamped)
{
	struct rto r;

	rto_init(&r, NULL);
	rto_sample(&r, 10 * NS_PER_SEC);
	ck_assert_uint_eq(rto_timeout(&r), RTO_CEILING_NS);
	/* A clock gone wrong (a backwards step seen as a huge unsigned
	 * difference) overflows nothing. */
	rto_sample(&r, UINT64_MAX);
	rto_sample(&r, UINT64_MAX - 1);
	ck_assert_uint_eq(rto_timeout(&r), RTO_CEILING_NS);
	for (int i = 0; i < RTO_BACKOFF_MAX + 5; i++)
		rto_backoff(&r);
	ck_assert_uint_eq(rto_timeout(&r), RTO_CEILING_NS);
	/* And the estimate recovers from it with normal samples. */
	for (int i = 0; i < 400; i++)
		rto_sample(&r, 1 * MS);
	ck_assert_uint_eq(rto_timeout(&r), RTO_FLOOR_NS);
}
END_TEST

START_TEST(seeded)
{
	struct rto_estimate seed = { 5 * MS, 1 * MS };
	struct rto r;

	rto_init(&r, &seed);
	ck_assert_int_eq(r.have_estimate, 1);
	ck_assert_uint_eq(rto_timeout(&r), 9 * MS);
	/* A seed is an estimate: the next sample moves it by the gains,
	 * it does not replace it. */
	rto_sample(&r, 13 * MS);
	ck_assert_uint_eq(r.est.srtt_ns, 6 * MS);
	ck_assert_uint_eq(r.est.rttvar_ns, (3 * MS + 8 * MS) / 4);
}
END_TEST

/* --- the table of recent clients --------------------------------------- */

static void
addr4(uint8_t a[4], unsigned n)
{
	a[0] = 10;
	a[1] = (uint8_t)(n >> 16);
	a[2] = (uint8_t)(n >> 8);
	a[3] = (uint8_t)n;
}

static struct rto_estimate
est(unsigned ms)
{
	return (struct rto_estimate){ ms * MS, ms * MS / 2 };
}

START_TEST(table_store_and_find)
{
	static struct peerrtt t;
	struct rto_estimate e1 = est(3), e2 = est(7), got;
	uint8_t a[4], v6[16];

	memset(&t, 0, sizeof(t));
	addr4(a, 1);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 0, &got), 0);
	peerrtt_store(&t, a, 4, &e1, 0);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1000, &got), 1);
	ck_assert_uint_eq(got.srtt_ns, 3 * MS);
	ck_assert_uint_eq(got.rttvar_ns, 3 * MS / 2);
	/* The same bytes as the start of a longer address are another
	 * peer; so is another address. */
	memset(v6, 0, sizeof(v6));
	memcpy(v6, a, 4);
	ck_assert_int_eq(peerrtt_find(&t, v6, 16, 1000, &got), 0);
	peerrtt_store(&t, v6, 16, &e2, 5);
	ck_assert_int_eq(peerrtt_find(&t, v6, 16, 1000, &got), 1);
	ck_assert_uint_eq(got.srtt_ns, 7 * MS);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1000, &got), 1);
	ck_assert_uint_eq(got.srtt_ns, 3 * MS);
	addr4(a, 2);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1000, &got), 0);
	/* Storing again replaces, in place. */
	addr4(a, 1);
	peerrtt_store(&t, a, 4, &e2, 10);
	ck_assert_uint_eq(t.used, 2);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1000, &got), 1);
	ck_assert_uint_eq(got.srtt_ns, 7 * MS);
	/* Addresses of no length or too long are neither kept nor found. */
	peerrtt_store(&t, a, 0, &e1, 10);
	peerrtt_store(&t, v6, PEERRTT_ADDR_MAX + 1, &e1, 10);
	ck_assert_uint_eq(t.used, 2);
	ck_assert_int_eq(peerrtt_find(&t, a, 0, 10, &got), 0);
}
END_TEST

START_TEST(table_bounded_oldest_evicted)
{
	static struct peerrtt t;
	struct rto_estimate e = est(1), got;
	uint8_t a[4];
	unsigned extra = 50;

	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < PEERRTT_SLOTS + extra; i++) {
		addr4(a, i);
		peerrtt_store(&t, a, 4, &e, (uint64_t)i * MS);
		ck_assert_uint_le(t.used, PEERRTT_SLOTS);
	}
	ck_assert_uint_eq(t.used, PEERRTT_SLOTS);
	/* The first ones stored went; the rest are all there. */
	for (unsigned i = 0; i < PEERRTT_SLOTS + extra; i++) {
		addr4(a, i);
		ck_assert_int_eq(peerrtt_find(&t, a, 4,
		    (uint64_t)(PEERRTT_SLOTS + extra) * MS, &got), i >= extra);
	}
	/* Age is by the last store, not the first: refreshing the oldest
	 * keeps it, and the next oldest goes instead. */
	addr4(a, extra);
	peerrtt_store(&t, a, 4, &e, 10 * NS_PER_SEC);
	addr4(a, 100000);
	peerrtt_store(&t, a, 4, &e, 10 * NS_PER_SEC);
	addr4(a, extra);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 10 * NS_PER_SEC, &got), 1);
	addr4(a, extra + 1);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 10 * NS_PER_SEC, &got), 0);
	addr4(a, extra + 2);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 10 * NS_PER_SEC, &got), 1);
}
END_TEST

START_TEST(table_forgets_old_estimates)
{
	static struct peerrtt t;
	struct rto_estimate e = est(2), got;
	uint8_t a[4];

	memset(&t, 0, sizeof(t));
	addr4(a, 9);
	peerrtt_store(&t, a, 4, &e, 1000);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1000 + PEERRTT_MAX_AGE_NS,
	    &got), 1);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 1001 + PEERRTT_MAX_AGE_NS,
	    &got), 0);
	/* A time before the store (a clock that is not monotonic) is not
	 * taken for a fresh entry either. */
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 999, &got), 0);
}
END_TEST

START_TEST(table_across_the_clock_wrap)
{
	static struct peerrtt t;
	struct rto_estimate e = est(2), got;
	uint8_t a[4];
	uint64_t before = UINT64_MAX - 5 * MS;

	memset(&t, 0, sizeof(t));
	/* Fill the table just before the wrap, with slot 0 stored last,
	 * then add one after it: the oldest by age (slot 1) goes, not the
	 * one with the largest or smallest raw value. */
	for (unsigned i = 0; i < PEERRTT_SLOTS; i++) {
		addr4(a, i);
		peerrtt_store(&t, a, 4, &e, before + i);
	}
	addr4(a, 0);
	peerrtt_store(&t, a, 4, &e, before + PEERRTT_SLOTS);
	addr4(a, 77777);
	peerrtt_store(&t, a, 4, &e, 3 * MS);	/* wrapped */
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 4 * MS, &got), 1);
	addr4(a, 0);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 4 * MS, &got), 1);
	addr4(a, 1);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 4 * MS, &got), 0);
	addr4(a, 2);
	ck_assert_int_eq(peerrtt_find(&t, a, 4, 4 * MS, &got), 1);
}
END_TEST

static Suite *
rto_suite(void)
{
	Suite *s = suite_create("tftpd_rto");
	TCase *tc = tcase_create("estimator");
	TCase *tt = tcase_create("peer_table");

	tcase_add_test(tc, no_estimate_starts_at_initial);
	tcase_add_test(tc, first_sample);
	tcase_add_test(tc, second_sample_rfc6298_gains);
	tcase_add_test(tc, steady_samples_converge);
	tcase_add_test(tc, steady_lan_samples_sit_on_the_floor);
	tcase_add_test(tc, variance_widens_the_timer);
	tcase_add_test(tc, backoff_doubles_up_to_the_ceiling);
	tcase_add_test(tc, backoff_from_no_estimate);
	tcase_add_test(tc, sample_ends_backoff);
	tcase_add_test(tc, higher_floor);
	tcase_add_test(tc, huge_samples_clamped);
	tcase_add_test(tc, seeded);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, table_store_and_find);
	tcase_add_test(tt, table_bounded_oldest_evicted);
	tcase_add_test(tt, table_forgets_old_estimates);
	tcase_add_test(tt, table_across_the_clock_wrap);
	suite_add_tcase(s, tt);
	return s;
}

CHECK_MAIN(rto_suite)
