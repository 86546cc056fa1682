#include <string.h>
#include <sys/socket.h>

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
