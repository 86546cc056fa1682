/* -A as the daemons apply it: the interfaces' networks, a refusal logged
 * once, the list described in the log. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/access.h"
#include "common/allow.h"
#include "tests/unit/check_main.h"
#include "tests/unit/netaddr_fixture.h"

START_TEST(describe)
{
	struct allowlist al;
	char s[80];

	allow_init(&al);
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "by default loopback and this server's own "
	    "networks");
	ck_assert_ptr_null(allow_add(&al, "10.1.0.0/16"));
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "10.1.0.0/16");
	ck_assert_ptr_null(allow_add(&al, "local"));
	access_describe(&al, s, sizeof(s));
	ck_assert_str_eq(s, "local, 10.1.0.0/16");
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

static Suite *
access_suite(void)
{
	Suite *s = suite_create("common/access");
	TCase *tc = tcase_create("access");

	tcase_add_test(tc, describe);
	tcase_add_test(tc, describe_bounded);
	tcase_add_test(tc, interfaces);
	tcase_add_test(tc, access_refuses_and_logs_once);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(access_suite)
