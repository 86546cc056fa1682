/* Whom dhcpproxyd answers, with what, and how often. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/bootpick.h"
#include "common/numarg.h"
#include "decide.h"

void
decider_init(struct decider *d)
{
	memset(d, 0, sizeof(*d));
}

/* The client's slot, made when new; a full table forgets the client seen
 * longest ago, so memory stays bounded whatever the MACs. */
static struct client_slot *
client_slot(struct decider *d, const uint8_t mac[6], uint64_t now_ms)
{
	struct client_slot *s, *victim = NULL;

	for (size_t i = 0; i < DECIDE_CLIENTS; i++) {
		s = &d->clients[i];
		if (s->used && memcmp(s->mac, mac, 6) == 0)
			return s;
		if (!s->used) {
			if (victim == NULL || victim->used)
				victim = s;
		} else if (victim == NULL ||
		    (victim->used && s->last_ms < victim->last_ms))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	memcpy(victim->mac, mac, 6);
	victim->last_ms = now_ms;
	victim->tokens = RATE_BURST * 1000;
	return victim;
}

/* A token bucket: RATE_BURST at once, RATE_PER_SEC a second after. */
static int
rate_ok(struct client_slot *s, uint64_t now_ms)
{
	uint64_t t = s->tokens;

	if (now_ms > s->last_ms)
		t += (now_ms - s->last_ms) * RATE_PER_SEC;
	if (t > RATE_BURST * 1000)
		t = RATE_BURST * 1000;
	s->last_ms = now_ms;
	if (t < 1000) {
		s->tokens = (uint32_t)t;
		return 0;
	}
	s->tokens = (uint32_t)(t - 1000);
	return 1;
}

static void
ignore(struct decision *out, int quiet, const char *why)
{
	out->verdict = DECIDE_IGNORE;
	out->quiet = quiet;
	strlcpy(out->why, why, sizeof(out->why));
}

/* The message types answered on each port, and with what. */
static int
reply_type(const struct decide_input *in, struct decision *out)
{
	const struct dhcp_msg *m = in->m;
	const uint8_t *sid;
	size_t len;

	if (in->discovery_port) {
		/* PXE boot server discovery: the client asks the proxy. */
		if (m->msg_type == DHCPREQUEST || m->msg_type == DHCPINFORM) {
			out->reply_type = DHCPACK;
			return 0;
		}
	} else if (m->msg_type == DHCPDISCOVER) {
		out->reply_type = DHCPOFFER;
		return 0;
	} else if (m->msg_type == DHCPREQUEST) {
		/* Only a client that picked our offer: a REQUEST naming the
		 * LAN's DHCP server is between it and that server. */
		sid = dhcp_opt(m, OPT_SERVER_ID, &len);
		if (sid != NULL && len == 4 &&
		    memcmp(sid, &in->server_id, 4) == 0) {
			out->reply_type = DHCPACK;
			return 0;
		}
		ignore(out, 1, "ignored, request for another server");
		return -1;
	}
	snprintf(out->why, sizeof(out->why), "ignored, DHCP%s on port %s",
	    dhcp_msg_type_name(m->msg_type),
	    in->discovery_port ? "4011" : "67");
	out->verdict = DECIDE_IGNORE;
	out->quiet = 1;
	return -1;
}

/* bootpick's question, asked of the config's callback; the reason of a
 * broken entry is kept. */
struct look_ctx {
	const struct decide_config *c;
	char why[DECIDE_ENTRY_WHY_LEN];
};

static enum boot_entry_type
look(void *ctx, const char *name)
{
	struct look_ctx *l = ctx;

	return l->c->look_entry(l->c->entries, name, l->why, sizeof(l->why));
}

/* Known: the boot directory has an entry for its serial, its MAC or
 * "default", tried in that order (bootpick.h). 1 known, 0 not, -1 when
 * the entry that decides is broken: the client is then not answered at
 * all, for what it would boot is not what its entry says. */
static int
known(const struct decide_config *c, const struct dhcp_msg *m,
    struct decision *out)
{
	char mac[MAC_NAME_LEN + 1];
	const char *names[3];
	struct look_ctx l;
	size_t n = 0, picked;

	mac_entry_name(m->chaddr, mac);
	if (c->look_entry != NULL) {
		if (out->serial[0] != '\0')
			names[n++] = out->serial;
		names[n++] = mac;
		names[n++] = BOOTPICK_DEFAULT;
		l.c = c;
		l.why[0] = '\0';
		switch (bootpick(names, n, look, &l, &picked)) {
		case BOOT_ENTRY_DIR:
		case BOOT_ENTRY_FILE:
		case BOOT_ENTRY_RBD:	/* tftpd reads it through librbd */
			strlcpy(out->entry, names[picked], sizeof(out->entry));
			return 1;
		case BOOT_ENTRY_BROKEN:
			strlcpy(out->entry, names[picked], sizeof(out->entry));
			snprintf(out->why, sizeof(out->why), "not answered, "
			    "broken boot entry %s", l.why);
			return -1;
		case BOOT_ENTRY_NONE:
			break;
		}
	}
	out->no_entry = 1;
	if (out->serial[0] != '\0')
		snprintf(out->why, sizeof(out->why),
		    "ignored, no boot entry for %s or %s", out->serial, mac);
	else
		snprintf(out->why, sizeof(out->why),
		    "ignored, no boot entry for %s", mac);
	return 0;
}

void
decide(struct decider *d, const struct decide_config *c,
    const struct decide_input *in, struct decision *out)
{
	const struct dhcp_msg *m = in->m;
	struct pi_opt97 id;
	struct client_slot *s;
	char mac[MAC_NAME_LEN + 1];
	const uint8_t *v;
	size_t len;

	memset(out, 0, sizeof(*out));
	mac_colon(m->chaddr, mac);
	if ((v = dhcp_opt(m, OPT_CLIENT_UUID, &len)) != NULL &&
	    opt97_decode(v, len, &id) == 0)
		strlcpy(out->serial, id.serial_str, sizeof(out->serial));
	if (out->serial[0] != '\0')
		snprintf(out->who, sizeof(out->who), "%s %s", out->serial,
		    mac);
	else
		strlcpy(out->who, mac, sizeof(out->who));

	if (m->op != BOOTREQUEST || m->htype != HTYPE_ETHER ||
	    m->hlen != HLEN_ETHER) {
		ignore(out, 1, "ignored, not a request");
		return;
	}
	if (reply_type(in, out) == -1)
		return;
	if (!dhcp_is_pxe(m)) {
		ignore(out, 1, "ignored, not a PXE client");
		return;
	}
	s = client_slot(d, m->chaddr, in->now_ms);
	if (!rate_ok(s, in->now_ms)) {
		out->verdict = DECIDE_RATE_LIMITED;
		strlcpy(out->why, "rate limited", sizeof(out->why));
		return;
	}
	/* Looked up with -a too: the entry names iPXE's script. A broken
	 * one is not answered even with -a: the machine would boot what its
	 * entry does not say. */
	switch (known(c, m, out)) {
	case -1:
		out->verdict = DECIDE_BROKEN;
		return;
	case 0:
		if (!c->answer_all) {
			out->verdict = DECIDE_IGNORE;
			return;
		}
		break;
	}
	out->why[0] = '\0';
	out->verdict = DECIDE_ANSWER;
	out->bootfile = bootfile_for(c, m, out->entry, out->bootfile_buf);
}

/* FNV-1a: a cheap fingerprint of a log line. */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int
decider_log_once(struct decider *d, const uint8_t mac[6], const char *line,
    uint64_t now_ms)
{
	struct client_slot *s = NULL;
	uint32_t h = fnv1a(line);

	for (size_t i = 0; i < DECIDE_CLIENTS; i++)
		if (d->clients[i].used &&
		    memcmp(d->clients[i].mac, mac, 6) == 0)
			s = &d->clients[i];
	if (s == NULL) {
		/* Not a client we track (not PXE): no rate limit token
		 * is taken, but the line is remembered all the same. */
		s = client_slot(d, mac, now_ms);
	}
	for (size_t i = 0; i < DECIDE_LOGGED; i++)
		if (s->logged[i] == h && h != 0)
			return 0;
	s->logged[s->next_logged] = h;
	s->next_logged = (s->next_logged + 1) % DECIDE_LOGGED;
	return 1;
}

const char *
bootfile_parse(const char *arg, struct bootfile *out)
{
	const char *eq = strchr(arg, '='), *why;
	char arch[16];
	long long v;
	size_t alen;

	if (eq == NULL)
		return "not ARCH=FILE";
	alen = (size_t)(eq - arg);
	if (alen == 0 || alen >= sizeof(arch))
		return "bad architecture (a number 0-65535 or ipxe)";
	memcpy(arch, arg, alen);
	arch[alen] = '\0';
	if (strcasecmp(arch, "ipxe") == 0)
		out->arch = BOOTFILE_IPXE;
	else if ((why = cmdline_count(arch, 0, 65535, &v)) != NULL)
		return "bad architecture (a number 0-65535 or ipxe)";
	else
		out->arch = (int)v;
	if (eq[1] == '\0')
		return "empty file name";
	if (strlcpy(out->file, eq + 1, sizeof(out->file)) >= sizeof(out->file))
		return "file name longer than 127 bytes";
	return NULL;
}

const char *
bootfile_for(const struct decide_config *c, const struct dhcp_msg *m,
    const char *entry, char *buf)
{
	int arch = dhcp_is_ipxe(m) ? BOOTFILE_IPXE : dhcp_client_arch(m);
	size_t i;

	/* The last -b for an architecture wins, as flags usually do. */
	for (i = c->nbootfiles; i > 0; i--)
		if (c->bootfiles[i - 1].arch == arch)
			return c->bootfiles[i - 1].file;
	if (arch == BOOTFILE_IPXE && entry[0] != '\0') {
		snprintf(buf, DHCP_FILE_LEN, "%s/boot.ipxe", entry);
		return buf;
	}
	/* An iPXE with no script boots like its firmware. */
	if (arch == BOOTFILE_IPXE && (arch = dhcp_client_arch(m)) != -1)
		for (i = c->nbootfiles; i > 0; i--)
			if (c->bootfiles[i - 1].arch == arch)
				return c->bootfiles[i - 1].file;
	return NULL;
}

int
reply_destination(const struct dhcp_msg *m, int discovery,
    const struct sockaddr_in *from, uint16_t client_port,
    uint16_t relay_port, struct sockaddr_in *to)
{
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	/* A source of 0.0.0.0 cannot be answered directly: a client that
	 * asks port 4011 before it has an address falls through to the
	 * rules of port 67. */
	if (discovery && from->sin_addr.s_addr != 0) {
		*to = *from;
		return 0;
	}
	if (m->giaddr != 0) {
		to->sin_addr.s_addr = m->giaddr;
		to->sin_port = htons(relay_port);
		return 0;
	}
	to->sin_port = htons(client_port);
	if (m->ciaddr != 0) {
		to->sin_addr.s_addr = m->ciaddr;
		return 0;
	}
	to->sin_addr.s_addr = htonl(INADDR_BROADCAST);
	return 1;
}
