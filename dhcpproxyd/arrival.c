/* Which datagrams dhcpproxyd looks at, and the address it answers from. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "arrival.h"

int
arrival_iface_served(const struct arrival_rules *r, const char *name)
{
	if (r->nifaces == 0)
		return 1;
	for (size_t i = 0; i < r->nifaces; i++)
		if (strcmp(r->ifaces[i], name) == 0)
			return 1;
	return 0;
}

/* Each verdict's line: another interface's traffic and the requests
 * that go on to decide.c are per-packet detail (-vv); a drop is worth a
 * debug line, since a client that never gets an answer shows it. */
static const enum log_level verdict_level[] = {
	[ARRIVAL_SERVE] = LOG_LEVEL_TRACE,
	[ARRIVAL_NOT_IPV4] = LOG_LEVEL_DEBUG,
	[ARRIVAL_OTHER_INTERFACE] = LOG_LEVEL_TRACE,
	[ARRIVAL_TOO_LONG] = LOG_LEVEL_DEBUG,
	[ARRIVAL_UNPARSED] = LOG_LEVEL_DEBUG,
	[ARRIVAL_NO_INTERFACE] = LOG_LEVEL_DEBUG,
	[ARRIVAL_NO_LOCAL_ADDR] = LOG_LEVEL_DEBUG,
};

static enum arrival_verdict
judge(const struct arrival_rules *r, const struct arrival *a,
    struct dhcp_msg *m, struct arrival_decision *out)
{
	if (!a->from_ipv4)
		return ARRIVAL_NOT_IPV4;
	if (!arrival_iface_served(r, a->ifname))
		return ARRIVAL_OTHER_INTERFACE;
	if (a->truncated)
		return ARRIVAL_TOO_LONG;
	if ((out->parsed = dhcp_parse(a->bytes, a->len, m)) != DHCP_OK)
		return ARRIVAL_UNPARSED;
	if (a->ifindex == 0)
		return ARRIVAL_NO_INTERFACE;
	out->server_id = r->tftp_addr != 0 ? r->tftp_addr : a->local;
	if (out->server_id == 0)
		return ARRIVAL_NO_LOCAL_ADDR;
	return ARRIVAL_SERVE;
}

void
arrival_decide(const struct arrival_rules *r, const struct arrival *a,
    struct dhcp_msg *m, struct arrival_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = judge(r, a, m, out);
	out->level = verdict_level[out->verdict];
}

void
arrival_line(const struct arrival *a, const struct arrival_decision *d,
    const struct dhcp_msg *m, char *buf, size_t len)
{
	struct in_addr in = { .s_addr = a->from };
	char from[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &in, from, sizeof(from)) == NULL)
		strlcpy(from, "?", sizeof(from));
	switch (d->verdict) {
	case ARRIVAL_SERVE:
		snprintf(buf, len, "from %s on %s: DHCP%s, %zu bytes", from,
		    a->ifname, dhcp_msg_type_name(m->msg_type), a->len);
		break;
	case ARRIVAL_NOT_IPV4:
		snprintf(buf, len, "dropped a datagram that is not IPv4");
		break;
	case ARRIVAL_OTHER_INTERFACE:
		snprintf(buf, len, "from %s on %s: not an interface we serve",
		    from, a->ifname);
		break;
	case ARRIVAL_TOO_LONG:
		snprintf(buf, len, "from %s on %s: dropped, packet too long",
		    from, a->ifname);
		break;
	case ARRIVAL_UNPARSED:
		snprintf(buf, len, "from %s on %s: dropped, %s", from,
		    a->ifname, dhcp_parse_error(d->parsed));
		break;
	case ARRIVAL_NO_INTERFACE:
		snprintf(buf, len, "from %s: dropped, arrival interface "
		    "unknown", from);
		break;
	case ARRIVAL_NO_LOCAL_ADDR:
		snprintf(buf, len, "from %s on %s: dropped, no local address "
		    "to answer from", from, a->ifname);
		break;
	}
}
