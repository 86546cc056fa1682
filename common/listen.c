#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrstr.h"
#include "bindhint.h"
#include "listen.h"
#include "log.h"

int
socket_want_pktinfo(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int on = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET6) {
		/* A dual-stack socket reports IPv4 arrivals as mapped
		 * addresses through the IPv6 option; set both anyway. */
		(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on));
	}
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

/* Binds fd, saying what to do when it cannot be. A shared UDP port is
 * first bound alone, so that the log can say when another program holds
 * it too; either way another that allows sharing may bind it after us. */
static int
bind_shared(int fd, const struct addrinfo *ai, int socktype, int flags,
    const char *host, uint16_t port)
{
	int shared = (flags & LISTEN_SHARED) && socktype == SOCK_DGRAM;
	int on = 1, e;
	char hint[400];

	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1) {
			log_err("sharing %s port %u: %s", host, port,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	e = errno;
	if (shared && e == EADDRINUSE) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1) {
			log_err("sharing %s port %u: %s", host, port,
			    strerror(errno));
			return -1;
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			bind_shared_note(socktype, port, hint, sizeof(hint));
			log_info("%s port %u: %s", host, port, hint);
			return 0;
		}
		e = errno;
	}
	bind_hint(e, socktype, port, shared ? BIND_HINT_SHARED : 0, hint,
	    sizeof(hint));
	log_err("bind %s port %u: %s%s%s", host, port, strerror(e),
	    hint[0] ? ": " : "", hint);
	return -1;
}

static int
listen_any(int socktype, const char *addr, uint16_t port, int flags,
    int *fds, int max)
{
	struct addrinfo hints, *res, *ai;
	char portstr[8];
	int n = 0, err, on = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = (flags & LISTEN_IPV4_ONLY) ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((err = getaddrinfo(addr, portstr, &hints, &res)) != 0) {
		log_err("listen address %s: %s", addr ? addr : "(all)",
		    gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		char host[INET6_ADDRSTRLEN] = "?";
		int fd;

		getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host),
		    NULL, 0, NI_NUMERICHOST);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1) {
			/* A host without IPv6 still serves IPv4. */
			if (ai->ai_family == AF_INET6 && addr == NULL &&
			    (errno == EAFNOSUPPORT))
				continue;
			log_err("socket for %s port %u: %s", host, port,
			    strerror(errno));
			goto fail;
		}
		/* Only TCP: on UDP it would let a second daemon share
		 * the port and steal requests. */
		if (socktype == SOCK_STREAM)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
			    sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind_shared(fd, ai, socktype, flags, host, port) == -1) {
			close(fd);
			goto fail;
		}
		/* The kernel caps SOMAXCONN at net.core.somaxconn: a rack
		 * that powers on together fits in the queue. */
		if (socktype == SOCK_STREAM && listen(fd, SOMAXCONN) == -1) {
			log_err("listen %s port %u: %s", host, port,
			    strerror(errno));
			close(fd);
			goto fail;
		}
		if ((flags & LISTEN_PKTINFO) && socket_want_pktinfo(fd) == -1) {
			log_err("packet info on %s port %u: %s", host, port,
			    strerror(errno));
			close(fd);
			goto fail;
		}
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	if (n == 0)
		log_err("no address to listen on for port %u", port);
	return n > 0 ? n : -1;
fail:
	freeaddrinfo(res);
	while (n > 0)
		close(fds[--n]);
	return -1;
}

int
listen_udp(const char *addr, uint16_t port, int flags, int *fds, int max)
{
	return listen_any(SOCK_DGRAM, addr, port, flags, fds, max);
}

int
listen_tcp(const char *addr, uint16_t port, int *fds, int max)
{
	return listen_any(SOCK_STREAM, addr, port, 0, fds, max);
}

void
listen_describe(const int *fds, int n, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char a[ADDR_STR_LEN];
		int w;

		if (getsockname(fds[i], (struct sockaddr *)&ss, &sl) == 0 &&
		    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
			addr_port_str((struct sockaddr *)&ss, sl, 0, a,
			    sizeof(a));
		else
			snprintf(a, sizeof(a), "fd %d", fds[i]);
		w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    a);
		if (w < 0)
			return;
		used += (size_t)w;
	}
}

int
listen_inherited(int inetd, int *fds, int max)
{
	const char *pid, *nfds, *errstr;
	long long n;

	if (inetd) {
		if (max < 1)
			return 0;
		fds[0] = 0;
		return 1;
	}
	pid = getenv("LISTEN_PID");
	nfds = getenv("LISTEN_FDS");
	if (pid == NULL || nfds == NULL)
		return 0;
	/* The variables are meant for the process systemd started, not for
	 * a child that inherited the environment. */
	if (strtonum(pid, 1, INT32_MAX, &errstr) != getpid() || errstr)
		return 0;
	n = strtonum(nfds, 0, max, &errstr);
	if (errstr != NULL) {
		log_err("LISTEN_FDS=%s: %s (at most %d)", nfds, errstr, max);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		fds[i] = 3 + i;
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1) {
			log_err("systemd socket fd %d: %s", fds[i],
			    strerror(errno));
			return -1;
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

void
datagram_local_addr(int lfd, struct msghdr *mh,
    struct sockaddr_storage *local, socklen_t *llen, int *ifindex)
{
	struct cmsghdr *c;

	if (ifindex != NULL)
		*ifindex = 0;
	*llen = sizeof(*local);
	memset(local, 0, sizeof(*local));
	if (getsockname(lfd, (struct sockaddr *)local, llen) == -1)
		*llen = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (local->ss_family == AF_INET && c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *sin = (struct sockaddr_in *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* spec_dst: our address, even for a broadcast. */
			sin->sin_addr = pi.ipi_spec_dst;
			if (ifindex != NULL)
				*ifindex = pi.ipi_ifindex;
		} else if (local->ss_family == AF_INET6 &&
		    c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			/* IPv4 on a dual-stack socket: the mapped form. */
			struct in_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(&sin6->sin6_addr, 0, sizeof(sin6->sin6_addr));
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6->sin6_addr.s6_addr[12], &pi.ipi_spec_dst, 4);
			sin6->sin6_scope_id = 0;
			if (ifindex != NULL)
				*ifindex = pi.ipi_ifindex;
		} else if (local->ss_family == AF_INET6 &&
		    c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin6->sin6_addr = pi.ipi6_addr;
			sin6->sin6_scope_id =
			    IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ?
			    (uint32_t)pi.ipi6_ifindex : 0;
			if (ifindex != NULL)
				*ifindex = (int)pi.ipi6_ifindex;
		}
	}
	if (local->ss_family == AF_INET)
		((struct sockaddr_in *)local)->sin_port = 0;
	else if (local->ss_family == AF_INET6)
		((struct sockaddr_in6 *)local)->sin6_port = 0;
}
