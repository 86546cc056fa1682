#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"

void
allow_init(struct allowlist *al)
{
	memset(al, 0, sizeof(*al));
	al->local = 1;
}

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
parse_addr(const char *s, struct netaddr *out)
{
	uint8_t buf[16];

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, buf) == 1) {
		out->family = AF_INET;
		memcpy(out->addr, buf, 4);
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		if (memcmp(buf, v4mapped_prefix, 12) == 0) {
			out->family = AF_INET;
			memcpy(out->addr, buf + 12, 4);
			out->prefix = 32;
			return 0;
		}
		out->family = AF_INET6;
		memcpy(out->addr, buf, 16);
		out->prefix = 128;
		return 0;
	}
	return -1;
}

/* Whether bits beyond the prefix are all zero. */
static int
host_bits_clear(const struct netaddr *n)
{
	unsigned bytes = n->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = n->prefix > 8 * i ? n->prefix - 8 * i : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);

		if (n->addr[i] & (uint8_t)~mask)
			return 0;
	}
	return 1;
}

const char *
allow_add(struct allowlist *al, const char *arg)
{
	char addr[64];
	const char *slash, *errstr;
	struct netaddr n;
	long long prefix;

	if (!al->given) {
		al->given = 1;
		al->local = 0;
		al->n = 0;
	}
	if (strcmp(arg, ALLOW_LOCAL) == 0) {
		al->local = 1;
		return NULL;
	}
	if (al->n == ALLOW_MAX)
		return "too many networks";
	slash = strchr(arg, '/');
	if ((slash ? (size_t)(slash - arg) : strlen(arg)) >= sizeof(addr))
		return "not an IPv4 or IPv6 network";
	strlcpy(addr, arg, slash ? (size_t)(slash - arg) + 1 : sizeof(addr));
	if (parse_addr(addr, &n) == -1)
		return "not \"local\", an IPv4 or IPv6 address, or "
		    "ADDRESS/PREFIX";
	if (slash != NULL) {
		int v6 = strchr(addr, ':') != NULL;

		prefix = strtonum(slash + 1, 0, v6 ? 128 : 32, &errstr);
		if (errstr != NULL)
			return v6 ? "prefix length not 0-128" :
			    "prefix length not 0-32";
		/* "::ffff:10.0.0.0/104" is the IPv4 network 10.0.0.0/8. */
		if (n.family == AF_INET && v6) {
			if (prefix < 96)
				return "an IPv4-mapped network needs a prefix "
				    "of at least 96";
			prefix -= 96;
		}
		n.prefix = (uint8_t)prefix;
		if (!host_bits_clear(&n))
			return "host bits set after the prefix (write the "
			    "network's first address)";
	}
	al->nets[al->n++] = n;
	return NULL;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
    struct netaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)sa;

		out->family = AF_INET;
		memcpy(out->addr, &sin->sin_addr, 4);
		out->prefix = 32;
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (memcmp(&s6->sin6_addr, v4mapped_prefix, 12) == 0) {
			out->family = AF_INET;
			memcpy(out->addr, s6->sin6_addr.s6_addr + 12, 4);
			out->prefix = 32;
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, &s6->sin6_addr, 16);
			out->prefix = 128;
		}
		return 0;
	}
	return -1;
}

int
netaddr_contains(const struct netaddr *net, const struct netaddr *host)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family != host->family)
		return 0;
	if (memcmp(net->addr, host->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return (net->addr[full] & mask) == (host->addr[full] & mask);
}

void
netaddr_str(const struct netaddr *n, char out[NETADDR_STR_LEN])
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(n->family, n->addr, a, sizeof(a)) == NULL)
		strlcpy(a, "?", sizeof(a));
	if (n->prefix == (n->family == AF_INET ? 32 : 128))
		snprintf(out, NETADDR_STR_LEN, "%s", a);
	else
		snprintf(out, NETADDR_STR_LEN, "%s/%u", a, n->prefix);
}

int
allow_match(const struct allowlist *al, const struct netaddr *host,
    const struct netaddr *local, size_t nlocal)
{
	for (size_t i = 0; i < al->n; i++)
		if (netaddr_contains(&al->nets[i], host))
			return 1;
	if (al->local)
		for (size_t i = 0; i < nlocal; i++)
			if (netaddr_contains(&local[i], host))
				return 1;
	return 0;
}

void
allow_hint(const struct allowlist *al, const struct netaddr *host,
    char *out, size_t outlen)
{
	char a[NETADDR_STR_LEN];

	netaddr_str(host, a);
	snprintf(out, outlen, "%s-A %s", al->given ? "" : "-A " ALLOW_LOCAL " ",
	    a);
}
