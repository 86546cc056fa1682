/* -A NETWORK: parsing, matching (IPv4, IPv6, IPv4-mapped), the default
 * "local" list, the hint a refusal names, the interfaces' networks, and
 * the rate limit of the lines a remote host can cause. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/access.h"
#include "common/allow.h"
#include "common/ratelimit.h"
#include "tests/unit/check_main.h"

static struct netaddr
host(const char *s)
{
	struct sockaddr_storage ss;
	struct netaddr n;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, s, &s6->sin6_addr), 1);
		ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)s6,
		    sizeof(*s6), &n), 0);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, s, &s4->sin_addr), 1);
		ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)s4,
		    sizeof(*s4), &n), 0);
	}
	return n;
}

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
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "10.1.0.0/16");
	ck_assert_ptr_null(allow_add(&al, "local"));
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "local, 10.1.0.0/16");
	allow_init(&al);
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "by default loopback and this server's own "
	    "networks");
}
END_TEST

START_TEST(describe_bounded)
{
	struct allowlist al;
	char s[40];

	allow_init(&al);
	for (int i = 0; i < 20; i++)
		ck_assert_ptr_null(allow_add(&al, "fd00:1234:5678::/48"));
	access_describe(&al, s, sizeof(s));
	ck_assert_uint_lt(strlen(s), sizeof(s));
	ck_assert_ptr_nonnull(strstr(s, "..."));
}
END_TEST

/* The machine's own interfaces: loopback is always among them. */
START_TEST(interfaces)
{
	struct netaddr nets[ACCESS_IFACES_MAX];
	struct netaddr lo4 = host("127.0.0.1"), lo6 = host("::1");
	int n, found4 = 0;

	n = interface_networks(nets, ACCESS_IFACES_MAX);
	ck_assert_int_gt(n, 0);
	for (int i = 0; i < n; i++) {
		if (netaddr_contains(&nets[i], &lo4))
			found4 = 1;
		/* Networks, never hosts with their bits set. */
		char s[NETADDR_STR_LEN];
		struct allowlist al;
		netaddr_str(&nets[i], s);
		allow_init(&al);
		ck_assert_msg(allow_add(&al, s) == NULL, "bad network %s", s);
	}
	ck_assert(found4);
	(void)lo6;
	/* A bounded read stops at max. */
	ck_assert_int_eq(interface_networks(nets, 1), 1);
}
END_TEST

START_TEST(access_refuses_and_logs_once)
{
	struct allowlist al;
	struct access a;
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in lo = { .sin_family = AF_INET };

	inet_pton(AF_INET, "203.0.113.9", &in.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
	allow_init(&al);
	access_init(&a, &al);
	ck_assert(!access_check(&a, (struct sockaddr *)&in, sizeof(in),
	    "203.0.113.9:1", "test", 1000));
	ck_assert(access_check(&a, (struct sockaddr *)&lo, sizeof(lo),
	    "127.0.0.1:1", "test", 1000));
	/* A name too short for an address is refused, not read past. */
	ck_assert(!access_check(&a, (struct sockaddr *)&lo, 4, "?", "test",
	    1000));
}
END_TEST

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
allow_suite(void)
{
	Suite *s = suite_create("common_allow");
	TCase *tc = tcase_create("allow");

	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_bad);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, matching);
	tcase_add_test(tc, everything);
	tcase_add_test(tc, local_default);
	tcase_add_test(tc, hints);
	tcase_add_test(tc, describe_bounded);
	tcase_add_test(tc, interfaces);
	tcase_add_test(tc, access_refuses_and_logs_once);
	tcase_add_test(tc, ratelimit_burst_then_rate);
	tcase_add_test(tc, ratelimit_own_figures);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(allow_suite)
