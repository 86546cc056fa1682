/* The table of recent clients' boots that orders an overloaded tftpd's
 * transfers (boots.h): a boot's beginning, kept across its requests and
 * a restart, lost after a silence; only the newest transfer of a client
 * has its place; a boot too old goes to the back; whether a boot is in
 * the wave. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/boots.h"
#include "tests/unit/check_main.h"

#define S	NS_PER_SEC

static const uint8_t pi_a[4] = { 10, 0, 0, 5 };
static const uint8_t pi_b[4] = { 10, 0, 0, 6 };

static struct boots *
table(void)
{
	struct boots *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(a_boot_keeps_its_beginning)
{
	struct boots *t = table();
	int a, b, a2;

	a = boots_request(t, pi_a, 4, 1, 100 * S);
	b = boots_request(t, pi_b, 4, 2, 101 * S);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ne(a, b);
	ck_assert_uint_eq(boots_began(t, a, 1, 100 * S, 101 * S), 100 * S);
	ck_assert(boots_begins(t, a, 100 * S));
	ck_assert(boots_begins(t, b, 101 * S));
	ck_assert(!boots_begins(t, -1, 100 * S));
	/* Its next files, and a restart a minute later, keep the place
	 * the first request earned. */
	a2 = boots_request(t, pi_a, 4, 3, 130 * S);
	ck_assert_int_eq(a2, a);
	ck_assert(!boots_begins(t, a2, 130 * S));
	a2 = boots_request(t, pi_a, 4, 4, 230 * S);
	ck_assert_uint_eq(boots_began(t, a2, 4, 230 * S, 231 * S), 100 * S);
	ck_assert_uint_eq(boots_began(t, b, 2, 101 * S, 231 * S), 101 * S);
	/* Silent for longer than BOOTS_GAP_NS: a new boot. */
	a2 = boots_request(t, pi_a, 4, 5, 230 * S + BOOTS_GAP_NS + 1);
	ck_assert_uint_eq(boots_began(t, a2, 5, 0, 230 * S + BOOTS_GAP_NS + 2),
	    230 * S + BOOTS_GAP_NS + 1);
	ck_assert(boots_begins(t, a2, 230 * S + BOOTS_GAP_NS + 1));
	free(t);
}
END_TEST

START_TEST(only_the_newest_transfer_has_the_place)
{
	struct boots *t = table();
	int a;

	a = boots_request(t, pi_a, 4, 7, 10 * S);
	ck_assert_int_eq(boots_request(t, pi_a, 4, 8, 11 * S), a);
	/* Transfer 7 waits behind every boot begun before its own start. */
	ck_assert_uint_eq(boots_began(t, a, 7, 10 * S, 12 * S), 10 * S);
	ck_assert_uint_eq(boots_began(t, a, 7, 50 * S, 12 * S), 50 * S);
	ck_assert_uint_eq(boots_began(t, a, 8, 11 * S, 12 * S), 10 * S);
	/* A slot that is not in use, or no slot at all. */
	ck_assert_uint_eq(boots_began(t, -1, 8, 33 * S, 12 * S), 33 * S);
	ck_assert_uint_eq(boots_began(t, 200, 8, 33 * S, 12 * S), 33 * S);
	free(t);
}
END_TEST

START_TEST(a_boot_too_old_goes_to_the_back)
{
	struct boots *t = table();
	uint64_t now = 0;
	uint64_t id = 1;
	int a = -1;

	/* A host that never stops asking. */
	for (now = S; now < BOOTS_MAX_AGE_NS + 20 * S; now += 10 * S)
		a = boots_request(t, pi_a, 4, ++id, now);
	ck_assert_uint_eq(boots_began(t, a, id, now, now), now);
	free(t);
}
END_TEST

START_TEST(addresses_kept_and_replaced)
{
	struct boots *t = table();
	uint8_t v6[16] = { 0xfd, 0 }, addr[4] = { 10, 1, 0, 0 }, big[17] = { 0 };
	int slot, first;

	ck_assert_int_eq(boots_request(t, big, sizeof(big), 1, S), -1);
	ck_assert_int_eq(boots_request(t, addr, 0, 1, S), -1);
	first = boots_request(t, v6, sizeof(v6), 1, S);
	ck_assert_int_ge(first, 0);
	/* A full table gives the slot silent longest to a new address,
	 * which starts a boot of its own there. */
	for (unsigned i = 1; i < BOOTS_SLOTS; i++) {
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		ck_assert_int_ge(boots_request(t, addr, 4, 1 + i, S + i), 0);
	}
	ck_assert_uint_eq(t->used, BOOTS_SLOTS);
	slot = boots_request(t, pi_b, 4, 9999, 3 * S);
	ck_assert_int_eq(slot, first);
	ck_assert_uint_eq(boots_began(t, slot, 9999, 0, 3 * S), 3 * S);
	/* The old address's transfer lost its place with the slot. */
	ck_assert_uint_eq(boots_began(t, first, 1, 77, 3 * S), 77);
	free(t);
}
END_TEST

START_TEST(in_the_wave)
{
	struct boots *t = table();
	int a = boots_request(t, pi_a, 4, 1, 10 * S);

	ck_assert_int_eq(boots_in_wave(t, a, 1, 10 * S), 0);
	boots_ran(t, a, 11 * S);
	ck_assert_int_eq(boots_in_wave(t, a, 1, 11 * S), 1);
	ck_assert_int_eq(boots_in_wave(t, a, 1,
	    11 * S + BOOTS_WAVE_GAP_NS - 1), 1);
	ck_assert_int_eq(boots_in_wave(t, a, 1, 11 * S + BOOTS_WAVE_GAP_NS),
	    0);
	ck_assert_int_eq(boots_in_wave(t, -1, 1, 11 * S), 0);
	boots_ran(t, -1, 11 * S);	/* no slot: nothing to say */
	/* Its host's next request is the boot's newest: the older
	 * transfer has no place in the wave, the newer has. */
	ck_assert_int_eq(boots_request(t, pi_a, 4, 2, 12 * S), a);
	ck_assert_int_eq(boots_in_wave(t, a, 1, 12 * S), 0);
	ck_assert_int_eq(boots_in_wave(t, a, 2, 12 * S), 1);
	ck_assert_int_eq(boots_newest(t, a, 1), 0);
	ck_assert_int_eq(boots_newest(t, a, 2), 1);
	ck_assert_int_eq(boots_newest(t, -1, 2), 0);
	free(t);
}
END_TEST

static Suite *
boots_suite(void)
{
	Suite *s = suite_create("tftpd_boots");
	TCase *tc = tcase_create("boots");

	tcase_add_test(tc, a_boot_keeps_its_beginning);
	tcase_add_test(tc, only_the_newest_transfer_has_the_place);
	tcase_add_test(tc, a_boot_too_old_goes_to_the_back);
	tcase_add_test(tc, addresses_kept_and_replaced);
	tcase_add_test(tc, in_the_wave);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(boots_suite)
