/* dhcpproxyd's decisions: whom it answers, with what reply, the rate
 * limit, each decision's line and its level, and boot files by
 * architecture. */
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
static struct decide_input last_in;	/* run()'s, for line() */

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
	last_in = in;
}

/* The decision's log line, as run() last decided it. */
static const char *
line(const struct decision *out)
{
	static char buf[DECISION_LINE_LEN];

	decision_line(&last_in, out, buf, sizeof(buf));
	return buf;
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
	ck_assert_int_eq(out.reason, DECIDE_NO_ENTRY);
	ck_assert(out.no_entry);
	ck_assert_str_eq(line(&out), "11223344 dc:a6:32:01:36:c2: ignored, "
	    "no boot entry for 11223344 or dc-a6-32-01-36-c2");
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
	ck_assert_int_eq(out.reason, DECIDE_ENTRY_BROKEN);
	ck_assert(!out.no_entry);
	ck_assert_str_eq(line(&out), "abcd1234 dc:a6:32:01:36:c9: not "
	    "answered, broken boot entry abcd1234 -> ../nosuch.img: No such "
	    "file or directory");
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
	ck_assert_str_eq(line(&out), "11223344 dc:a6:32:01:36:c2: not "
	    "answered, broken boot entry default -> ../nosuch.img: No such "
	    "file or directory");
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
	/* Answered, and still a machine for -U to record. */
	ck_assert(out.no_entry);
	ck_assert_int_eq(out.reason, DECIDE_ANSWERED);
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
	ck_assert_str_eq(line(&out),
	    "dc:a6:32:01:36:c2: ignored, no boot entry for dc-a6-32-01-36-c2");
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
	ck_assert_str_eq(line(&out),
	    "dc:a6:32:01:36:c2: ignored, not a PXE client");
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

/* Every reason a request is not answered, or is: its verdict, whether
 * it is only worth a debug line, and the line that says it. */
START_TEST(reasons_table)
{
	static const uint8_t mac9[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36, 0xc9 };
	enum shape { PI_SERIAL, PI_UNKNOWN, PI_BROKEN, NOT_PXE, REPLY_OP,
	    REQ_OTHER, DISCOVER_4011, INFORM_67, FLOOD, MAC_ONLY };
	static const struct {
		enum shape shape;
		int answer_all, discovery;
		enum decide_verdict verdict;
		enum decide_reason reason;
		int quiet;
		const char *line;
	} t[] = {
		{ PI_SERIAL, 0, 0, DECIDE_ANSWER, DECIDE_ANSWERED, 0,
		    "abcd1234 dc:a6:32:01:36:c2: answered, tftp 192.168.0.4" },
		{ MAC_ONLY, 0, 0, DECIDE_ANSWER, DECIDE_ANSWERED, 0,
		    "dc:a6:32:01:36:c9: answered, tftp 192.168.0.4, boot file "
		    "dc-a6-32-01-36-c9/boot.ipxe" },
		{ PI_UNKNOWN, 0, 0, DECIDE_IGNORE, DECIDE_NO_ENTRY, 0,
		    "11223344 dc:a6:32:01:36:c2: ignored, no boot entry for "
		    "11223344 or dc-a6-32-01-36-c2" },
		{ PI_UNKNOWN, 1, 0, DECIDE_ANSWER, DECIDE_ANSWERED, 0,
		    "11223344 dc:a6:32:01:36:c2: answered, tftp 192.168.0.4" },
		{ PI_BROKEN, 1, 0, DECIDE_BROKEN, DECIDE_ENTRY_BROKEN, 0,
		    "0badcafe dc:a6:32:01:36:c2: not answered, broken boot "
		    "entry 0badcafe -> ../nosuch.img: No such file or "
		    "directory" },
		{ NOT_PXE, 1, 0, DECIDE_IGNORE, DECIDE_NOT_PXE, 1,
		    "dc:a6:32:01:36:c2: ignored, not a PXE client" },
		{ REPLY_OP, 1, 0, DECIDE_IGNORE, DECIDE_NOT_REQUEST, 1,
		    "abcd1234 dc:a6:32:01:36:c2: ignored, not a request" },
		{ REQ_OTHER, 1, 0, DECIDE_IGNORE, DECIDE_OTHER_SERVER, 1,
		    "dc:a6:32:01:36:c2: ignored, request for another server" },
		{ DISCOVER_4011, 1, 1, DECIDE_IGNORE, DECIDE_WRONG_PORT, 1,
		    "dc:a6:32:01:36:c2: ignored, DHCPDISCOVER on port 4011" },
		{ INFORM_67, 1, 0, DECIDE_IGNORE, DECIDE_WRONG_PORT, 1,
		    "dc:a6:32:01:36:c2: ignored, DHCPINFORM on port 67" },
		{ FLOOD, 0, 0, DECIDE_RATE_LIMITED, DECIDE_TOO_OFTEN, 0,
		    "abcd1234 dc:a6:32:01:36:c2: rate limited" },
	};
	struct decide_config c;
	struct decision out;
	struct pkt p;
	uint32_t a;

	broken[0] = "0badcafe";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		decider_init(d);
		c = config();
		c.answer_all = t[i].answer_all;
		switch (t[i].shape) {
		case PI_SERIAL:
		case FLOOD:
		case REPLY_OP:
			pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
			if (t[i].shape == REPLY_OP)
				p.b[DHCP_OFF_OP] = BOOTREPLY;
			break;
		case PI_UNKNOWN:
			pkt_pi_discover(&p, test_mac, 0, 0x11223344);
			break;
		case PI_BROKEN:
			pkt_pi_discover(&p, test_mac, 0, 0x0badcafe);
			break;
		case MAC_ONLY:
			pkt_init(&p, mac9);
			pkt_type(&p, DHCPDISCOVER);
			pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
			pkt_opt(&p, OPT_USER_CLASS, "iPXE", 4);
			pkt_end(&p);
			break;
		case NOT_PXE:
			pkt_init(&p, test_mac);
			pkt_type(&p, DHCPDISCOVER);
			pkt_end(&p);
			break;
		case REQ_OTHER:
			pkt_init(&p, test_mac);
			pkt_type(&p, DHCPREQUEST);
			pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
			a = inet_addr("192.168.0.1");
			pkt_opt(&p, OPT_SERVER_ID, &a, 4);
			pkt_end(&p);
			break;
		case DISCOVER_4011:
		case INFORM_67:
			pkt_init(&p, test_mac);
			pkt_type(&p, t[i].shape == INFORM_67 ? DHCPINFORM :
			    DHCPDISCOVER);
			pkt_opt(&p, OPT_VENDOR_CLASS, "PXEClient", 9);
			pkt_end(&p);
			break;
		}
		if (t[i].shape == FLOOD)
			for (int k = 0; k < RATE_BURST; k++)
				run(&p, &c, t[i].discovery, 1000, &out);
		run(&p, &c, t[i].discovery, 1000, &out);
		ck_assert_msg(out.verdict == t[i].verdict, "case %zu", i);
		ck_assert_msg(out.reason == t[i].reason, "case %zu", i);
		ck_assert_msg(out.quiet == t[i].quiet, "case %zu", i);
		ck_assert_str_eq(line(&out), t[i].line);
	}
}
END_TEST

/* An answer's reply: option 54 and the next server are the address the
 * arrival gave (arrival.h), the rest from the flags; the built packet
 * says so. */
START_TEST(reply_carries)
{
	static const struct {
		const char *server_id;
		const char *menu;
		int opt66;
	} t[] = {
		{ "192.168.0.4", NULL, 0 },
		{ "10.9.8.7", "Lab boot", 1 },
	};
	struct decide_config c = config();
	struct decide_input in;
	struct decision out;
	struct dhcp_msg *r = malloc(sizeof(*r));
	uint8_t buf[DHCP_MAX_LEN];
	const uint8_t *v;
	size_t n, len;
	struct pkt p;

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		decider_init(d);
		c.menu_text = t[i].menu;
		c.send_opt66 = t[i].opt66;
		pkt_pi_discover(&p, test_mac, 0, 0xabcd1234);
		ck_assert_int_eq(dhcp_parse(p.b, p.n, m), DHCP_OK);
		memset(&in, 0, sizeof(in));
		in.m = m;
		in.server_id = inet_addr(t[i].server_id);
		in.now_ms = 1000;
		decide(d, &c, &in, &out);
		ck_assert_int_eq(out.verdict, DECIDE_ANSWER);
		ck_assert_uint_eq(out.reply.msg_type, DHCPOFFER);
		ck_assert_uint_eq(out.reply.server_id, in.server_id);
		ck_assert_uint_eq(out.reply.tftp_addr, in.server_id);
		ck_assert_ptr_eq(out.reply.menu_text, t[i].menu);
		ck_assert_int_eq(out.reply.send_opt66, t[i].opt66);
		ck_assert_ptr_null(out.reply.bootfile);
		n = dhcp_build_reply(m, &out.reply, buf, sizeof(buf));
		ck_assert_uint_gt(n, 0);
		ck_assert_int_eq(dhcp_parse(buf, n, r), DHCP_OK);
		ck_assert(dhcp_is_proxy_reply(r));
		ck_assert_uint_eq(r->siaddr, in.server_id);
		v = dhcp_opt(r, OPT_SERVER_ID, &len);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(len, 4);
		ck_assert_mem_eq(v, &in.server_id, 4);
		ck_assert_int_eq(dhcp_opt(r, OPT_TFTP_SERVER, &len) != NULL,
		    t[i].opt66);
	}
	free(r);
}
END_TEST

/* Each decision's level, in the order a client's retries and a flood of
 * made-up MACs bring them. */
START_TEST(log_levels)
{
	enum who { OWN, DEFAULT, NONE, BROKEN, QUIET };
	static const struct {
		enum who who;
		int mac;		/* the last byte of its MAC */
		const char *line;
		enum log_level level;
		const char *note;
	} t[] = {
		/* An entry of its own: INFO once, then DEBUG (again). */
		{ OWN, 1, "a: answered", LOG_LEVEL_INFO, "" },
		{ OWN, 1, "a: answered", LOG_LEVEL_DEBUG, " (again)" },
		/* A new line for the same client is news. */
		{ OWN, 1, "a: answered, boot file x", LOG_LEVEL_INFO, "" },
		/* Quiet ones are DEBUG, every time, and never remembered. */
		{ QUIET, 2, "b: ignored, not a PXE client", LOG_LEVEL_DEBUG,
		    "" },
		{ QUIET, 2, "b: ignored, not a PXE client", LOG_LEVEL_DEBUG,
		    "" },
		/* A broken entry warns; no entry, or default, is INFO. */
		{ BROKEN, 3, "c: not answered", LOG_LEVEL_WARN, "" },
		{ BROKEN, 3, "c: not answered", LOG_LEVEL_DEBUG, " (again)" },
		{ NONE, 4, "d: ignored, no boot entry", LOG_LEVEL_INFO, "" },
		{ DEFAULT, 5, "e: answered", LOG_LEVEL_INFO, "" },
	};
	struct decision dec;
	struct decision_log dl;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 0 };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&dec, 0, sizeof(dec));
		dec.verdict = t[i].who == BROKEN ? DECIDE_BROKEN :
		    t[i].who == OWN || t[i].who == DEFAULT ? DECIDE_ANSWER :
		    DECIDE_IGNORE;
		dec.quiet = t[i].who == QUIET;
		strlcpy(dec.entry, t[i].who == OWN ? "abcd1234" :
		    t[i].who == DEFAULT || t[i].who == BROKEN ? "default" : "",
		    sizeof(dec.entry));
		mac[5] = (uint8_t)t[i].mac;
		decision_log(d, mac, &dec, t[i].line, 1000, &dl);
		ck_assert_msg(dl.level == t[i].level, "case %zu: level %d", i,
		    dl.level);
		ck_assert_str_eq(dl.note, t[i].note);
	}
}
END_TEST

/* A flood of made-up MACs with no entry of their own: the first lines
 * through, then DEBUG lines held back, then one that counts them; a
 * machine with an entry of its own is never held back. */
START_TEST(log_flood_held_back)
{
	struct decision dec;
	struct decision_log dl;
	uint8_t mac[6] = { 2, 0x66, 0, 0, 0, 0 };
	char line[32], note[48];
	uint32_t i;

	memset(&dec, 0, sizeof(dec));
	dec.verdict = DECIDE_ANSWER;
	strlcpy(dec.entry, "default", sizeof(dec.entry));
	for (i = 0; i < RATELIMIT_BURST; i++) {
		mac[5] = (uint8_t)i;
		snprintf(line, sizeof(line), "m%u: answered", i);
		decision_log(d, mac, &dec, line, 1000, &dl);
		ck_assert_int_eq(dl.level, LOG_LEVEL_INFO);
		ck_assert_str_eq(dl.note, "");
	}
	for (; i < RATELIMIT_BURST + 5; i++) {
		mac[5] = (uint8_t)i;
		snprintf(line, sizeof(line), "m%u: answered", i);
		decision_log(d, mac, &dec, line, 1000, &dl);
		ck_assert_int_eq(dl.level, LOG_LEVEL_DEBUG);
		ck_assert_str_eq(dl.note, " (held back)");
	}
	/* Its own entry: INFO in the middle of the flood. */
	strlcpy(dec.entry, "abcd1234", sizeof(dec.entry));
	decision_log(d, test_mac, &dec, "own: answered", 1000, &dl);
	ck_assert_int_eq(dl.level, LOG_LEVEL_INFO);
	ck_assert_str_eq(dl.note, "");
	/* A broken default is every MAC's: its warning waits too. */
	memset(&dec, 0, sizeof(dec));
	dec.verdict = DECIDE_BROKEN;
	strlcpy(dec.entry, "default", sizeof(dec.entry));
	mac[5] = 0xf0;
	decision_log(d, mac, &dec, "x: not answered", 1000, &dl);
	ck_assert_int_eq(dl.level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(dl.note, " (held back)");
	/* A minute on, the next line says how many were held back. */
	mac[5] = 0xf1;
	decision_log(d, mac, &dec, "y: not answered", 61000, &dl);
	ck_assert_int_eq(dl.level, LOG_LEVEL_WARN);
	snprintf(note, sizeof(note), " (%u similar lines held back)", 6);
	ck_assert_str_eq(dl.note, note);
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
	tcase_add_test(tc, reasons_table);
	tcase_add_test(tc, reply_carries);
	tcase_add_test(tc, log_levels);
	tcase_add_test(tc, log_flood_held_back);
	tcase_add_test(tc, bootfile_flags);
	tcase_add_test(tc, bootfile_by_arch);
	tcase_add_test(tc, where_replies_go);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(decide_suite)
