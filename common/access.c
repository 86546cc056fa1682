#include <sys/socket.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/access.h"
#include "common/log.h"

void
access_init(struct access *a, const struct allowlist *list)
{
	memset(a, 0, sizeof(*a));
	a->list = *list;
}

/* The prefix length of a netmask. A mask with holes (never configured on
 * Linux) counts its leading ones. */
static uint8_t
mask_bits(const uint8_t *mask, unsigned bytes)
{
	uint8_t bits = 0;

	for (unsigned i = 0; i < bytes; i++) {
		for (int b = 7; b >= 0; b--) {
			if (!(mask[i] & (1u << b)))
				return bits;
			bits++;
		}
	}
	return bits;
}

int
interface_networks(struct netaddr *out, size_t max)
{
	struct ifaddrs *ifs, *i;
	size_t n = 0;

	if (getifaddrs(&ifs) == -1)
		return -1;
	for (i = ifs; i != NULL && n < max; i = i->ifa_next) {
		struct netaddr net;
		unsigned bytes;
		const uint8_t *mask;

		if (i->ifa_addr == NULL || i->ifa_netmask == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			bytes = 4;
			mask = (const uint8_t *)&((const struct sockaddr_in *)
			    (const void *)i->ifa_netmask)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			bytes = 16;
			mask = ((const struct sockaddr_in6 *)
			    (const void *)i->ifa_netmask)->sin6_addr.s6_addr;
		} else
			continue;
		if (netaddr_from_sockaddr(i->ifa_addr,
		    bytes == 4 ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6), &net) == -1)
			continue;
		net.prefix = mask_bits(mask, bytes);
		/* Store the network, not the host: clear the host bits. */
		for (unsigned b = 0; b < bytes; b++) {
			unsigned keep = net.prefix > 8 * b ?
			    net.prefix - 8 * b : 0;
			net.addr[b] &= keep >= 8 ? 0xff :
			    (uint8_t)(0xff00 >> keep);
		}
		out[n++] = net;
	}
	freeifaddrs(ifs);
	return (int)n;
}

void
access_describe(const struct allowlist *al, char *out, size_t outlen)
{
	char a[NETADDR_STR_LEN];
	size_t len;

	out[0] = '\0';
	if (!al->given) {
		strlcpy(out, "by default loopback and this server's own "
		    "networks", outlen);
		return;
	}
	if (al->local)
		strlcpy(out, ALLOW_LOCAL, outlen);
	for (size_t i = 0; i < al->n; i++) {
		netaddr_str(&al->nets[i], a);
		len = strlen(out);
		if (len + 2 + strlen(a) + 4 >= outlen) {
			strlcat(out, ", ...", outlen);
			break;
		}
		if (len > 0)
			strlcat(out, ", ", outlen);
		strlcat(out, a, outlen);
	}
}

/* The interfaces' networks, read again when they are old. */
static void
refresh_ifaces(struct access *a, uint64_t now_ms)
{
	uint32_t held;
	int n;

	if (a->ifaces_valid && now_ms - a->ifaces_read_ms < ACCESS_IFACES_MS)
		return;
	if ((n = interface_networks(a->ifaces, ACCESS_IFACES_MAX)) == -1) {
		/* Keep what we knew; say so once in a while. */
		if (ratelimit_take(&a->log_limit, now_ms, &held))
			log_warn("reading the interfaces' networks: %s",
			    strerror(errno));
	} else {
		a->nifaces = (size_t)n;
		a->ifaces_valid = 1;
	}
	a->ifaces_read_ms = now_ms;
}

const struct netaddr *
access_local_networks(struct access *a, uint64_t now_ms, size_t *n)
{
	refresh_ifaces(a, now_ms);
	*n = a->nifaces;
	return a->ifaces;
}

int
access_check(struct access *a, const struct sockaddr *peer, socklen_t plen,
    const char *peer_str, const char *what, uint64_t now_ms)
{
	struct netaddr host;
	char hint[NETADDR_STR_LEN + 24], list[160];
	uint32_t held;

	if (netaddr_from_sockaddr(peer, plen, &host) == -1)
		return 0;
	if (a->list.local)
		refresh_ifaces(a, now_ms);
	if (allow_match(&a->list, &host, a->ifaces, a->nifaces))
		return 1;
	if (ratelimit_take(&a->log_limit, now_ms, &held)) {
		allow_hint(&a->list, &host, hint, sizeof(hint));
		access_describe(&a->list, list, sizeof(list));
		if (held > 0)
			log_warn("%s: %s refused: not in the allowed networks "
			    "(%s); %s would allow it (%u similar lines held "
			    "back)", peer_str, what, list, hint, held);
		else
			log_warn("%s: %s refused: not in the allowed networks "
			    "(%s); %s would allow it", peer_str, what, list,
			    hint);
	}
	return 0;
}
