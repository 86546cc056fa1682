/* -A NETWORK: parsing, matching (IPv4, IPv6, IPv4-mapped), the default
 * "local" list, the hint a refusal names. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/allow.h"
#include "tests/unit/check_main.h"
#include "tests/unit/netaddr_fixture.h"

static int
allows(const struct allowlist *al, const char *h)
{
	struct netaddr n = host(h);

	return allow_match(al, &n, NULL, 0);
}

START_TEST(parse_good)
{
	struct allowlist al;
	char s[NETADDR_STR_LEN];

	allow_init(&al);
	ck_assert_ptr_null(allow_add(&al, "10.9.0.0/16"));
	ck_assert_ptr_null(allow_add(&al, "192.168.7.5"));
	ck_assert_ptr_null(allow_add(&al, "fd00:1::/64"));
	ck_assert_ptr_null(allow_add(&al, "2001:db8::7"));
	ck_assert_ptr_null(allow_add(&al, "0.0.0.0/0"));
	ck_assert_ptr_null(allow_add(&al, "::ffff:172.16.0.0/108"));
	ck_assert_uint_eq(al.n, 6);
	netaddr_str(&al.nets[0], s);
	ck_assert_str_eq(s, "10.9.0.0/16");
	netaddr_str(&al.nets[1], s);
	ck_assert_str_eq(s, "192.168.7.5");
	netaddr_str(&al.nets[2], s);
	ck_assert_str_eq(s, "fd00:1::/64");
	netaddr_str(&al.nets[3], s);
	ck_assert_str_eq(s, "2001:db8::7");
	netaddr_str(&al.nets[4], s);
	ck_assert_str_eq(s, "0.0.0.0/0");
	/* The IPv4-mapped network is the IPv4 network it maps. */
	netaddr_str(&al.nets[5], s);
	ck_assert_str_eq(s, "172.16.0.0/12");
}
END_TEST

START_TEST(parse_bad)
{
	const char *bad[] = {
		"", "10.9.0.0/", "10.9.0.0/33", "10.9.0.0/-1", "10.9.0.0/8x",
		"10.9.0.5/24", "fd00::1/64", "::/129", "10.9.0", "10.9.0.0.0",
		"host.example", "LOCAL", "local/8", "10.9.0.0/16/2",
		"::ffff:10.0.0.0/95", " 10.0.0.0/8", "10.0.0.0 /8",
		"1111111111111111111111111111111111111111111111111111111111111"
		"11111111111",
	};
	struct allowlist al;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		allow_init(&al);
		ck_assert_msg(allow_add(&al, bad[i]) != NULL, "accepted %s",
		    bad[i]);
		ck_assert_uint_eq(al.n, 0);
	}
}
END_TEST

START_TEST(too_many)
{
	struct allowlist al;

	allow_init(&al);
	for (int i = 0; i < ALLOW_MAX; i++)
		ck_assert_ptr_null(allow_add(&al, "10.0.0.0/8"));
	ck_assert_ptr_nonnull(allow_add(&al, "10.0.0.0/8"));
	/* "local" takes no slot. */
	ck_assert_ptr_null(allow_add(&al, "local"));
}
END_TEST

START_TEST(matching)
{
	struct allowlist al;

	allow_init(&al);
	ck_assert_ptr_null(allow_add(&al, "10.9.0.0/16"));
	ck_assert_ptr_null(allow_add(&al, "192.168.7.5"));
	ck_assert_ptr_null(allow_add(&al, "fd00:1::/64"));
	ck_assert_ptr_null(allow_add(&al, "172.16.0.0/13"));
	ck_assert(allows(&al, "10.9.0.1"));
	ck_assert(allows(&al, "10.9.255.255"));
	ck_assert(!allows(&al, "10.10.0.1"));
	ck_assert(!allows(&al, "10.8.255.255"));
	ck_assert(allows(&al, "192.168.7.5"));
	ck_assert(!allows(&al, "192.168.7.4"));
	ck_assert(!allows(&al, "192.168.7.6"));
	ck_assert(allows(&al, "fd00:1::42"));
	ck_assert(allows(&al, "fd00:1:0:0:ffff:ffff:ffff:ffff"));
	ck_assert(!allows(&al, "fd00:1:0:1::1"));
	/* A prefix that is not a whole number of bytes. */
	ck_assert(allows(&al, "172.23.255.255"));
	ck_assert(!allows(&al, "172.24.0.0"));
	/* A dual-stack socket's IPv4 peer is the IPv4 host. */
	ck_assert(allows(&al, "::ffff:10.9.3.4"));
	ck_assert(!allows(&al, "::ffff:10.10.3.4"));
	/* IPv4 rules never match IPv6 hosts and back. */
	ck_assert(!allows(&al, "::a09:1"));
	ck_assert(!allows(&al, "::1"));
	ck_assert(!allows(&al, "127.0.0.1"));
}
END_TEST

START_TEST(everything)
{
	struct allowlist al;

	allow_init(&al);
	ck_assert_ptr_null(allow_add(&al, "0.0.0.0/0"));
	ck_assert(allows(&al, "203.0.113.9"));
	ck_assert(allows(&al, "::ffff:203.0.113.9"));
	ck_assert(!allows(&al, "2001:db8::1"));
	ck_assert_ptr_null(allow_add(&al, "::/0"));
	ck_assert(allows(&al, "2001:db8::1"));
}
END_TEST

START_TEST(local_default)
{
	struct allowlist al;
	struct netaddr lan[2], h;

	/* The server's own networks, as interface_networks reports them. */
	lan[0] = host("192.168.0.0");
	lan[0].prefix = 24;
	lan[1] = host("127.0.0.0");
	lan[1].prefix = 8;
	allow_init(&al);
	ck_assert(al.local && !al.given);
	h = host("192.168.0.77");
	ck_assert(allow_match(&al, &h, lan, 2));
	h = host("127.0.0.1");
	ck_assert(allow_match(&al, &h, lan, 2));
	h = host("192.168.1.77");
	ck_assert(!allow_match(&al, &h, lan, 2));
	/* A first -A replaces the default... */
	ck_assert_ptr_null(allow_add(&al, "10.0.0.0/8"));
	h = host("192.168.0.77");
	ck_assert(!allow_match(&al, &h, lan, 2));
	h = host("10.1.2.3");
	ck_assert(allow_match(&al, &h, lan, 2));
	/* ... and "local" brings it back beside the rest. */
	ck_assert_ptr_null(allow_add(&al, "local"));
	h = host("192.168.0.77");
	ck_assert(allow_match(&al, &h, lan, 2));
	h = host("10.1.2.3");
	ck_assert(allow_match(&al, &h, lan, 2));
}
END_TEST

START_TEST(hints)
{
	struct allowlist al;
	struct netaddr h = host("10.9.0.5");
	struct netaddr h6 = host("fd00::5");
	char s[80];

	allow_init(&al);
	/* With the default, the flag alone would drop the LAN. */
	allow_hint(&al, &h, s, sizeof(s));
	ck_assert_str_eq(s, "-A local -A 10.9.0.5");
	ck_assert_ptr_null(allow_add(&al, "10.1.0.0/16"));
	allow_hint(&al, &h, s, sizeof(s));
	ck_assert_str_eq(s, "-A 10.9.0.5");
	allow_hint(&al, &h6, s, sizeof(s));
	ck_assert_str_eq(s, "-A fd00::5");
}
END_TEST

static Suite *
allow_suite(void)
{
	Suite *s = suite_create("common/allow");
	TCase *tc = tcase_create("allow");

	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_bad);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, matching);
	tcase_add_test(tc, everything);
	tcase_add_test(tc, local_default);
	tcase_add_test(tc, hints);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(allow_suite)
