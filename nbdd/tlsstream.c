/* A session's records through GnuTLS's record layer: reads under a
 * deadline or an idle limit, discards, writes gathered into full
 * records, and the TLS 1.3 key updates nbdd makes itself. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "common/byteorder.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/tlspriv.h"

/* A failed record call as errno: EAGAIN, ETIMEDOUT, ECONNRESET for a
 * socket error, EPROTO for TLS's own. */
static int
record_failed(struct tls_conn *t, ssize_t r)
{
	t->last_error = (int)r;
	if (r == GNUTLS_E_AGAIN)
		errno = t->timed_out ? ETIMEDOUT : EAGAIN;
	else if (t->timed_out)
		errno = ETIMEDOUT;
	else if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		errno = t->io_errno ? t->io_errno : ECONNRESET;
	else
		errno = EPROTO;
	return -1;
}

/* One gnutls_record_recv as the pull function is set up now. */
static ssize_t
recv_record(struct tls_conn *t, void *buf, size_t len)
{
	ssize_t r;

	for (;;) {
		r = gnutls_record_recv(t->s, buf, len);
		if (r >= 0)
			return r;
		switch (r) {
		case GNUTLS_E_INTERRUPTED:
		case GNUTLS_E_WARNING_ALERT_RECEIVED:
			continue;
		case GNUTLS_E_AGAIN:
			/* Also after a TLS 1.3 post-handshake message (a key
			 * update) was dealt with: nothing wrong, no data yet.
			 * Only a read that must not wait, or whose deadline
			 * passed, stops here. */
			if (!t->dontwait && !t->timed_out)
				continue;
			return record_failed(t, r);
		case GNUTLS_E_PREMATURE_TERMINATION:
			/* TCP closed without close_notify: the end, as a
			 * plain socket's; whether in the middle of a
			 * request is the driver's to say. */
			return 0;
		case GNUTLS_E_REHANDSHAKE:
			/* No renegotiation: no NBD client needs one. */
			t->last_error = (int)r;
			errno = EPROTO;
			return -1;
		default:
			return record_failed(t, r);
		}
	}
}

int
tls_wait(struct tls_conn *t, int64_t deadline_ms)
{
	if (gnutls_record_check_pending(t->s) > 0 || t->rend > t->rstart)
		return 1;
	return sock_wait(t->fd, deadline_ms);
}

ssize_t
tls_recv(struct tls_conn *t, void *buf, size_t len, int dontwait)
{
	ssize_t r;

	t->dontwait = dontwait;
	t->timed_out = 0;
	r = recv_record(t, buf, len);
	t->dontwait = 0;
	return r;
}

ssize_t
tls_recv_by(struct tls_conn *t, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t r;

	t->deadline_ms = deadline_ms;
	t->timed_out = 0;
	r = recv_record(t, buf, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

/* Reads exactly len with the pull function's limits as set: len, 0 when
 * the stream ended before the first byte, or -1 (ECONNRESET when it
 * ended part way). */
static ssize_t
read_exact(struct tls_conn *t, uint8_t *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	t->timed_out = 0;
	while (got < len) {
		if ((n = recv_record(t, p + got, len - got)) <= 0) {
			if (n == 0 && got == 0)
				return 0;
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* In the middle of a message, where the stream ending is the peer gone
 * part way. */
static int
discard_exact(struct tls_conn *t, uint64_t len)
{
	uint8_t junk[RECORD_MAX];

	while (len > 0) {
		size_t n = len < sizeof(junk) ? (size_t)len : sizeof(junk);
		ssize_t r = read_exact(t, junk, n);

		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		len -= n;
	}
	return 0;
}

ssize_t
tls_read_full(struct tls_conn *t, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t r;

	t->deadline_ms = deadline_ms;
	r = read_exact(t, buf, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

int
tls_discard(struct tls_conn *t, uint64_t len, int64_t deadline_ms)
{
	int r;

	t->deadline_ms = deadline_ms;
	r = discard_exact(t, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

ssize_t
tls_read_idle(struct tls_conn *t, void *buf, size_t len, int idle_ms)
{
	ssize_t r;

	t->idle_ms = idle_ms;
	r = read_exact(t, buf, len);
	t->idle_ms = 0;
	return r;
}

int
tls_discard_idle(struct tls_conn *t, uint64_t len, int idle_ms)
{
	int r;

	t->idle_ms = idle_ms;
	r = discard_exact(t, len);
	t->idle_ms = 0;
	return r;
}

/* tlspriv.h */
int
tls_update_key(struct tls_conn *t)
{
	int r;

	do
		r = gnutls_session_key_update(t->s, 0);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r < 0)
		return record_failed(t, r);
	t->st.key_updates++;
	return 0;
}

/* Before a record goes out through GnuTLS: under TLS 1.3, a key update
 * once rekey_records records went under this key (the write sequence
 * number starts again at 0 with each key), sealed by GnuTLS or by us.
 * GnuTLS's own update counts only the records it seals, and misses the
 * moment when ours jump over it. A key update the peer asked for is
 * GnuTLS's to send. 0, or -1. */
static int
rekey_if_due(struct tls_conn *t)
{
	unsigned char sq[8];

	if (!t->tls13 || t->ku_owed)
		return 0;
	if (gnutls_record_get_state(t->s, 0, NULL, NULL, NULL, sq) < 0) {
		errno = EPROTO;
		return -1;
	}
	return get64(sq) < t->cr->rekey_records ? 0 : tls_update_key(t);
}

/* tlspriv.h */
int
tls_send_records(struct tls_conn *t, const uint8_t *p, size_t len, int more)
{
	ssize_t r;

	while (len > 0) {
		size_t n = len < RECORD_MAX ? len : RECORD_MAX;

		if (rekey_if_due(t) == -1)
			return -1;
		t->more = more || n < len;
		/* On EINTR or EAGAIN GnuTLS keeps the record and wants to
		 * be called again with the same arguments. */
		do
			r = gnutls_record_send(t->s, p, n);
		while (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN);
		if (r < 0) {
			t->more = 0;
			return record_failed(t, r);
		}
		/* A key update the peer asked for went out before it. */
		t->ku_owed = 0;
		t->st.records_out++;
		p += r;
		len -= (size_t)r;
	}
	t->more = 0;
	return 0;
}

int
tls_writev_full(struct tls_conn *t, const struct iovec *iov, int iovcnt,
    int flags)
{
	int more = (flags & MSG_MORE) != 0;
	size_t staged = 0, left = 0;

	for (int i = 0; i < iovcnt; i++)
		left += iov[i].iov_len;
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;

		while (n > 0) {
			size_t take;

			/* A piece that fills records by itself, or the
			 * last one, goes out from where it is. */
			if (staged == 0 && (n >= RECORD_MAX || n == left)) {
				take = n == left ? n :
				    n - n % RECORD_MAX;
				if (tls_send_records(t, p, take,
				    more || take < left) == -1)
					return -1;
				p += take;
				n -= take;
				left -= take;
				continue;
			}
			if (t->stage == NULL &&
			    (t->stage = malloc(RECORD_MAX)) == NULL)
				return -1;
			take = RECORD_MAX - staged;
			if (take > n)
				take = n;
			memcpy(t->stage + staged, p, take);
			t->st.copied += take;
			staged += take;
			p += take;
			n -= take;
			left -= take;
			if (staged == RECORD_MAX || left == 0) {
				if (tls_send_records(t, t->stage, staged,
				    more || left > 0) == -1)
					return -1;
				staged = 0;
			}
		}
	}
	return 0;
}

int
tls_write_full(struct tls_conn *t, const void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };

	return tls_writev_full(t, &iov, 1, flags);
}
