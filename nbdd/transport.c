#include <sys/sendfile.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nbdd/transport.h"

void
tp_init(struct transport *t, int fd)
{
	t->fd = fd;
	t->tls = NULL;
}

int
tp_starttls(struct transport *t, const struct tls_creds *cr,
    int64_t deadline_ms, char *why, size_t whylen)
{
	if (t->tls != NULL) {
		snprintf(why, whylen, "TLS is already on");
		errno = EPROTO;
		return -1;
	}
	if ((t->tls = tls_conn_new(cr, t->fd, why, whylen)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (tls_handshake(t->tls, deadline_ms, why, whylen) == -1) {
		int e = errno;

		tls_conn_free(t->tls);
		t->tls = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

int
tp_is_tls(const struct transport *t)
{
	return t->tls != NULL;
}

const char *
tp_identity(const struct transport *t)
{
	const char *name = NULL;

	if (t->tls != NULL)
		(void)tls_peer(t->tls, &name);
	return name;
}

int
tp_wait(struct transport *t, int64_t deadline_ms)
{
	if (t->tls != NULL)
		return tls_wait(t->tls, deadline_ms);
	return sock_wait(t->fd, deadline_ms);
}

ssize_t
tp_recv(struct transport *t, void *buf, size_t len, int flags)
{
	ssize_t n;

	if (t->tls != NULL)
		return tls_recv(t->tls, buf, len, (flags & TP_DONTWAIT) != 0);
	do
		n = recv(t->fd, buf, len, (flags & TP_DONTWAIT) ?
		    MSG_DONTWAIT : 0);
	while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
tp_recv_by(struct transport *t, void *buf, size_t len, int64_t deadline_ms)
{
	int w;

	if (t->tls != NULL)
		return tls_recv_by(t->tls, buf, len, deadline_ms);
	if ((w = sock_wait(t->fd, deadline_ms)) <= 0) {
		if (w == 0)
			errno = ETIMEDOUT;
		return -1;
	}
	return tp_recv(t, buf, len, 0);
}

ssize_t
tp_read_full(struct transport *t, void *buf, size_t len, int64_t deadline_ms)
{
	if (t->tls != NULL)
		return tls_read_full(t->tls, buf, len, deadline_ms);
	return sock_read_full(t->fd, buf, len, deadline_ms);
}

int
tp_discard(struct transport *t, uint64_t len, int64_t deadline_ms)
{
	if (t->tls != NULL)
		return tls_discard(t->tls, len, deadline_ms);
	return sock_discard(t->fd, len, deadline_ms);
}

ssize_t
tp_read_idle(struct transport *t, void *buf, size_t len, int idle_ms)
{
	if (t->tls != NULL)
		return tls_read_idle(t->tls, buf, len, idle_ms);
	return sock_read_idle(t->fd, buf, len, idle_ms);
}

int
tp_discard_idle(struct transport *t, uint64_t len, int idle_ms)
{
	if (t->tls != NULL)
		return tls_discard_idle(t->tls, len, idle_ms);
	return sock_discard_idle(t->fd, len, idle_ms);
}

int
tp_writev_full(struct transport *t, struct iovec *iov, int iovcnt, int flags)
{
	if (t->tls != NULL)
		return tls_writev_full(t->tls, iov, iovcnt, flags);
	return sock_writev_full(t->fd, iov, iovcnt, flags);
}

int
tp_write_full(struct transport *t, const void *buf, size_t len, int flags)
{
	if (t->tls != NULL)
		return tls_write_full(t->tls, buf, len, flags);
	return sock_write_full(t->fd, buf, len, flags);
}

int
tp_write_buffer(struct transport *t, void *buf, size_t len, int flags)
{
	if (t->tls != NULL)
		return tls_write_buffer(t->tls, buf, len, flags);
	return sock_write_full(t->fd, buf, len, flags);
}

int
tp_send_file(struct transport *t, const void *hdr, size_t hdrlen, int fd,
    uint64_t off, size_t len, int *started)
{
	off_t pos = (off_t)off;
	ssize_t n;

	if (t->tls != NULL)
		return tls_send_file(t->tls, hdr, hdrlen, fd, off, len,
		    started);
	/* A header cut short has broken the stream as surely as the data. */
	*started = 1;
	if (sock_write_full(t->fd, hdr, hdrlen, MSG_MORE) == -1)
		return -1;
	while (len > 0) {
		n = sendfile(t->fd, fd, &pos, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENODATA;
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}

const char *
tp_strerror(const struct transport *t, int e)
{
	if (t->tls != NULL && e == EPROTO)
		return tls_error(t->tls);
	return strerror(e);
}

void
tp_close(struct transport *t)
{
	tls_conn_free(t->tls);
	t->tls = NULL;
}
