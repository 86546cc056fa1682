/* layer: I/O */
/* One connection's byte stream, plain TCP or TLS. The handshake and
 * transmission drivers read and write through these calls, which have
 * sockio.h's shapes and results, so one driver serves both: until
 * STARTTLS the calls go to the socket (sockio.c), after it to the TLS
 * session (tls.h). I/O layer; it decides nothing. */
#ifndef NBDD_TRANSPORT_H
#define NBDD_TRANSPORT_H

#include <sys/types.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>

#include "nbdd/sockio.h"
#include "nbdd/tls.h"

struct transport {
	int fd;			/* the TCP socket, the caller's to close */
	struct tls_conn *tls;	/* NULL: plain TCP */
};

#define TP_DONTWAIT	1	/* tp_recv: EAGAIN rather than wait */

void tp_init(struct transport *t, int fd);

/* Upgrades to TLS once STARTTLS's ACK has been sent. Whatever the driver
 * had read past the STARTTLS option must be thrown away before this: it
 * arrived in plaintext. 0, or -1 with errno and why as tls_handshake
 * (the connection cannot go on in plaintext: drop it). */
int tp_starttls(struct transport *t, const struct tls_creds *cr,
    int64_t deadline_ms, char *why, size_t whylen);
int tp_is_tls(const struct transport *t);
/* The verified identity (NULL if none: plain TCP, or TLS without one). */
const char *tp_identity(const struct transport *t);

/* As sock_wait, but data already decrypted counts as readable. */
int tp_wait(struct transport *t, int64_t deadline_ms);
/* What is there, up to len: >0, 0 at end of stream, -1 (EAGAIN with
 * TP_DONTWAIT when nothing is). */
ssize_t tp_recv(struct transport *t, void *buf, size_t len, int flags);
/* Up to len bytes, waiting until deadline_ms at most: >0, 0 at end of
 * stream, -1 (ETIMEDOUT). Over TLS the deadline covers a record begun
 * and not finished, which plain readiness cannot see. */
ssize_t tp_recv_by(struct transport *t, void *buf, size_t len,
    int64_t deadline_ms);
ssize_t tp_read_full(struct transport *t, void *buf, size_t len,
    int64_t deadline_ms);
int tp_discard(struct transport *t, uint64_t len, int64_t deadline_ms);
ssize_t tp_read_idle(struct transport *t, void *buf, size_t len,
    int idle_ms);
int tp_discard_idle(struct transport *t, uint64_t len, int idle_ms);

/* Writes all of it; MSG_MORE in flags when more follows at once. The
 * vector is consumed (plain) or left as it was (TLS): callers must not
 * reuse it. */
int tp_writev_full(struct transport *t, struct iovec *iov, int iovcnt,
    int flags);
int tp_write_full(struct transport *t, const void *buf, size_t len,
    int flags);

/* As tp_write_full, for a buffer whose contents the caller no longer
 * needs: over TLS it is overwritten (records sealed in place). */
int tp_write_buffer(struct transport *t, void *buf, size_t len, int flags);

/* The most hdr bytes tp_send_file takes (one TLS record's worth). */
#define TP_SEND_FILE_HDR_MAX	16384

/* A large READ's reply: hdr then len bytes of fd at off. Plain TCP:
 * the header with MSG_MORE, then sendfile(2), never through user space.
 * TLS: tls_send_file. 0, or -1 with errno and *started: 0 when nothing
 * was sent (an error reply can still be given), 1 when the stream is
 * broken. ENODATA when the image is shorter than asked. */
int tp_send_file(struct transport *t, const void *hdr, size_t hdrlen,
    int fd, uint64_t off, size_t len, int *started);

/* strerror(e), or the TLS error when e is EPROTO on a TLS stream. */
const char *tp_strerror(const struct transport *t, int e);

/* Ends TLS (close_notify if it can go at once) and frees the session;
 * the socket stays open. */
void tp_close(struct transport *t);

#endif
