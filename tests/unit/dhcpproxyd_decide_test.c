/* dhcpproxyd's decisions: whom it answers, the rate limit, log-once, and
 * boot files by architecture. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "dhcpproxyd/decide.h"
#include "dhcpproxyd_pkt.h"

static struct dhcp_msg *m;
static struct decider *d;

/* The boot directory as the decision layer sees it: the names that have
 * an entry, and those whose entry is broken (common_bootdir_test covers
 * what counts as either on disk). */
static const char *entries[8];
static const char *broken[4];
static int lookups;

static enum boot_entry_type
fake_look_entry(void *ctx, const char *name, char *why, size_t whylen)
{
	const char **e = ctx;

	lookups++;
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		if (broken[i] != NULL && strcmp(broken[i], name) == 0) {
			snprintf(why, whylen, "%s -> ../nosuch.img: No such "
			    "file or directory", name);
			return BOOT_ENTRY_BROKEN;
		}
	for (; *e != NULL; e++)
		if (strcmp(*e, name) == 0)
			return BOOT_ENTRY_DIR;
	return BOOT_ENTRY_NONE;
}

static void
add_entry(const char *name)
{
	size_t i = 0;

	while (entries[i] != NULL)
		i++;
	ck_assert_uint_lt(i, sizeof(entries) / sizeof(entries[0]) - 1);
	entries[i] = name;
}

static void
setup(void)
{
	m = malloc(sizeof(*m));
	d = malloc(sizeof(*d));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(d);
	decider_init(d);
	memset(entries, 0, sizeof(entries));
	memset(broken, 0, sizeof(broken));
	lookups = 0;
	/* A serial's entry and a MAC's. */
	add_entry("abcd1234");
	add_entry("dc-a6-32-01-36-c9");
}

static void
teardown(void)
{
	free(m);
	free(d);
}

static struct decide_config
config(void)
{
	struct decide_config c = { .look_entry = fake_look_entry,
	    .entries = entries };

	return c;
}

static void
run(struct pkt *p, const struct decide_config *c, int discovery,
    uint64_t now, struct decision *out)
{
	struct decide_input in = { .m = m, .discovery_port = discovery,
	    .server_id = inet_addr("192.168.0.4"), .now_ms = now };

	ck_assert_int_eq(dhcp_parse(p->b, p->n, m), DHCP_OK);
	decide(d, c, &in, out);
}

START_TEST(known_by_serial)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_int_eq(out.reply_type, DHCPOFFER);
	ck_assert_str_eq(out.serial, "abcd1234");
	ck_assert_str_eq(out.entry, "abcd1234");
	/* The serial's entry was enough: one question asked. */
	ck_assert_int_eq(lookups, 1);
	ck_assert_str_eq(out.who, "abcd1234 dc:a6:32:01:36:c2");
	ck_assert_ptr_null(out.bootfile);
	/* The old option 97 form names the same serial. */
	decider_init(d);
	pkt_pi_discover(&p, test_mac, 1, 0xabcd1234);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_str_eq(out.serial, "abcd1234");
}
END_TEST

START_TEST(known_by_mac_or_default)
{
	static const uint8_t mac9[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36, 0xc9 };
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	pkt_pi_discover(&p, mac9, 0, 0x99999999);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_str_eq(out.entry, "dc-a6-32-01-36-c9");

	pkt_pi_discover(&p, test_mac, 0, 0x11223344);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	ck_assert(!out.quiet);
	ck_assert_str_eq(out.why,
	    "ignored, no boot entry for 11223344 or dc-a6-32-01-36-c2");
	add_entry("default");
	lookups = 0;
	run(&p, &c, 0, 5000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_str_eq(out.entry, "default");
	/* Serial, MAC, then default, in that order. */
	ck_assert_int_eq(lookups, 3);
}
END_TEST

/* An entry that is there but broken is never passed over: not for the
 * MAC entry, not for default, not with -a. The Pi is not answered (its
 * boot would fail at tftpd, or boot what its entry does not say), and
 * the reason names the entry, its target and why. */
START_TEST(broken_entry_never_falls_back)
{
	static const uint8_t mac9[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36, 0xc9 };
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	add_entry("default");
	broken[0] = "abcd1234";
	/* Its serial's entry is broken; its MAC has a good one. */
	pkt_pi_discover(&p, mac9, 0, 0xabcd1234);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_BROKEN);
	ck_assert(!out.quiet);
	ck_assert_str_eq(out.entry, "abcd1234");
	ck_assert_str_eq(out.why, "not answered, broken boot entry abcd1234 "
	    "-> ../nosuch.img: No such file or directory");
	ck_assert_int_eq(lookups, 1);
	c.answer_all = 1;
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_BROKEN);
	c.answer_all = 0;

	/* A broken MAC entry, and default there. */
	broken[0] = "dc-a6-32-01-36-c2";
	pkt_pi_discover(&p, test_mac, 0, 0x11223344);
	lookups = 0;
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_BROKEN);
	ck_assert_str_eq(out.entry, "dc-a6-32-01-36-c2");
	ck_assert_int_eq(lookups, 2);

	/* A broken default: every Pi without an entry of its own. */
	broken[0] = "default";
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_BROKEN);
	ck_assert_str_eq(out.entry, "default");
	ck_assert_str_eq(out.why, "not answered, broken boot entry default "
	    "-> ../nosuch.img: No such file or directory");
	/* ... but a Pi with a good entry of its own still boots. */
	pkt_pi_discover(&p, mac9, 0, 0x99999999);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_str_eq(out.entry, "dc-a6-32-01-36-c9");
}
END_TEST

START_TEST(answer_all)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	pkt_pi_discover(&p, test_mac, 0, 0x55555555);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	c.answer_all = 1;
	c.look_entry = NULL;
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	/* Without option 97 the MAC alone names it. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	pkt_end(&p);
	c.answer_all = 0;
	c.look_entry = fake_look_entry;
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	ck_assert_str_eq(out.who, "dc:a6:32:01:36:c2");
	ck_assert_str_eq(out.why,
	    "ignored, no boot entry for dc-a6-32-01-36-c2");
}
END_TEST

START_TEST(not_pxe)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	c.answer_all = 1;
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "udhcp 1.36.1", 12);
	pkt_end(&p);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	ck_assert(out.quiet);
	ck_assert_str_eq(out.why, "ignored, not a PXE client");
	/* No option 60 at all. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_end(&p);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	/* A reply (another proxy's) is never answered. */
	pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
	p.b[DHCP_OFF_OP] = BOOTREPLY;
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	ck_assert(out.quiet);
	/* None of these cost a look into the boot directory. */
	ck_assert_int_eq(lookups, 0);
}
END_TEST

/* A PXE request of the given type, with option 54 when sid is set. */
static void
pxe_request(struct pkt *p, uint8_t type, const char *sid)
{
	uint32_t a;

	pkt_init(p, test_mac);
	pkt_type(p, type);
	pkt_opt(p, OPT_VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003016", 32);
	pkt_opt(p, OPT_CLIENT_ARCH, "\0\x07", 2);
	if (sid) {
		a = inet_addr(sid);
		pkt_opt(p, OPT_SERVER_ID, &a, 4);
	}
	pkt_end(p);
}

START_TEST(message_types)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	c.answer_all = 1;
	pxe_request(&p, DHCPREQUEST, "192.168.0.4");
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_int_eq(out.reply_type, DHCPACK);
	/* Selecting the LAN server's offer: not ours to answer. */
	pxe_request(&p, DHCPREQUEST, "192.168.0.1");
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	ck_assert(out.quiet);
	pxe_request(&p, DHCPREQUEST, NULL);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	/* Port 4011: REQUEST gets an ACK, DISCOVER nothing. */
	pxe_request(&p, DHCPREQUEST, NULL);
	run(&p, &c, 1, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_int_eq(out.reply_type, DHCPACK);
	pxe_request(&p, DHCPDISCOVER, NULL);
	run(&p, &c, 1, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	for (uint8_t t = DHCPOFFER; t <= DHCPINFORM; t++) {
		if (t == DHCPREQUEST)
			continue;
		pxe_request(&p, t, NULL);
		run(&p, &c, 0, 1000, &out);
		ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
	}
	/* BOOTP, no option 53. */
	pkt_init(&p, test_mac);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	pkt_end(&p);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_IGNORE);
}
END_TEST

START_TEST(rate_limit)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;
	int answered = 0;

	pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
	for (int i = 0; i < 50; i++) {
		run(&p, &c, 0, 10000, &out);
		answered += out.verdict == DECIDE_ANSWER;
		if (i >= RATE_BURST)
			ck_assert_int_eq(out.verdict, DECIDE_RATE_LIMITED);
	}
	ck_assert_int_eq(answered, RATE_BURST);
	/* A second later, RATE_PER_SEC more. */
	answered = 0;
	for (int i = 0; i < 50; i++) {
		run(&p, &c, 0, 11000, &out);
		answered += out.verdict == DECIDE_ANSWER;
	}
	ck_assert_int_eq(answered, RATE_PER_SEC);
	/* A Pi retrying once a second is never limited. */
	for (int i = 0; i < 30; i++) {
		run(&p, &c, 0, 20000 + 1000 * (uint64_t)i, &out);
		ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	}
	/* Another client is not limited by the first. */
	{
		static const uint8_t other[6] = { 2, 0, 0, 0, 0, 1 };

		pkt_pi_discover(&p, other, 0, 0xabcd1234);
		run(&p, &c, 0, 20000 + 29000, &out);
		ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	}
}
END_TEST

START_TEST(table_bounded)
{
	struct decide_config c = config();
	struct decision out;
	struct pkt p;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 0 };
	int used = 0;

	c.answer_all = 1;
	/* Exhaust the first client's tokens. */
	pkt_pi_discover(&p, test_mac, 0, 1);
	for (int i = 0; i < RATE_BURST + 1; i++)
		run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_RATE_LIMITED);
	/* Many more clients than the table holds. */
	for (int i = 0; i < 4 * DECIDE_CLIENTS; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		pkt_pi_discover(&p, mac, 0, 1);
		run(&p, &c, 0, 1001 + (uint64_t)i / 1000, &out);
		ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	}
	for (int i = 0; i < DECIDE_CLIENTS; i++)
		used += d->clients[i].used;
	ck_assert_int_eq(used, DECIDE_CLIENTS);
	/* The first client was forgotten: a full bucket again. */
	pkt_pi_discover(&p, test_mac, 0, 1);
	run(&p, &c, 0, 1002, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
}
END_TEST

START_TEST(log_once)
{
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 1 };

	ck_assert(decider_log_once(d, test_mac, "a: answered", 1));
	ck_assert(!decider_log_once(d, test_mac, "a: answered", 2));
	ck_assert(decider_log_once(d, test_mac, "a: rate limited", 3));
	ck_assert(!decider_log_once(d, test_mac, "a: rate limited", 4));
	ck_assert(!decider_log_once(d, test_mac, "a: answered", 5));
	ck_assert(decider_log_once(d, other, "a: answered", 6));
}
END_TEST

START_TEST(bootfile_flags)
{
	struct bootfile b;
	char longname[200];

	ck_assert_ptr_null(bootfile_parse("0=undionly.kpxe", &b));
	ck_assert_int_eq(b.arch, 0);
	ck_assert_str_eq(b.file, "undionly.kpxe");
	ck_assert_ptr_null(bootfile_parse("11=arm64/ipxe.efi", &b));
	ck_assert_int_eq(b.arch, 11);
	ck_assert_ptr_null(bootfile_parse("ipxe=boot.ipxe", &b));
	ck_assert_int_eq(b.arch, BOOTFILE_IPXE);
	ck_assert_ptr_null(bootfile_parse("7=a=b", &b));
	ck_assert_str_eq(b.file, "a=b");
	ck_assert_ptr_nonnull(bootfile_parse("undionly.kpxe", &b));
	ck_assert_ptr_nonnull(bootfile_parse("=x", &b));
	ck_assert_ptr_nonnull(bootfile_parse("7=", &b));
	ck_assert_ptr_nonnull(bootfile_parse("x86=a", &b));
	ck_assert_ptr_nonnull(bootfile_parse("-1=a", &b));
	ck_assert_ptr_nonnull(bootfile_parse("65536=a", &b));
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "7=", 2);
	longname[2 + 127] = '\0';
	ck_assert_ptr_null(bootfile_parse(longname, &b));
	longname[2 + 127] = 'a';
	longname[2 + 128] = '\0';
	ck_assert_ptr_nonnull(bootfile_parse(longname, &b));
}
END_TEST

START_TEST(bootfile_by_arch)
{
	struct bootfile bf[4];
	struct decide_config c = config();
	struct decision out;
	struct pkt p;

	ck_assert_ptr_null(bootfile_parse("0=undionly.kpxe", &bf[0]));
	ck_assert_ptr_null(bootfile_parse("7=old.efi", &bf[1]));
	ck_assert_ptr_null(bootfile_parse("7=ipxe.efi", &bf[2]));
	c.bootfiles = bf;
	c.nbootfiles = 3;
	c.answer_all = 1;
	pxe_request(&p, DHCPDISCOVER, NULL);
	run(&p, &c, 0, 1000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_str_eq(out.bootfile, "ipxe.efi");
	/* iPXE with no script of its own gets its architecture's file. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	pkt_opt(&p, OPT_USER_CLASS, "iPXE", 4);
	pkt_opt(&p, OPT_CLIENT_ARCH, "\0\0", 2);
	pkt_end(&p);
	run(&p, &c, 0, 1000, &out);
	ck_assert_str_eq(out.bootfile, "undionly.kpxe");
	ck_assert_str_eq(out.entry, "");
	/* Known by an entry: the script in that entry. */
	{
		static const uint8_t mac9[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36,
		    0xc9 };

		memcpy(p.b + DHCP_OFF_CHADDR, mac9, 6);
		run(&p, &c, 0, 1000, &out);
		ck_assert_str_eq(out.entry, "dc-a6-32-01-36-c9");
		ck_assert_str_eq(out.bootfile, "dc-a6-32-01-36-c9/boot.ipxe");
		memcpy(p.b + DHCP_OFF_CHADDR, test_mac, 6);
	}
	/* With -b ipxe=, that script. */
	ck_assert_ptr_null(bootfile_parse("ipxe=boot.ipxe", &bf[3]));
	c.nbootfiles = 4;
	run(&p, &c, 0, 1000, &out);
	ck_assert_str_eq(out.bootfile, "boot.ipxe");
	/* An architecture with no file. */
	pkt_init(&p, test_mac);
	pkt_type(&p, DHCPDISCOVER);
	pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
	pkt_opt(&p, OPT_CLIENT_ARCH, "\0\x0b", 2);
	pkt_end(&p);
	run(&p, &c, 0, 5000, &out);
	ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
	ck_assert_ptr_null(out.bootfile);
}
END_TEST

START_TEST(where_replies_go)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to;

	memset(m, 0, sizeof(*m));
	from.sin_addr.s_addr = inet_addr("192.168.0.50");
	from.sin_port = htons(4011);

	/* No address yet: broadcast to the client port. */
	ck_assert_int_eq(reply_destination(m, 0, &from, 68, 67, &to), 1);
	ck_assert_uint_eq(to.sin_addr.s_addr, htonl(INADDR_BROADCAST));
	ck_assert_uint_eq(ntohs(to.sin_port), 68);

	/* An address of its own: unicast there. */
	m->ciaddr = inet_addr("192.168.0.77");
	ck_assert_int_eq(reply_destination(m, 0, &from, 68, 67, &to), 0);
	ck_assert_uint_eq(to.sin_addr.s_addr, inet_addr("192.168.0.77"));
	ck_assert_uint_eq(ntohs(to.sin_port), 68);

	/* Relayed: to the relay's server port, even with a ciaddr. */
	m->giaddr = inet_addr("10.1.0.1");
	ck_assert_int_eq(reply_destination(m, 0, &from, 68, 67, &to), 0);
	ck_assert_uint_eq(to.sin_addr.s_addr, inet_addr("10.1.0.1"));
	ck_assert_uint_eq(ntohs(to.sin_port), 67);

	/* Alternate ports follow -p: 1067 and 1068. */
	ck_assert_int_eq(reply_destination(m, 0, &from, 1068, 1067, &to), 0);
	ck_assert_uint_eq(ntohs(to.sin_port), 1067);

	/* Port 4011: back to the source, whatever the packet says. */
	ck_assert_int_eq(reply_destination(m, 1, &from, 68, 67, &to), 0);
	ck_assert_uint_eq(to.sin_addr.s_addr, inet_addr("192.168.0.50"));
	ck_assert_uint_eq(ntohs(to.sin_port), 4011);

	/* ...unless the source has no address: the port 67 rules. */
	from.sin_addr.s_addr = 0;
	m->giaddr = 0;
	m->ciaddr = 0;
	ck_assert_int_eq(reply_destination(m, 1, &from, 68, 67, &to), 1);
	ck_assert_uint_eq(to.sin_addr.s_addr, htonl(INADDR_BROADCAST));
}
END_TEST

static Suite *
decide_suite(void)
{
	Suite *s = suite_create("dhcpproxyd_decide");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, known_by_serial);
	tcase_add_test(tc, known_by_mac_or_default);
	tcase_add_test(tc, answer_all);
	tcase_add_test(tc, broken_entry_never_falls_back);
	tcase_add_test(tc, not_pxe);
	tcase_add_test(tc, message_types);
	tcase_add_test(tc, rate_limit);
	tcase_add_test(tc, table_bounded);
	tcase_add_test(tc, log_once);
	tcase_add_test(tc, bootfile_flags);
	tcase_add_test(tc, bootfile_by_arch);
	tcase_add_test(tc, where_replies_go);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(decide_suite)
