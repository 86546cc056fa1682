#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "nbdd/admission.h"

void
adm_limits_init(struct adm_limits *l, long long max_conn, long long per_host)
{
	l->max_conn = max_conn;
	l->per_host = per_host;
	l->handshakes = max_conn / 2 > 0 ? max_conn / 2 : 1;
	l->host_handshakes = per_host / 4 > ADM_HOST_HANDSHAKES ?
	    per_host / 4 : ADM_HOST_HANDSHAKES;
	l->refusing = ADM_REFUSING_MAX;
	l->host_refusing = ADM_HOST_REFUSING;
}

static void
verdict(struct adm_decision *d, enum adm_verdict v, long long count,
    long long limit)
{
	d->verdict = v;
	d->count = count;
	d->limit = limit;
}

void
adm_decide(const struct adm_limits *l, int allowed,
    const struct adm_counts *c, struct adm_decision *d)
{
	verdict(d, ADM_SERVE, 0, 0);
	if (!allowed) {
		if (c->refusing >= l->refusing)
			verdict(d, ADM_DROP_REFUSED, c->refusing, l->refusing);
		else if (c->host_refusing >= l->host_refusing)
			verdict(d, ADM_DROP_REFUSED, c->host_refusing,
			    l->host_refusing);
		else
			verdict(d, ADM_TELL, 0, 0);
		return;
	}
	/* The host's own limits first: the line then names what this host
	 * did, not what the others did. */
	if (c->host_conns >= l->per_host)
		verdict(d, ADM_HOST_FULL, c->host_conns, l->per_host);
	else if (c->host_handshakes >= l->host_handshakes)
		verdict(d, ADM_HOST_HANDSHAKES_FULL, c->host_handshakes,
		    l->host_handshakes);
	else if (c->conns >= l->max_conn)
		verdict(d, ADM_FULL, c->conns, l->max_conn);
	else if (c->handshakes >= l->handshakes)
		verdict(d, ADM_HANDSHAKES_FULL, c->handshakes, l->handshakes);
}

/* Clears the bits of n past its prefix. */
static void
clear_host_bits(struct netaddr *n)
{
	unsigned bytes = n->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = n->prefix > 8 * i ? n->prefix - 8 * i : 0;

		n->addr[i] &= keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);
	}
}

void
adm_host_key(const struct netaddr *addr, const struct netaddr *local,
    size_t nlocal, struct netaddr *key)
{
	*key = *addr;
	key->prefix = addr->family == AF_INET ? 32 : 128;
	if (addr->family != AF_INET6)
		return;
	for (size_t i = 0; i < nlocal; i++)
		if (netaddr_contains(&local[i], key))
			return;
	key->prefix = ADM_V6_HOST_PREFIX;
	clear_host_bits(key);
}

int
adm_same_host(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	    netaddr_contains(a, b);
}

int
adm_refusal_str(const struct adm_decision *d, const struct netaddr *host,
    char *out, size_t outlen)
{
	char net[NETADDR_STR_LEN], who[NETADDR_STR_LEN + 8];
	const char *plural = d->count == 1 ? "" : "s";

	/* An IPv6 host counted by its /64 is named so. */
	if (host->family == AF_INET6 && host->prefix == ADM_V6_HOST_PREFIX) {
		netaddr_str(host, net);
		snprintf(who, sizeof(who), "from %s", net);
	} else
		strlcpy(who, "from this host", sizeof(who));
	switch (d->verdict) {
	case ADM_FULL:
		snprintf(out, outlen, "already %lld connection%s (-m %lld)",
		    d->count, plural, d->limit);
		return 1;
	case ADM_HOST_FULL:
		snprintf(out, outlen, "already %lld connection%s %s (-c "
		    "%lld)", d->count, plural, who, d->limit);
		return 1;
	case ADM_HANDSHAKES_FULL:
		snprintf(out, outlen, "already %lld connection%s in the "
		    "handshake (at most %lld: half of -m)", d->count, plural,
		    d->limit);
		return 1;
	case ADM_HOST_HANDSHAKES_FULL:
		snprintf(out, outlen, "already %lld connection%s %s in the "
		    "handshake (at most %lld)", d->count, plural, who,
		    d->limit);
		return 1;
	default:
		if (outlen > 0)
			*out = '\0';
		return 0;
	}
}

int64_t
adm_turnaway_deadline(int64_t now_ms, long long timeout_s)
{
	return now_ms + (timeout_s * 1000 < TURNAWAY_MS ? timeout_s * 1000 :
	    TURNAWAY_MS);
}

int
adm_inetd_done(int nworkers, int nturnaways)
{
	return nworkers == 0 && nturnaways == 0;
}

int
adm_poll_timeout(int64_t a_ms, int64_t b_ms)
{
	int64_t t;

	if (a_ms < 0)
		t = b_ms;
	else if (b_ms < 0)
		t = a_ms;
	else
		t = a_ms < b_ms ? a_ms : b_ms;
	if (t < 0)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

enum adm_accept_error
adm_accept_error(int err)
{
	switch (err) {
	case EAGAIN:
	case EINTR:
	case ECONNABORTED:
		return ADM_ACCEPT_QUIET;
	default:
		return ADM_ACCEPT_LOG;
	}
}
