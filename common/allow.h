/* layer: pure */
/* Which hosts a daemon serves: -A NETWORK, the same flag in tftpd and nbdd.
 * The parsing and matching here are pure; reading the server's own
 * interfaces for "local" is localnets.c. */
#ifndef COMMON_ALLOW_H
#define COMMON_ALLOW_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define ALLOW_MAX	64	/* -A flags on one command line */
#define ALLOW_LOCAL	"local"	/* loopback and directly attached networks */
/* An address as text with its prefix: "[v6]/128" fits. */
#define NETADDR_STR_LEN	(46 + 5)

/* An IPv4 or IPv6 network, or one host (prefix 32 or 128). IPv4-mapped
 * IPv6 addresses (a dual-stack socket's IPv4 peers) are stored as IPv4,
 * so one rule covers both spellings. */
struct netaddr {
	sa_family_t family;	/* AF_INET or AF_INET6 */
	uint8_t prefix;		/* bits that must match */
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 */
};

struct allowlist {
	struct netaddr nets[ALLOW_MAX];
	size_t n;
	int local;		/* "local" was given, or no -A at all */
	int given;		/* at least one -A */
};

/* No -A yet: serves the default, "local". */
void allow_init(struct allowlist *al);

/* Adds one -A argument: "local", an address (one host), or ADDR/PREFIX
 * with no host bits set. The first -A replaces the default. Returns NULL,
 * or the reason the argument is refused, for the command line's error. */
const char *allow_add(struct allowlist *al, const char *arg);

/* The peer's address as a host netaddr (prefix 32 or 128). Returns 0, or
 * -1 for a family other than IPv4 and IPv6. */
int netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
    struct netaddr *out);

/* Whether host lies inside net (both of the same family after mapping). */
int netaddr_contains(const struct netaddr *net, const struct netaddr *host);

/* "10.1.0.0/24", "fe80::/64"; a host as its bare address. */
void netaddr_str(const struct netaddr *n, char out[NETADDR_STR_LEN]);

/* Whether the list admits host. local lists the networks of the
 * server's interfaces (loopback among them), consulted only when the list
 * holds "local". */
int allow_match(const struct allowlist *al, const struct netaddr *host,
    const struct netaddr *local, size_t nlocal);

/* What a refused host would need, as flags to add: "-A 10.9.0.5", or
 * "-A local -A 10.9.0.5" while the list is the default (a first -A
 * replaces it). */
void allow_hint(const struct allowlist *al, const struct netaddr *host,
    char *out, size_t outlen);

#endif
