/* layer: pure */
/* Which datagrams dhcpproxyd looks at: the -I filter, the drops before
 * and after parsing, and the address it answers from (option 54 and the
 * next server). Facts about the datagram in, a verdict and its log
 * level out; the socket calls that found the facts are main.c's. */
#ifndef DHCPPROXYD_ARRIVAL_H
#define DHCPPROXYD_ARRIVAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/loglevel.h"
#include "dhcp.h"

struct arrival_rules {
	const char *const *ifaces;	/* -I: the interfaces served */
	size_t nifaces;			/* 0: every interface */
	uint32_t tftp_addr;		/* -t, network order; 0 unset */
};

/* One datagram as recvmsg and IP_PKTINFO saw it. */
struct arrival {
	int from_ipv4;			/* the source is an IPv4 address */
	uint32_t from;			/* that address, network order */
	int ifindex;			/* the arrival interface, 0 unknown */
	const char *ifname;		/* its name, "?" when unknown */
	uint32_t local;			/* our address it came to, 0 unknown */
	int truncated;			/* longer than the buffer */
	const uint8_t *bytes;
	size_t len;
};

/* In the order they are checked: a datagram from another interface is
 * not parsed at all. */
enum arrival_verdict {
	ARRIVAL_SERVE = 0,		/* parsed: decide.h says the rest */
	ARRIVAL_NOT_IPV4,
	ARRIVAL_OTHER_INTERFACE,	/* not one of -I */
	ARRIVAL_TOO_LONG,
	ARRIVAL_UNPARSED,		/* dhcp_parse refused it */
	/* Under inetd, the datagram that started us was queued before
	 * IP_PKTINFO was on; the client will retry. */
	ARRIVAL_NO_INTERFACE,
	ARRIVAL_NO_LOCAL_ADDR,		/* nothing to answer from, no -t */
};

struct arrival_decision {
	enum arrival_verdict verdict;
	enum log_level level;		/* of the verdict's line */
	enum dhcp_parse_result parsed;	/* ARRIVAL_UNPARSED: why */
	/* ARRIVAL_SERVE: option 54 and the next server (siaddr) of the
	 * reply: -t, else our address on the arrival interface. */
	uint32_t server_id;
};

/* Whether interface name is one dhcpproxyd serves. */
int arrival_iface_served(const struct arrival_rules *r, const char *name);

/* The verdict on a; parses a->bytes into *m once the checks before
 * parsing pass (m holds the request when the verdict is ARRIVAL_SERVE). */
void arrival_decide(const struct arrival_rules *r, const struct arrival *a,
    struct dhcp_msg *m, struct arrival_decision *out);

/* The verdict's log line into buf (len bytes): the source, the
 * interface, and what became of the datagram; m is the parsed request
 * for ARRIVAL_SERVE. */
void arrival_line(const struct arrival *a, const struct arrival_decision *d,
    const struct dhcp_msg *m, char *buf, size_t len);

#endif
