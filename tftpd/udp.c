/* Socket helpers for tftpd's I/O layer: addresses, the local address a
 * request arrived at, a transfer's socket, a lone datagram. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tftpd/server.h"

int
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b,
    socklen_t blen)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return blen >= sizeof(*y) && x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return blen >= sizeof(*y) && x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

/* A new UDP socket bound to local (port 0: an ephemeral one). reuse lets
 * a second socket share the port. */
int
transfer_socket(const struct sockaddr_storage *local, socklen_t llen,
    const char *peer, int reuse)
{
	int fd, on = 1;

	fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_err("socket for %s: %s", peer, strerror(errno));
		return -1;
	}
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1) {
		log_err("SO_REUSEADDR for %s: %s", peer, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)local, llen) == -1) {
		log_err("bind for %s: %s", peer, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
send_one(int fd, const struct sockaddr *to, socklen_t tolen,
    const void *buf, size_t len, const char *peer)
{
	if (sendto(fd, buf, len, 0, to, tolen) == -1)
		log_debug("send to %s: %s", peer, strerror(errno));
}
