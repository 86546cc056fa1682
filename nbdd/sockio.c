#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/addrstr.h"
#include "nbdd/sockio.h"

int
sock_tune(int fd)
{
	int on = 1, idle = 20, intvl = 10, cnt = 3;
	unsigned int user_timeout = 60 * 1000;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
	    sizeof(user_timeout)) == -1)
		return -1;
	return 0;
}

int
sock_wait(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left;
	int n;

	for (;;) {
		if (deadline_ms == SOCK_NO_DEADLINE)
			left = -1;
		else if ((left = deadline_ms - sock_now_ms()) < 0)
			left = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

ssize_t
sock_read_full(int fd, void *buf, size_t len, int64_t deadline_ms)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (deadline_ms != SOCK_NO_DEADLINE) {
			int w = sock_wait(fd, deadline_ms);
			if (w == 0)
				errno = ETIMEDOUT;
			if (w <= 0)
				return -1;
		}
		n = recv(fd, p + got, len - got, 0);
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = ECONNRESET;	/* gone part way */
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Whole reads for the middle of a message, where the stream ending is
 * the peer gone part way. */
static int
read_rest(int fd, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t n = sock_read_full(fd, buf, len, deadline_ms);

	if (n == 0 && len > 0)
		errno = ECONNRESET;
	return n == (ssize_t)len ? 0 : -1;
}

int
sock_discard(int fd, uint64_t len, int64_t deadline_ms)
{
	uint8_t junk[16384];

	while (len > 0) {
		size_t n = len < sizeof(junk) ? (size_t)len : sizeof(junk);
		if (read_rest(fd, junk, n, deadline_ms) == -1)
			return -1;
		len -= n;
	}
	return 0;
}

ssize_t
sock_drain(int fd, size_t max)
{
	uint8_t junk[4096];
	size_t got = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (ssize_t)got;
		if (n == -1)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
		if (got > max) {
			errno = EMSGSIZE;
			return -1;
		}
	}
}

ssize_t
sock_read_idle(int fd, void *buf, size_t len, int idle_ms)
{
	const size_t step = 256 * 1024;
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		size_t n = len - got < step ? len - got : step;
		ssize_t r = sock_read_full(fd, p + got, n,
		    sock_now_ms() + idle_ms);
		if (r == 0 && got == 0)
			return 0;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		got += n;
	}
	return (ssize_t)got;
}

int
sock_discard_idle(int fd, uint64_t len, int idle_ms)
{
	const uint64_t step = 256 * 1024;

	while (len > 0) {
		uint64_t n = len < step ? len : step;
		if (sock_discard(fd, n, sock_now_ms() + idle_ms) == -1)
			return -1;
		len -= n;
	}
	return 0;
}

int
sock_writev_full(int fd, struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr mh;
	ssize_t n;

	while (iovcnt > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
sock_write_full(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return sock_writev_full(fd, &iov, 1, flags);
}

void
sock_peer(int fd, char *host, size_t hostlen, char *peer, size_t peerlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(host, hostlen, "?");
		snprintf(peer, peerlen, "?:0");
		return;
	}
	addr_host_str((struct sockaddr *)&ss, sl, 1, host, hostlen);
	addr_port_str((struct sockaddr *)&ss, sl, 1, peer, peerlen);
}
