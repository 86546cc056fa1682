/* Who gets a connection: -m, -c, the bounds on handshakes in progress
 * (in all and per host), hosts outside -A told why without a slot, and
 * how a host is counted (IPv4 by address, IPv6 by its /64 except on the
 * server's own networks). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>

#include "nbdd/admission.h"
#include "tests/unit/check_main.h"

static struct netaddr
addr(const char *s)
{
	struct netaddr n;

	memset(&n, 0, sizeof(n));
	if (strchr(s, ':') != NULL) {
		n.family = AF_INET6;
		n.prefix = 128;
		ck_assert_int_eq(inet_pton(AF_INET6, s, n.addr), 1);
	} else {
		n.family = AF_INET;
		n.prefix = 32;
		ck_assert_int_eq(inet_pton(AF_INET, s, n.addr), 1);
	}
	return n;
}

static struct netaddr
net(const char *s, unsigned prefix)
{
	struct netaddr n = addr(s);

	n.prefix = (uint8_t)prefix;
	return n;
}

static enum adm_verdict
decide(const struct adm_limits *l, int allowed, const struct adm_counts *c,
    long long count, long long limit)
{
	struct adm_decision d;

	adm_decide(l, allowed, c, &d);
	if (d.verdict != ADM_SERVE && d.verdict != ADM_TELL) {
		ck_assert_int_eq(d.count, count);
		ck_assert_int_eq(d.limit, limit);
	}
	return d.verdict;
}

START_TEST(limits_from_flags)
{
	struct adm_limits l;

	adm_limits_init(&l, 128, 8);
	ck_assert_int_eq(l.max_conn, 128);
	ck_assert_int_eq(l.per_host, 8);
	ck_assert_int_eq(l.handshakes, 64);
	ck_assert_int_eq(l.host_handshakes, ADM_HOST_HANDSHAKES);
	ck_assert_int_eq(l.refusing, ADM_REFUSING_MAX);
	ck_assert_int_eq(l.host_refusing, ADM_HOST_REFUSING);
	adm_limits_init(&l, 1, 1);
	ck_assert_int_eq(l.handshakes, 1);
	ck_assert_int_eq(l.host_handshakes, ADM_HOST_HANDSHAKES);
	/* Many clients behind one address: -c raised, and with it. */
	adm_limits_init(&l, 1000, 64);
	ck_assert_int_eq(l.handshakes, 500);
	ck_assert_int_eq(l.host_handshakes, 16);
	adm_limits_init(&l, 3, 1);
	ck_assert_int_eq(l.handshakes, 1);
	adm_limits_init(&l, 4, 2);
	ck_assert_int_eq(l.handshakes, 2);
}
END_TEST

START_TEST(served_within_limits)
{
	struct adm_limits l;
	struct adm_counts c = { .conns = 7, .handshakes = 3,
	    .host_conns = 1, .host_handshakes = 1 };

	adm_limits_init(&l, 8, 2);
	ck_assert_int_eq(decide(&l, 1, &c, 0, 0), ADM_SERVE);
	/* Hosts outside -A being told why take nothing of the others. */
	c.refusing = ADM_REFUSING_MAX;
	ck_assert_int_eq(decide(&l, 1, &c, 0, 0), ADM_SERVE);
}
END_TEST

START_TEST(connection_limits)
{
	struct adm_limits l;
	struct adm_counts c = { 0 };

	adm_limits_init(&l, 4, 2);
	c.conns = 4;
	ck_assert_int_eq(decide(&l, 1, &c, 4, 4), ADM_FULL);
	c.conns = 3;
	c.host_conns = 2;
	ck_assert_int_eq(decide(&l, 1, &c, 2, 2), ADM_HOST_FULL);
	/* The host's own limit is named first. */
	c.conns = 4;
	ck_assert_int_eq(decide(&l, 1, &c, 2, 2), ADM_HOST_FULL);
}
END_TEST

START_TEST(handshake_limits)
{
	struct adm_limits l;
	struct adm_counts c = { 0 };

	adm_limits_init(&l, 8, 8);
	/* Half of -m in the handshake: the rest stays for clients that
	 * finish it, however many never do. */
	c.conns = 4;
	c.handshakes = 4;
	ck_assert_int_eq(decide(&l, 1, &c, 4, 4), ADM_HANDSHAKES_FULL);
	c.handshakes = 3;
	ck_assert_int_eq(decide(&l, 1, &c, 0, 0), ADM_SERVE);
	/* One host: two at once, however many more -c allows. */
	c.host_conns = 2;
	c.host_handshakes = 2;
	ck_assert_int_eq(decide(&l, 1, &c, 2, ADM_HOST_HANDSHAKES),
	    ADM_HOST_HANDSHAKES_FULL);
	c.host_conns = 7;
	c.host_handshakes = 1;
	ck_assert_int_eq(decide(&l, 1, &c, 0, 0), ADM_SERVE);
	/* -m before the handshakes. */
	c.conns = 8;
	c.handshakes = 4;
	c.host_handshakes = 0;
	ck_assert_int_eq(decide(&l, 1, &c, 8, 8), ADM_FULL);
}
END_TEST

/* Outside -A: told why, whatever -m, -c and the handshakes say, up to
 * bounds of its own; then closed at once. */
START_TEST(refused_hosts)
{
	struct adm_limits l;
	struct adm_counts c = { .conns = 4, .handshakes = 2, .host_conns = 2,
	    .host_handshakes = 2 };

	adm_limits_init(&l, 4, 2);
	ck_assert_int_eq(decide(&l, 0, &c, 0, 0), ADM_TELL);
	c.host_refusing = ADM_HOST_REFUSING;
	ck_assert_int_eq(decide(&l, 0, &c, ADM_HOST_REFUSING,
	    ADM_HOST_REFUSING), ADM_DROP_REFUSED);
	c.host_refusing = 0;
	c.refusing = ADM_REFUSING_MAX;
	ck_assert_int_eq(decide(&l, 0, &c, ADM_REFUSING_MAX,
	    ADM_REFUSING_MAX), ADM_DROP_REFUSED);
	c.refusing = ADM_REFUSING_MAX - 1;
	ck_assert_int_eq(decide(&l, 0, &c, 0, 0), ADM_TELL);
}
END_TEST

START_TEST(ipv4_by_address)
{
	struct netaddr a = addr("10.1.2.3"), b = addr("10.1.2.4"), ka, kb;

	adm_host_key(&a, NULL, 0, &ka);
	adm_host_key(&b, NULL, 0, &kb);
	ck_assert_int_eq(ka.prefix, 32);
	ck_assert(adm_same_host(&ka, &ka));
	ck_assert(!adm_same_host(&ka, &kb));
}
END_TEST

/* Off the server's networks an IPv6 host counts by its /64: one machine
 * cycling through the addresses of its /64 is one host. */
START_TEST(ipv6_by_slash64)
{
	struct netaddr local[] = { net("fd50::", 64), net("::1", 128),
	    net("10.0.0.0", 8) };
	struct netaddr a = addr("fd30::5"), b = addr("fd30::ffff:1:2:3"),
	    c = addr("fd30:0:0:1::5"), ka, kb, kc, want = net("fd30::", 64);

	adm_host_key(&a, local, 3, &ka);
	adm_host_key(&b, local, 3, &kb);
	adm_host_key(&c, local, 3, &kc);
	ck_assert_int_eq(ka.prefix, 64);
	ck_assert(memcmp(ka.addr, want.addr, 16) == 0);
	ck_assert(adm_same_host(&ka, &kb));
	ck_assert(!adm_same_host(&ka, &kc));
	/* No networks known: the same. */
	adm_host_key(&a, NULL, 0, &ka);
	ck_assert(adm_same_host(&ka, &kb));
}
END_TEST

/* On the server's own LAN, Pis share a /64 and count one by one. */
START_TEST(ipv6_on_link_by_address)
{
	struct netaddr local[] = { net("fd50::", 64), net("::1", 128) };
	struct netaddr a = addr("fd50::10"), b = addr("fd50::11"),
	    lo = addr("::1"), ka, kb, kl, off = addr("fd30::10"), ko;

	adm_host_key(&a, local, 2, &ka);
	adm_host_key(&b, local, 2, &kb);
	adm_host_key(&lo, local, 2, &kl);
	adm_host_key(&off, local, 2, &ko);
	ck_assert_int_eq(ka.prefix, 128);
	ck_assert(!adm_same_host(&ka, &kb));
	ck_assert(adm_same_host(&ka, &ka));
	ck_assert_int_eq(kl.prefix, 128);
	/* An on-link address and an off-link /64 are never one host. */
	ck_assert(!adm_same_host(&ka, &ko));
	ck_assert(!adm_same_host(&ko, &ka));
	/* Nor are the families. */
	struct netaddr v4 = addr("0.0.0.0"), k4;
	adm_host_key(&v4, local, 2, &k4);
	ck_assert(!adm_same_host(&k4, &ko));
}
END_TEST

/* The refusal lines name the count and limit, with plurals, and the host
 * as it was counted: an off-link IPv6 host by its /64. */
START_TEST(refusal_lines)
{
	struct netaddr v4 = addr("192.0.2.7"), v6 = addr("2001:db8:1:2::9"),
	    k4, k6;
	struct adm_decision d = { ADM_FULL, 128, 128 };
	char out[ADM_REFUSAL_LEN];

	adm_host_key(&v4, NULL, 0, &k4);
	adm_host_key(&v6, NULL, 0, &k6);
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 128 connections (-m 128)");
	d = (struct adm_decision){ ADM_FULL, 1, 1 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 1 connection (-m 1)");
	d = (struct adm_decision){ ADM_HOST_FULL, 8, 8 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 8 connections from this host (-c 8)");
	ck_assert_int_eq(adm_refusal_str(&d, &k6, out, sizeof(out)), 1);
	ck_assert_str_eq(out,
	    "already 8 connections from 2001:db8:1:2::/64 (-c 8)");
	d = (struct adm_decision){ ADM_HANDSHAKES_FULL, 1, 1 };
	ck_assert_int_eq(adm_refusal_str(&d, &k6, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 1 connection in the handshake (at "
	    "most 1: half of -m)");
	d = (struct adm_decision){ ADM_HOST_HANDSHAKES_FULL, 2, 2 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 2 connections from this host in the "
	    "handshake (at most 2)");
	ck_assert_int_eq(adm_refusal_str(&d, &k6, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 2 connections from 2001:db8:1:2::/64 "
	    "in the handshake (at most 2)");
	/* An on-link IPv6 host counts by its address: "this host". */
	struct netaddr lan = net("2001:db8:1:2::", 64), kl;
	adm_host_key(&v6, &lan, 1, &kl);
	ck_assert_int_eq(adm_refusal_str(&d, &kl, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "already 2 connections from this host in the "
	    "handshake (at most 2)");
	/* The others are no refusal for a limit: nothing to log. */
	d = (struct adm_decision){ ADM_SERVE, 0, 0 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	d = (struct adm_decision){ ADM_TELL, 0, 0 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 0);
	d = (struct adm_decision){ ADM_DROP_REFUSED, 32, 32 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, out, sizeof(out)), 0);
	/* A short buffer is cut, never overrun. */
	char small[8];
	d = (struct adm_decision){ ADM_FULL, 128, 128 };
	ck_assert_int_eq(adm_refusal_str(&d, &k4, small, sizeof(small)), 1);
	ck_assert_str_eq(small, "already");
}
END_TEST

/* A host outside -A has TURNAWAY_MS to read why, or -T if shorter. */
START_TEST(turnaway_deadline)
{
	ck_assert_int_eq(adm_turnaway_deadline(1000, 20), 1000 + TURNAWAY_MS);
	ck_assert_int_eq(adm_turnaway_deadline(1000, 1), 2000);
	ck_assert_int_eq(adm_turnaway_deadline(0, TURNAWAY_MS / 1000),
	    TURNAWAY_MS);
	ck_assert_int_eq(adm_turnaway_deadline(0, 3600), TURNAWAY_MS);
}
END_TEST

/* Under inetd the process ends once nothing it serves or tells is left. */
START_TEST(inetd_done)
{
	ck_assert(adm_inetd_done(0, 0));
	ck_assert(!adm_inetd_done(1, 0));
	ck_assert(!adm_inetd_done(0, 1));
	ck_assert(!adm_inetd_done(1, 1));
}
END_TEST

START_TEST(poll_timeout)
{
	ck_assert_int_eq(adm_poll_timeout(-1, -1), -1);
	ck_assert_int_eq(adm_poll_timeout(-1, 500), 500);
	ck_assert_int_eq(adm_poll_timeout(700, -1), 700);
	ck_assert_int_eq(adm_poll_timeout(700, 500), 500);
	ck_assert_int_eq(adm_poll_timeout(300, 500), 300);
	ck_assert_int_eq(adm_poll_timeout(0, 500), 0);
	ck_assert_int_eq(adm_poll_timeout(500, 0), 0);
	/* A grace period of a day is longer than poll can wait. */
	ck_assert_int_eq(adm_poll_timeout((int64_t)INT_MAX + 1, -1), INT_MAX);
	ck_assert_int_eq(adm_poll_timeout(INT64_MAX, INT64_MAX), INT_MAX);
	ck_assert_int_eq(adm_poll_timeout(INT64_MAX, 10), 10);
	/* Any negative is none, not a wait in the past. */
	ck_assert_int_eq(adm_poll_timeout(-5, -7), -1);
	ck_assert_int_eq(adm_poll_timeout(-5, 9), 9);
}
END_TEST

/* Nothing waiting and a client gone before accept are no news; running
 * out of descriptors, which a flood of clients can cause, is. */
START_TEST(accept_errors)
{
	ck_assert_int_eq(adm_accept_error(EAGAIN), ADM_ACCEPT_QUIET);
	ck_assert_int_eq(adm_accept_error(EWOULDBLOCK), ADM_ACCEPT_QUIET);
	ck_assert_int_eq(adm_accept_error(EINTR), ADM_ACCEPT_QUIET);
	ck_assert_int_eq(adm_accept_error(ECONNABORTED), ADM_ACCEPT_QUIET);
	ck_assert_int_eq(adm_accept_error(EMFILE), ADM_ACCEPT_LOG);
	ck_assert_int_eq(adm_accept_error(ENFILE), ADM_ACCEPT_LOG);
	ck_assert_int_eq(adm_accept_error(ENOBUFS), ADM_ACCEPT_LOG);
	ck_assert_int_eq(adm_accept_error(ENOMEM), ADM_ACCEPT_LOG);
	ck_assert_int_eq(adm_accept_error(EPERM), ADM_ACCEPT_LOG);
	ck_assert_int_gt(ADM_ACCEPTS_PER_WAKEUP, 0);
}
END_TEST

static Suite *
admission_suite(void)
{
	Suite *s = suite_create("nbdd_admission");
	TCase *tc = tcase_create("admission");

	tcase_add_test(tc, limits_from_flags);
	tcase_add_test(tc, served_within_limits);
	tcase_add_test(tc, connection_limits);
	tcase_add_test(tc, handshake_limits);
	tcase_add_test(tc, refused_hosts);
	tcase_add_test(tc, ipv4_by_address);
	tcase_add_test(tc, ipv6_by_slash64);
	tcase_add_test(tc, ipv6_on_link_by_address);
	tcase_add_test(tc, refusal_lines);
	tcase_add_test(tc, turnaway_deadline);
	tcase_add_test(tc, inetd_done);
	tcase_add_test(tc, poll_timeout);
	tcase_add_test(tc, accept_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(admission_suite)
