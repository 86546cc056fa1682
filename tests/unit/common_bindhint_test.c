/* The advice after a failed bind: the fix for a port another server holds,
 * for a port below 1024 without root, for an address this host lacks. */
#include <sys/socket.h>
#include <errno.h>
#include <string.h>

#include "common/bindhint.h"
#include "tests/unit/check_main.h"

static char hint[512];

#define HAS(text)	ck_assert_msg(strstr(hint, text) != NULL, \
			    "\"%s\" lacks \"%s\"", hint, text)

START_TEST(port_in_use_names_the_command)
{
	bind_hint(EADDRINUSE, SOCK_DGRAM, 69, 0, hint, sizeof(hint));
	HAS("ss -ulpn 'sport = :69'");
	HAS("another TFTP server");
	bind_hint(EADDRINUSE, SOCK_STREAM, 10809, 0, hint, sizeof(hint));
	HAS("ss -tlpn 'sport = :10809'");
	HAS("nbd-server");
	bind_hint(EADDRINUSE, SOCK_DGRAM, 6969, 0, hint, sizeof(hint));
	HAS("another server");
	HAS("-p");
}
END_TEST

START_TEST(shared_port_says_how_to_share)
{
	bind_hint(EADDRINUSE, SOCK_DGRAM, 67, BIND_HINT_SHARED, hint,
	    sizeof(hint));
	HAS("the LAN's DHCP server");
	HAS("ss -ulpn 'sport = :67'");
	HAS("dnsmasq --bind-interfaces --interface=IFACE");
	HAS("dhcpproxyd(8), SOCKETS");
	bind_shared_note(SOCK_DGRAM, 67, hint, sizeof(hint));
	HAS("port 67 is shared");
	HAS("renewals");
	HAS("--bind-interfaces --interface=IFACE");
	bind_shared_note(SOCK_DGRAM, 1067, hint, sizeof(hint));
	HAS("port 1067 is shared");
}
END_TEST

START_TEST(privileged_port)
{
	bind_hint(EACCES, SOCK_DGRAM, 69, 0, hint, sizeof(hint));
	HAS("below 1024 need root");
	HAS("-u USER");
	HAS("CAP_NET_BIND_SERVICE");
	bind_hint(EACCES, SOCK_STREAM, 10809, 0, hint, sizeof(hint));
	HAS("ip_unprivileged_port_start");
}
END_TEST

START_TEST(other_errors)
{
	bind_hint(EADDRNOTAVAIL, SOCK_DGRAM, 69, 0, hint, sizeof(hint));
	HAS("(-l)");
	strcpy(hint, "x");
	ck_assert_int_eq(bind_hint(EINVAL, SOCK_DGRAM, 69, 0, hint,
	    sizeof(hint)), 0);
	ck_assert_str_eq(hint, "");
	/* Cut short, never overrun. */
	hint[8] = 'z';
	bind_hint(EADDRINUSE, SOCK_DGRAM, 69, 0, hint, 8);
	ck_assert_int_eq(strlen(hint), 7);
	ck_assert_int_eq(hint[8], 'z');
}
END_TEST

static Suite *
bindhint_suite(void)
{
	Suite *s = suite_create("common/bindhint");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, port_in_use_names_the_command);
	tcase_add_test(tc, shared_port_says_how_to_share);
	tcase_add_test(tc, privileged_port);
	tcase_add_test(tc, other_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bindhint_suite)
