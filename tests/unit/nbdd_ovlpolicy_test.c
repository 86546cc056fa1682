/* The overlay registry's rules: whose overlay, when it goes, whether a
 * new one is made (never by discarding one in its grace period), and the
 * arithmetic of the per-host and total limits, overflow included. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "nbdd/ovlpolicy.h"
#include "nbdd/sizearg.h"
#include "tests/unit/check_main.h"

START_TEST(owners)
{
	char out[64];

	ck_assert(ovl_same_owner("10.0.0.5", NULL, "10.0.0.5", NULL));
	ck_assert(ovl_same_owner("10.0.0.5", NULL, "10.0.0.5", ""));
	ck_assert(ovl_same_owner("10.0.0.5", "abcd1234", "10.0.0.5",
	    "abcd1234"));
	/* Two identities behind one address, or one and none. */
	ck_assert(!ovl_same_owner("10.0.0.5", "abcd1234", "10.0.0.5",
	    "1234abcd"));
	ck_assert(!ovl_same_owner("10.0.0.5", "abcd1234", "10.0.0.5", NULL));
	/* One identity from two addresses: two owners too. */
	ck_assert(!ovl_same_owner("10.0.0.5", "abcd1234", "10.0.0.6",
	    "abcd1234"));
	ovl_owner_describe("10.0.0.5", NULL, out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.5");
	ovl_owner_describe("10.0.0.5", "", out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.5");
	ovl_owner_describe("fd00::5", "abcd1234", out, sizeof(out));
	ck_assert_str_eq(out, "fd00::5 as abcd1234");
}
END_TEST

START_TEST(expiry)
{
	ck_assert_int_eq(ovl_expiry(1000, 60000, 0), 61000);
	ck_assert_int_eq(ovl_expiry(1000, 60000, 1), 1000);
	ck_assert_int_eq(ovl_expiry(1000, 0, 0), 1000);
	ck_assert(!ovl_expired(1, 0, 5000));		/* in use: never */
	ck_assert(!ovl_expired(0, 61000, 60999));
	ck_assert(ovl_expired(0, 61000, 61000));
	ck_assert(ovl_expired(0, 61000, 99999));
	/* The soonest of those waiting; one in use waits for nothing. */
	ck_assert_int_eq(ovl_next_expiry(-1, 1, 5000, 1000), -1);
	ck_assert_int_eq(ovl_next_expiry(-1, 0, 5000, 1000), 4000);
	ck_assert_int_eq(ovl_next_expiry(4000, 0, 3000, 1000), 2000);
	ck_assert_int_eq(ovl_next_expiry(2000, 0, 9000, 1000), 2000);
	ck_assert_int_eq(ovl_next_expiry(2000, 0, 500, 1000), 0);
}
END_TEST

START_TEST(admission)
{
	ck_assert_int_eq(ovl_admit(0, 0), OVL_ADMIT_OK);
	ck_assert_int_eq(ovl_admit(100000, 0), OVL_ADMIT_OK);
	ck_assert_int_eq(ovl_admit(127, 128), OVL_ADMIT_OK);
	ck_assert_int_eq(ovl_admit(128, 128), OVL_ADMIT_FULL);
	ck_assert_int_eq(ovl_admit(129, 128), OVL_ADMIT_FULL);
}
END_TEST

START_TEST(room)
{
	const uint64_t G = 1ULL << 30;

	ck_assert(ovl_fits(0, UINT64_MAX, 0));		/* no limit */
	ck_assert(ovl_fits(G, G, 2 * G));
	ck_assert(!ovl_fits(G, G + 1, 2 * G));
	ck_assert(!ovl_fits(3 * G, 0, 2 * G));
	/* No wrap-around lets a huge need through. */
	ck_assert(!ovl_fits(G, UINT64_MAX - G + 1, 2 * G));
	ck_assert(!ovl_fits(UINT64_MAX, 1, 2 * G));
	ck_assert_int_eq(ovl_room(0, 4 * G, 0, 10 * G, G), OVL_ROOM_OK);
	ck_assert_int_eq(ovl_room(4 * G, 4 * G, 4 * G, 10 * G, 4096),
	    OVL_ROOM_HOST_FULL);
	ck_assert_int_eq(ovl_room(0, 4 * G, 10 * G, 10 * G, 4096),
	    OVL_ROOM_TOTAL_FULL);
	ck_assert_int_eq(ovl_room(0, 0, 10 * G, 10 * G, 4096),
	    OVL_ROOM_TOTAL_FULL);
	ck_assert_int_eq(ovl_room(0, 4 * G, 10 * G, 0, 4096), OVL_ROOM_OK);
	/* Nothing to allocate: always, even past a limit. */
	ck_assert_int_eq(ovl_room(5 * G, 4 * G, 11 * G, 10 * G, 0),
	    OVL_ROOM_OK);
	/* The default total: half the free space, never "no limit". */
	ck_assert_uint_eq(ovl_total_default(100 * G), 50 * G);
	ck_assert_uint_eq(ovl_total_default(1), 1);
	ck_assert_uint_eq(ovl_total_default(0), 1);
	ck_assert_uint_eq(ovl_total_default(UINT64_MAX), UINT64_MAX / 2);
}
END_TEST

/* The registry from the flags: which directory, the limits, no grace
 * under inetd, and what a directory that cannot be used means. */
START_TEST(plan_from_flags)
{
	struct ovl_flags f = { .overlay_dir = NULL, .root = "/srv",
	    .host_max = 4ULL << 30, .total_max = SIZE_UNSET, .grace_s = 60,
	    .max_conn = 128, .inetd = 0 };
	struct ovl_plan p;

	ovl_plan_from_flags(&f, &p);
	ck_assert_str_eq(p.dir, "/srv");
	ck_assert_uint_eq(p.host_max, 4ULL << 30);
	ck_assert(p.total_from_free);
	ck_assert_int_eq(p.grace_ms, 60000);
	ck_assert_int_eq(p.max_overlays, 128);
	ck_assert(p.announce);
	ck_assert_int_eq(p.unusable, OVL_UNUSABLE_WARN);
	/* -o: that directory, and it must work. */
	f.overlay_dir = "/var/lib/nbdd";
	ovl_plan_from_flags(&f, &p);
	ck_assert_str_eq(p.dir, "/var/lib/nbdd");
	ck_assert_int_eq(p.unusable, OVL_UNUSABLE_FATAL);
	/* -Q, and -Q 0 (no limit), are taken as they are. */
	f.total_max = 10ULL << 30;
	ovl_plan_from_flags(&f, &p);
	ck_assert(!p.total_from_free);
	ck_assert_uint_eq(p.total_max, 10ULL << 30);
	f.total_max = 0;
	ovl_plan_from_flags(&f, &p);
	ck_assert(!p.total_from_free);
	ck_assert_uint_eq(p.total_max, 0);
	/* inetd: no grace, no start-up line; fatal with -o still. */
	f.inetd = 1;
	ovl_plan_from_flags(&f, &p);
	ck_assert_int_eq(p.grace_ms, 0);
	ck_assert(!p.announce);
	ck_assert_int_eq(p.unusable, OVL_UNUSABLE_FATAL);
	f.overlay_dir = NULL;
	ovl_plan_from_flags(&f, &p);
	ck_assert_str_eq(p.dir, "/srv");
	ck_assert_int_eq(p.unusable, OVL_UNUSABLE_QUIET);
	/* -g 0 and the largest -g. */
	f.inetd = 0;
	f.grace_s = 0;
	ovl_plan_from_flags(&f, &p);
	ck_assert_int_eq(p.grace_ms, 0);
	f.grace_s = 86400;
	ovl_plan_from_flags(&f, &p);
	ck_assert_int_eq(p.grace_ms, 86400000LL);
}
END_TEST

START_TEST(plan_line)
{
	struct ovl_flags f = { .overlay_dir = NULL, .root = "/srv",
	    .host_max = 4ULL << 30, .total_max = SIZE_UNSET, .grace_s = 60,
	    .max_conn = 128 };
	struct ovl_plan p;
	char out[OVL_PLAN_LINE_LEN(64)];

	ovl_plan_from_flags(&f, &p);
	ovl_plan_describe(&p, 3ULL << 30, out, sizeof(out));
	ck_assert_str_eq(out, "shared bases: overlays in /srv, 4096 MiB per "
	    "host, 3072 MiB for all hosts together (half the space free "
	    "there now; -Q), kept 60 s after a host's last connection");
	f.total_max = 1ULL << 30;
	f.host_max = 0;
	f.grace_s = 0;
	f.overlay_dir = "/ovl";
	ovl_plan_from_flags(&f, &p);
	ovl_plan_describe(&p, 1ULL << 30, out, sizeof(out));
	ck_assert_str_eq(out, "shared bases: overlays in /ovl, 0 MiB per "
	    "host (no limit), 1024 MiB for all hosts together (-Q), kept 0 s "
	    "after a host's last connection");
	f.total_max = 0;
	ovl_plan_from_flags(&f, &p);
	ovl_plan_describe(&p, 0, out, sizeof(out));
	ck_assert_str_eq(out, "shared bases: overlays in /ovl, 0 MiB per "
	    "host (no limit), no limit for all hosts together, kept 0 s "
	    "after a host's last connection");
	/* A short buffer is cut, never overrun. */
	char small[14];
	ovl_plan_describe(&p, 0, small, sizeof(small));
	ck_assert_str_eq(small, "shared bases:");
}
END_TEST

static Suite *
ovlpolicy_suite(void)
{
	Suite *s = suite_create("nbdd_ovlpolicy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, owners);
	tcase_add_test(tc, expiry);
	tcase_add_test(tc, admission);
	tcase_add_test(tc, room);
	tcase_add_test(tc, plan_from_flags);
	tcase_add_test(tc, plan_line);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(ovlpolicy_suite)
