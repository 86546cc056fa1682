/* layer: I/O */
/* Whether a connecting host is served (-A), decided when it connects: the
 * server's own interfaces are re-read when older than ACCESS_IFACES_MS, so
 * an interface that comes up or goes away is followed without a restart.
 * A refusal is logged, rate-limited, naming the host and the flag that
 * would admit it. Owned by one thread (the daemon's loop). */
#ifndef COMMON_ACCESS_H
#define COMMON_ACCESS_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "common/allow.h"
#include "common/ratelimit.h"

#define ACCESS_IFACES_MAX	256	/* addresses of the server's own */
#define ACCESS_IFACES_MS	1000

struct access {
	struct allowlist list;
	struct netaddr ifaces[ACCESS_IFACES_MAX];
	size_t nifaces;
	uint64_t ifaces_read_ms;
	int ifaces_valid;
	struct ratelimit log_limit;
};

/* list is what the command line built (allow_init, allow_add). */
void access_init(struct access *a, const struct allowlist *list);

/* 1 when peer is served, 0 when refused; a refusal logs one line,
 * rate-limited, that starts with peer_str and names the flag that would
 * admit it. what says what was refused ("request for pi/config.txt",
 * "NBD connection"). */
int access_check(struct access *a, const struct sockaddr *peer,
    socklen_t plen, const char *peer_str, const char *what,
    uint64_t now_ms);

/* The networks of the server's own interfaces (loopback among them), as
 * access_check reads them, read again when older than ACCESS_IFACES_MS,
 * whether or not the list holds "local": for decisions that depend on
 * whether a host is on one of them. *n is how many. */
const struct netaddr *access_local_networks(struct access *a,
    uint64_t now_ms, size_t *n);

/* Reads the networks of every interface address (loopback included) into
 * out: returns how many, or -1 with errno. */
int interface_networks(struct netaddr *out, size_t max);

/* The -A list as text for log lines and -h ("local, 10.9.0.0/16"). */
void access_describe(const struct allowlist *al, char *out, size_t outlen);

#endif
