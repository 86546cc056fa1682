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
#include <stdint.h>

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
/* How long a host outside -A has to read why (or -T, if shorter). */
#define TURNAWAY_MS		5000
/* Connections taken from one listening socket per wakeup of the loop, so
 * that the signal and finished workers get a turn: after a power cut a
 * whole rack connects at once. */
#define ADM_ACCEPTS_PER_WAKEUP	64
/* The longest refusal line adm_refusal_str writes, with its NUL. */
#define ADM_REFUSAL_LEN		(NETADDR_STR_LEN + 128)

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

/* Why a connection was refused for one of the limits (ADM_FULL,
 * ADM_HOST_FULL, ADM_HANDSHAKES_FULL, ADM_HOST_HANDSHAKES_FULL), for the
 * log line "PEER: refused: WHY": the count and the limit, and the host
 * as it was counted (an IPv6 /64 by its network, else "this host").
 * host is adm_host_key's. 1 with out written, or 0 and out empty for
 * another verdict. */
int adm_refusal_str(const struct adm_decision *d, const struct netaddr *host,
    char *out, size_t outlen);

/* When a host outside -A, told why from now_ms, is closed: after
 * TURNAWAY_MS, or the handshake timeout (-T, timeout_s) if sooner. */
int64_t adm_turnaway_deadline(int64_t now_ms, long long timeout_s);

/* Whether nbdd under inetd (-i), whose one connection is served or being
 * told why, is done: no worker and no host being told why left. */
int adm_inetd_done(int nworkers, int nturnaways);

/* The poll timeout for two waits in ms, each -1 for none: the sooner,
 * -1 when neither, at most INT_MAX. */
int adm_poll_timeout(int64_t a_ms, int64_t b_ms);

enum adm_accept_error {
	ADM_ACCEPT_QUIET,	/* nothing waiting, or the client gone first:
				 * back to the loop without a word */
	ADM_ACCEPT_LOG,		/* out of descriptors or memory, and the
				 * like: clients can cause it, so logged
				 * rate-limited; poll wakes the loop again */
};

/* What a failed accept's errno (err) calls for. */
enum adm_accept_error adm_accept_error(int err);

#endif
