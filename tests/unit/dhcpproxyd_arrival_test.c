/* Which datagrams dhcpproxyd looks at: the -I filter, the drops before
 * and after parsing, each verdict's level and line, and the address it
 * answers from. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "dhcpproxyd/arrival.h"
#include "dhcpproxyd_pkt.h"

static struct dhcp_msg *m;

static void
setup(void)
{
	m = malloc(sizeof(*m));
	ck_assert_ptr_nonnull(m);
}

static void
teardown(void)
{
	free(m);
}

START_TEST(interfaces_served)
{
	static const char *const two[] = { "eth0", "lab1" };
	static const struct {
		size_t nifaces;
		const char *name;
		int served;
	} t[] = {
		{ 0, "eth0", 1 },	/* no -I: every interface */
		{ 0, "?", 1 },
		{ 2, "eth0", 1 },
		{ 2, "lab1", 1 },
		{ 2, "eth1", 0 },
		{ 2, "eth", 0 },	/* whole names only */
		{ 2, "eth00", 0 },
		{ 2, "", 0 },
		{ 2, "?", 0 },		/* a vanished interface */
		{ 1, "lab1", 0 },
	};
	struct arrival_rules r = { .ifaces = two };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.nifaces = t[i].nifaces;
		ck_assert_msg(arrival_iface_served(&r, t[i].name) ==
		    t[i].served, "case %zu (%s)", i, t[i].name);
	}
}
END_TEST

/* Every verdict, in the order the checks run: a datagram that fails two
 * gets the first one's verdict. */
START_TEST(verdicts)
{
	static const char *const eth0[] = { "eth0" };
	enum bytes { GOOD, BOOTP, SHORT };
	static const struct {
		int only_eth0;		/* -I eth0 */
		const char *tftp;	/* -t, or NULL */
		int from_ipv4;
		const char *ifname;
		int ifindex;
		const char *local;	/* NULL: unknown */
		int truncated;
		enum bytes bytes;
		enum arrival_verdict verdict;
		enum log_level level;
		const char *server_id;	/* NULL: 0 */
		const char *line;
	} t[] = {
		{ 0, NULL, 1, "eth0", 2, "192.168.0.4", 0, GOOD,
		    ARRIVAL_SERVE, LOG_LEVEL_TRACE, "192.168.0.4",
		    "from 192.168.0.50 on eth0: DHCPDISCOVER, 244 bytes" },
		/* -t wins over the arrival address, and stands in for a
		 * missing one. */
		{ 0, "10.0.0.9", 1, "eth0", 2, "192.168.0.4", 0, GOOD,
		    ARRIVAL_SERVE, LOG_LEVEL_TRACE, "10.0.0.9", NULL },
		{ 0, "10.0.0.9", 1, "eth0", 2, NULL, 0, GOOD,
		    ARRIVAL_SERVE, LOG_LEVEL_TRACE, "10.0.0.9", NULL },
		{ 0, NULL, 1, "eth0", 2, NULL, 0, GOOD,
		    ARRIVAL_NO_LOCAL_ADDR, LOG_LEVEL_DEBUG, NULL,
		    "from 192.168.0.50 on eth0: dropped, no local address to "
		    "answer from" },
		{ 1, NULL, 1, "eth0", 2, "192.168.0.4", 0, GOOD,
		    ARRIVAL_SERVE, LOG_LEVEL_TRACE, "192.168.0.4", NULL },
		{ 1, NULL, 1, "wlan0", 3, "192.168.0.4", 0, GOOD,
		    ARRIVAL_OTHER_INTERFACE, LOG_LEVEL_TRACE, NULL,
		    "from 192.168.0.50 on wlan0: not an interface we serve" },
		/* Another interface's bad packet is not even parsed. */
		{ 1, NULL, 1, "wlan0", 3, "192.168.0.4", 1, SHORT,
		    ARRIVAL_OTHER_INTERFACE, LOG_LEVEL_TRACE, NULL, NULL },
		{ 0, NULL, 0, "eth0", 2, "192.168.0.4", 0, GOOD,
		    ARRIVAL_NOT_IPV4, LOG_LEVEL_DEBUG, NULL,
		    "dropped a datagram that is not IPv4" },
		{ 0, NULL, 1, "eth0", 2, "192.168.0.4", 1, GOOD,
		    ARRIVAL_TOO_LONG, LOG_LEVEL_DEBUG, NULL,
		    "from 192.168.0.50 on eth0: dropped, packet too long" },
		{ 0, NULL, 1, "eth0", 2, "192.168.0.4", 0, SHORT,
		    ARRIVAL_UNPARSED, LOG_LEVEL_DEBUG, NULL, NULL },
		{ 0, NULL, 1, "eth0", 2, "192.168.0.4", 0, BOOTP,
		    ARRIVAL_UNPARSED, LOG_LEVEL_DEBUG, NULL, NULL },
		/* inetd's first datagram: no interface, and -I or not, it
		 * is dropped; the client retries. */
		{ 0, "10.0.0.9", 1, "?", 0, NULL, 0, GOOD,
		    ARRIVAL_NO_INTERFACE, LOG_LEVEL_DEBUG, NULL,
		    "from 192.168.0.50: dropped, arrival interface unknown" },
		{ 1, NULL, 1, "?", 0, NULL, 0, GOOD,
		    ARRIVAL_OTHER_INTERFACE, LOG_LEVEL_TRACE, NULL, NULL },
		/* A bad packet on an unknown interface: the parse first. */
		{ 0, NULL, 1, "?", 0, NULL, 0, SHORT,
		    ARRIVAL_UNPARSED, LOG_LEVEL_DEBUG, NULL, NULL },
	};
	struct arrival_rules r;
	struct arrival a;
	struct arrival_decision out;
	struct pkt p;
	char line[256], want[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&r, 0, sizeof(r));
		if (t[i].only_eth0) {
			r.ifaces = eth0;
			r.nifaces = 1;
		}
		if (t[i].tftp != NULL)
			r.tftp_addr = inet_addr(t[i].tftp);
		pkt_init(&p, test_mac);
		if (t[i].bytes != BOOTP)
			pkt_type(&p, DHCPDISCOVER);
		pkt_end(&p);
		if (t[i].bytes == BOOTP)
			memset(p.b + DHCP_OFF_COOKIE, 0, 4);
		memset(&a, 0, sizeof(a));
		a.from_ipv4 = t[i].from_ipv4;
		a.from = inet_addr("192.168.0.50");
		a.ifname = t[i].ifname;
		a.ifindex = t[i].ifindex;
		a.local = t[i].local ? inet_addr(t[i].local) : 0;
		a.truncated = t[i].truncated;
		a.bytes = p.b;
		a.len = t[i].bytes == SHORT ? 100 : p.n;
		arrival_decide(&r, &a, m, &out);
		ck_assert_msg(out.verdict == t[i].verdict, "case %zu: %d", i,
		    out.verdict);
		ck_assert_msg(out.level == t[i].level, "case %zu", i);
		if (t[i].verdict == ARRIVAL_SERVE)
			ck_assert_uint_eq(out.server_id,
			    inet_addr(t[i].server_id));
		if (t[i].verdict == ARRIVAL_UNPARSED) {
			ck_assert_int_ne(out.parsed, DHCP_OK);
			snprintf(want, sizeof(want), "from 192.168.0.50 on %s: "
			    "dropped, %s", t[i].ifname,
			    dhcp_parse_error(out.parsed));
		} else if (t[i].line != NULL)
			strlcpy(want, t[i].line, sizeof(want));
		else
			continue;
		arrival_line(&a, &out, m, line, sizeof(line));
		ck_assert_str_eq(line, want);
	}
}
END_TEST

static Suite *
arrival_suite(void)
{
	Suite *s = suite_create("dhcpproxyd_arrival");
	TCase *tc = tcase_create("arrival");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, interfaces_served);
	tcase_add_test(tc, verdicts);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(arrival_suite)
