/* Addresses for log lines: IPv4, IPv6 in brackets, an IPv4-mapped address
 * shown either way, a scope, and what is not an address. */
#include <sys/un.h>
#include <arpa/inet.h>
#include <string.h>

#include "common/addrstr.h"
#include "tests/unit/check_main.h"

static struct sockaddr_in
v4(const char *a, unsigned port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };

	ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6
v6(const char *a, unsigned port, unsigned scope)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
	    .sin6_port = htons((uint16_t)port), .sin6_scope_id = scope };

	ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

#define SA(x)	((const struct sockaddr *)&(x))

START_TEST(ipv4)
{
	struct sockaddr_in s = v4("192.0.2.7", 69);
	char out[ADDR_STR_LEN];

	addr_port_str(SA(s), sizeof(s), 0, out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.7:69");
	addr_host_str(SA(s), sizeof(s), 1, out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.7");
}
END_TEST

START_TEST(ipv6)
{
	struct sockaddr_in6 s = v6("2001:db8::7", 10809, 0);
	struct sockaddr_in6 ll = v6("fe80::1", 69, 1);
	char out[ADDR_STR_LEN];

	addr_port_str(SA(s), sizeof(s), 1, out, sizeof(out));
	ck_assert_str_eq(out, "[2001:db8::7]:10809");
	addr_host_str(SA(s), sizeof(s), 0, out, sizeof(out));
	ck_assert_str_eq(out, "2001:db8::7");
	/* A link-local address keeps its scope (interface 1 is lo). */
	addr_port_str(SA(ll), sizeof(ll), 0, out, sizeof(out));
	ck_assert_msg(strncmp(out, "[fe80::1%", 9) == 0, "%s", out);
	ck_assert_msg(strstr(out, "]:69") != NULL, "%s", out);
}
END_TEST

START_TEST(mapped)
{
	struct sockaddr_in6 s = v6("::ffff:127.0.0.1", 4011, 0);
	char out[ADDR_STR_LEN];

	addr_port_str(SA(s), sizeof(s), 0, out, sizeof(out));
	ck_assert_str_eq(out, "[::ffff:127.0.0.1]:4011");
	addr_port_str(SA(s), sizeof(s), 1, out, sizeof(out));
	ck_assert_str_eq(out, "127.0.0.1:4011");
	addr_host_str(SA(s), sizeof(s), 1, out, sizeof(out));
	ck_assert_str_eq(out, "127.0.0.1");
	addr_host_str(SA(s), sizeof(s), 0, out, sizeof(out));
	ck_assert_str_eq(out, "::ffff:127.0.0.1");
}
END_TEST

START_TEST(not_an_address)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in s = v4("192.0.2.7", 69);
	struct sockaddr_in6 s6 = v6("2001:db8::7", 1, 0);
	char out[ADDR_STR_LEN], tiny[6];

	addr_port_str(SA(un), sizeof(un), 1, out, sizeof(out));
	ck_assert_str_eq(out, "?");
	/* A length shorter than the family's address is not read past. */
	addr_port_str(SA(s), 4, 0, out, sizeof(out));
	ck_assert_str_eq(out, "?");
	addr_host_str(SA(s6), sizeof(struct sockaddr_in), 1, out,
	    sizeof(out));
	ck_assert_str_eq(out, "?");
	/* A small buffer gets a cut line, never an overrun. */
	addr_port_str(SA(s), sizeof(s), 0, tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "192.0");
}
END_TEST

static Suite *
addrstr_suite(void)
{
	Suite *s = suite_create("common_addrstr");
	TCase *tc = tcase_create("addrstr");

	tcase_add_test(tc, ipv4);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, mapped);
	tcase_add_test(tc, not_an_address);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(addrstr_suite)
