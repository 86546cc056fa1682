/* layer: pure */
/* Whether a new connection is served, and how its host is counted. Pure:
 * main.c counts what is open now and carries the verdict out.
 *
 * Three kinds of connection are bounded apart. A host outside the
 * allowed networks (-A) never gets a worker or a slot: the main loop
 * tells it why (turnaway.c), a few at a time. An allowed connection is
 * "in the handshake" until transmission starts: no client has proved
 * anything by then (no TLS identity, no export opened), so only part of
 * -m may be in it, and only a little of that from one host; a flood of
 * connections that never finish cannot take the slots of clients being
 * served, nor, from a few hosts, every handshake. */
#ifndef NBDD_ADMISSION_H
#define NBDD_ADMISSION_H

#include <stddef.h>

#include "common/allow.h"

/* One host's connections in the handshake at once, at the least: a
 * client opens its connections one after the other (nbd-client -C,
 * nbdcopy), so more than one at a time is a reconnect racing a slow
 * handshake. A -c raised for many clients behind one address (NAT) raises
 * it to a quarter of -c. */
#define ADM_HOST_HANDSHAKES	2
/* Hosts outside -A being told why, at once: in all, and from one. */
#define ADM_REFUSING_MAX	32
#define ADM_HOST_REFUSING	2
/* The prefix an IPv6 host is counted by, off the server's own networks. */
#define ADM_V6_HOST_PREFIX	64

struct adm_limits {
	long long max_conn;		/* -m */
	long long per_host;		/* -c */
	long long handshakes;		/* in the handshake at once */
	long long host_handshakes;	/* ... from one host */
	long long refusing;		/* outside -A, being told why */
	long long host_refusing;
};

/* What is open now, the newcomer not counted; host_* are its host's. */
struct adm_counts {
	long long conns;		/* served: handshake or transmission */
	long long handshakes;
	long long refusing;
	long long host_conns;
	long long host_handshakes;
	long long host_refusing;
};

enum adm_verdict {
	ADM_SERVE,		/* a worker, in the handshake */
	ADM_TELL,		/* outside -A: told why by the main loop,
				 * without a worker or a slot */
	ADM_DROP_REFUSED,	/* outside -A, while enough are being told:
				 * closed at once */
	ADM_FULL,		/* -m connections */
	ADM_HOST_FULL,		/* -c from this host */
	ADM_HANDSHAKES_FULL,	/* limits.handshakes in the handshake */
	ADM_HOST_HANDSHAKES_FULL,	/* ... from this host */
};

struct adm_decision {
	enum adm_verdict verdict;
	/* For a refusal's log line: how many there are, and the limit. */
	long long count;
	long long limit;
};

/* The limits for -m and -c: half of -m may be in the handshake (at least
 * one), a quarter of -c of them from one host (at least
 * ADM_HOST_HANDSHAKES). */
void adm_limits_init(struct adm_limits *l, long long max_conn,
    long long per_host);

/* allowed: the host is in the networks -A allows. */
void adm_decide(const struct adm_limits *l, int allowed,
    const struct adm_counts *c, struct adm_decision *d);

/* The host addr counts as, for -c and the bounds per host: an IPv4
 * address is a host; an IPv6 address counts by its /64, which one
 * machine may fill with addresses of its own choosing, unless it lies in
 * a network of the server's own interfaces (local, nlocal): there the
 * Pis of one LAN share a /64, and each counts by its address. */
void adm_host_key(const struct netaddr *addr, const struct netaddr *local,
    size_t nlocal, struct netaddr *key);

/* Whether two keys from adm_host_key are one host. */
int adm_same_host(const struct netaddr *a, const struct netaddr *b);

#endif
