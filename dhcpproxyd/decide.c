/* Whom dhcpproxyd answers, with what, and how often. */
#include <arpa/inet.h>
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

/* Not answered, and only worth a debug line. */
static void
ignore(struct decision *out, enum decide_reason reason)
{
	out->verdict = DECIDE_IGNORE;
	out->reason = reason;
	out->quiet = 1;
}

/* Whether this port answers the message type: 1 with the reply type
 * set, 0 with the reason it is ignored. */
static int
type_answered(const struct decide_input *in, struct decision *out)
{
	const struct dhcp_msg *m = in->m;
	const uint8_t *sid;
	size_t len;

	if (in->discovery_port) {
		/* PXE boot server discovery: the client asks the proxy. */
		if (m->msg_type == DHCPREQUEST || m->msg_type == DHCPINFORM) {
			out->reply_type = DHCPACK;
			return 1;
		}
	} else if (m->msg_type == DHCPDISCOVER) {
		out->reply_type = DHCPOFFER;
		return 1;
	} else if (m->msg_type == DHCPREQUEST) {
		/* Only a client that picked our offer: a REQUEST naming the
		 * LAN's DHCP server is between it and that server. */
		sid = dhcp_opt(m, OPT_SERVER_ID, &len);
		if (sid != NULL && len == 4 &&
		    memcmp(sid, &in->server_id, 4) == 0) {
			out->reply_type = DHCPACK;
			return 1;
		}
		ignore(out, DECIDE_OTHER_SERVER);
		return 0;
	}
	ignore(out, DECIDE_WRONG_PORT);
	return 0;
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
 * "default", tried in that order (bootpick.h). DECIDE_ANSWERED when
 * known, DECIDE_NO_ENTRY when not, DECIDE_ENTRY_BROKEN when the entry
 * that decides is broken: the client is then not answered at all, for
 * what it would boot is not what its entry says. */
static enum decide_reason
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
			return DECIDE_ANSWERED;
		case BOOT_ENTRY_BROKEN:
			strlcpy(out->entry, names[picked], sizeof(out->entry));
			strlcpy(out->entry_why, l.why, sizeof(out->entry_why));
			return DECIDE_ENTRY_BROKEN;
		case BOOT_ENTRY_NONE:
			break;
		}
	}
	out->no_entry = 1;
	return DECIDE_NO_ENTRY;
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
		ignore(out, DECIDE_NOT_REQUEST);
		return;
	}
	if (!type_answered(in, out))
		return;
	if (!dhcp_is_pxe(m)) {
		ignore(out, DECIDE_NOT_PXE);
		return;
	}
	s = client_slot(d, m->chaddr, in->now_ms);
	if (!rate_ok(s, in->now_ms)) {
		out->verdict = DECIDE_RATE_LIMITED;
		out->reason = DECIDE_TOO_OFTEN;
		return;
	}
	/* Looked up with -a too: the entry names iPXE's script. A broken
	 * one is not answered even with -a: the machine would boot what its
	 * entry does not say. */
	switch (known(c, m, out)) {
	case DECIDE_ENTRY_BROKEN:
		out->verdict = DECIDE_BROKEN;
		out->reason = DECIDE_ENTRY_BROKEN;
		return;
	case DECIDE_NO_ENTRY:
		if (!c->answer_all) {
			out->verdict = DECIDE_IGNORE;
			out->reason = DECIDE_NO_ENTRY;
			return;
		}
		break;
	default:
		break;
	}
	out->reason = DECIDE_ANSWERED;
	out->verdict = DECIDE_ANSWER;
	out->bootfile = bootfile_for(c, m, out->entry, out->bootfile_buf);
	/* The server is its own boot server: the next server is the
	 * option 54 address the client will come back to. */
	out->reply.msg_type = out->reply_type;
	out->reply.server_id = in->server_id;
	out->reply.tftp_addr = in->server_id;
	out->reply.menu_text = c->menu_text;
	out->reply.send_opt66 = c->send_opt66;
	out->reply.bootfile = out->bootfile;
}

void
decision_line(const struct decide_input *in, const struct decision *d,
    char *buf, size_t len)
{
	char mac[MAC_NAME_LEN + 1], tftp[INET_ADDRSTRLEN];
	struct in_addr a;

	switch (d->reason) {
	case DECIDE_ANSWERED:
		a.s_addr = d->reply.tftp_addr;
		if (inet_ntop(AF_INET, &a, tftp, sizeof(tftp)) == NULL)
			strlcpy(tftp, "?", sizeof(tftp));
		snprintf(buf, len, "%s: answered, tftp %s%s%s", d->who, tftp,
		    d->bootfile ? ", boot file " : "",
		    d->bootfile ? d->bootfile : "");
		break;
	case DECIDE_NOT_REQUEST:
		snprintf(buf, len, "%s: ignored, not a request", d->who);
		break;
	case DECIDE_OTHER_SERVER:
		snprintf(buf, len, "%s: ignored, request for another server",
		    d->who);
		break;
	case DECIDE_WRONG_PORT:
		snprintf(buf, len, "%s: ignored, DHCP%s on port %s", d->who,
		    dhcp_msg_type_name(in->m->msg_type),
		    in->discovery_port ? "4011" : "67");
		break;
	case DECIDE_NOT_PXE:
		snprintf(buf, len, "%s: ignored, not a PXE client", d->who);
		break;
	case DECIDE_TOO_OFTEN:
		snprintf(buf, len, "%s: rate limited", d->who);
		break;
	case DECIDE_ENTRY_BROKEN:
		snprintf(buf, len, "%s: not answered, broken boot entry %s",
		    d->who, d->entry_why);
		break;
	case DECIDE_NO_ENTRY:
		mac_entry_name(in->m->chaddr, mac);
		if (d->serial[0] != '\0')
			snprintf(buf, len, "%s: ignored, no boot entry for %s "
			    "or %s", d->who, d->serial, mac);
		else
			snprintf(buf, len, "%s: ignored, no boot entry for %s",
			    d->who, mac);
		break;
	}
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

void
decision_log(struct decider *d, const uint8_t mac[6],
    const struct decision *dec, const char *line, uint64_t now_ms,
    struct decision_log *out)
{
	uint32_t held;

	out->level = LOG_LEVEL_DEBUG;
	out->note[0] = '\0';
	if (dec->quiet)
		return;
	if (!decider_log_once(d, mac, line, now_ms)) {
		strlcpy(out->note, " (again)", sizeof(out->note));
		return;
	}
	/* Only machines with an entry of their own are few. */
	if (dec->verdict == DECIDE_ANSWER && dec->entry[0] != '\0' &&
	    strcmp(dec->entry, BOOTPICK_DEFAULT) != 0) {
		out->level = LOG_LEVEL_INFO;
		return;
	}
	if (!ratelimit_take(&d->unowned_log, now_ms, &held)) {
		strlcpy(out->note, " (held back)", sizeof(out->note));
		return;
	}
	/* A broken default is every MAC's: its warning is limited too. */
	out->level = dec->verdict == DECIDE_BROKEN ? LOG_LEVEL_WARN :
	    LOG_LEVEL_INFO;
	if (held > 0)
		snprintf(out->note, sizeof(out->note),
		    " (%u similar lines held back)", held);
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
