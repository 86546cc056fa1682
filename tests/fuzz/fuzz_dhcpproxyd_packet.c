/* libFuzzer harness over dhcpproxyd's packet and decision layers. Every
 * input is parsed; an accepted request is answered with a reply built
 * both ways (OFFER with nothing optional, ACK with everything), and each
 * reply must parse back as a proxy reply: op BOOTREPLY, yiaddr 0, no
 * option 1, 3 or 51. The same bytes then go through arrival.c and
 * decide.c as dhcpproxyd takes them (the xid's first byte picks the
 * facts of the arrival, the boot directory and the flags): the lines
 * must fit, and an answer's own reply must be a proxy reply carrying
 * its server id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcpproxyd/arrival.h"
#include "dhcpproxyd/decide.h"
#include "dhcpproxyd/dhcp.h"

static void
check_reply(const struct dhcp_msg *req, const struct dhcp_reply_params *p,
    struct dhcp_msg *r)
{
	uint8_t out[DHCP_MAX_LEN];
	const uint8_t *v;
	size_t n, len;

	n = dhcp_build_reply(req, p, out, sizeof(out));
	if (n == 0 || n > sizeof(out))
		abort();
	if (dhcp_parse(out, n, r) != DHCP_OK || !dhcp_is_proxy_reply(r))
		abort();
	if (r->xid != req->xid || memcmp(r->chaddr, req->chaddr, 16) != 0 ||
	    r->msg_type != p->msg_type)
		abort();
	v = dhcp_opt(r, OPT_SERVER_ID, &len);
	if (v == NULL || len != 4 || memcmp(v, &p->server_id, 4) != 0)
		abort();
	if ((v = dhcp_opt(r, OPT_CLIENT_UUID, &len)) != NULL && len != 17)
		abort();
}

/* The boot directory, by the xid's first byte: every name has an
 * entry, every entry is broken, or none is there. */
static enum boot_entry_type
look_entry(void *ctx, const char *name, char *why, size_t whylen)
{
	const uint8_t *pick = ctx;

	(void)name;
	switch (*pick & 3) {
	case 0:
		return BOOT_ENTRY_DIR;
	case 1:
		strlcpy(why, "-> ../gone.img: No such file or directory",
		    whylen);
		return BOOT_ENTRY_BROKEN;
	default:
		return BOOT_ENTRY_NONE;
	}
}

static void
decide_all(const uint8_t *data, size_t size, struct dhcp_msg *m,
    struct dhcp_msg *r)
{
	static const char *const ifaces[] = { "eth0" };
	static struct decider dec;
	static const struct bootfile bf[] = {
		{ .arch = 7, .file = "ipxe.efi" },
		{ .arch = BOOTFILE_IPXE, .file = "boot.ipxe" },
	};
	uint8_t pick = size > DHCP_OFF_XID ? data[DHCP_OFF_XID] : 0;
	struct arrival_rules rules = { 0 };
	struct arrival a = { 0 };
	struct arrival_decision ad;
	struct decide_config c = { 0 };
	struct decide_input in = { 0 };
	struct decision d;
	struct decision_log dl;
	char line[DECISION_LINE_LEN];

	rules.ifaces = ifaces;
	rules.nifaces = pick & 4 ? 1 : 0;
	rules.tftp_addr = pick & 8 ? 0x0900000a : 0;
	a.from_ipv4 = 1;
	a.from = 0x3200a8c0;
	a.ifindex = pick & 16 ? 0 : 2;
	a.ifname = pick & 32 ? "wlan0" : "eth0";
	a.local = pick & 64 ? 0 : 0x0400a8c0;
	a.bytes = data;
	a.len = size;
	arrival_decide(&rules, &a, m, &ad);
	arrival_line(&a, &ad, m, line, sizeof(line));
	if (strlen(line) >= sizeof(line) - 1)
		abort();
	if (ad.verdict != ARRIVAL_SERVE)
		return;
	if (ad.server_id == 0)
		abort();
	c.look_entry = look_entry;
	c.entries = &pick;
	c.answer_all = pick & 128 ? 1 : 0;
	c.bootfiles = bf;
	c.nbootfiles = pick & 2 ? 2 : 0;
	c.send_opt66 = pick & 1;
	in.m = m;
	in.discovery_port = pick & 8 ? 1 : 0;
	in.server_id = ad.server_id;
	in.now_ms = pick;
	decide(&dec, &c, &in, &d);
	decision_line(&in, &d, line, sizeof(line));
	decision_log(&dec, m->chaddr, &d, line, in.now_ms, &dl);
	if ((d.verdict == DECIDE_ANSWER) != (d.reason == DECIDE_ANSWERED))
		abort();
	if (d.verdict == DECIDE_ANSWER) {
		if (d.reply.server_id != ad.server_id ||
		    d.reply.tftp_addr != ad.server_id)
			abort();
		check_reply(m, &d.reply, r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_msg m, r;
	struct dhcp_reply_params p;

	if (dhcp_parse(data, size, &m) == DHCP_OK) {
		(void)dhcp_is_pxe(&m);
		(void)dhcp_is_ipxe(&m);
		(void)dhcp_client_arch(&m);
		(void)dhcp_msg_type_name(m.msg_type);
		memset(&p, 0, sizeof(p));
		p.msg_type = DHCPOFFER;
		p.server_id = 0x0400a8c0;
		p.tftp_addr = 0x0400a8c0;
		check_reply(&m, &p, &r);
		p.msg_type = DHCPACK;
		p.send_opt66 = 1;
		p.menu_text = "Raspberry Pi Boot   ";
		p.bootfile = "ipxe.efi";
		check_reply(&m, &p, &r);
	}
	decide_all(data, size, &m, &r);
	return 0;
}
