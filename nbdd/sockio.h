/* layer: I/O */
/* Blocking socket I/O for one connection: whole reads and writes, an
 * optional deadline for reads (the handshake and stalled requests), and
 * the TCP settings that drop a dead peer within about a minute. */
#ifndef NBDD_SOCKIO_H
#define NBDD_SOCKIO_H

#include <sys/types.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"

#define SOCK_NO_DEADLINE	(-1)

/* Deadlines are signed milliseconds of the suite's one clock, so that
 * SOCK_NO_DEADLINE stands apart from every real one. */
static inline int64_t
sock_now_ms(void)
{
	return (int64_t)monotonic_ms();
}

/* TCP_NODELAY (replies are batched by us), keepalive after 20 s idle,
 * probes every 10 s, 3 of them, and TCP_USER_TIMEOUT 60 s for unacked
 * data. Returns 0, or -1 (errno set). */
int sock_tune(int fd);

/* Waits until fd is readable or deadline_ms passes: 1, 0 on timeout, -1
 * on error. SOCK_NO_DEADLINE waits for ever. */
int sock_wait(int fd, int64_t deadline_ms);

/* Reads exactly len bytes: len, 0 when the stream ended before the
 * first of them, or -1 with errno: ETIMEDOUT when the deadline passed,
 * ECONNRESET when the stream ended part way. */
ssize_t sock_read_full(int fd, void *buf, size_t len, int64_t deadline_ms);

/* Reads and throws away len bytes in bounded chunks, for the middle of a
 * message: 0, or -1 with errno (ECONNRESET when the stream ended). */
int sock_discard(int fd, uint64_t len, int64_t deadline_ms);

/* Reads and throws away whatever has already arrived, without waiting:
 * the count (0 when nothing had), or -1 with errno (EMSGSIZE when more
 * than max bytes kept coming). */
ssize_t sock_drain(int fd, size_t max);

/* The same two, but the limit is on silence: each time bytes arrive the
 * client has idle_ms more. For payloads that may take long on a slow
 * link but must keep coming. */
ssize_t sock_read_idle(int fd, void *buf, size_t len, int idle_ms);
int sock_discard_idle(int fd, uint64_t len, int idle_ms);

/* Writes every byte of the vector (which it consumes). 0, or -1. */
int sock_writev_full(int fd, struct iovec *iov, int iovcnt, int flags);
int sock_write_full(int fd, const void *buf, size_t len, int flags);

/* The peer as "ADDR" (IPv4-mapped addresses shown as IPv4) and
 * "ADDR:PORT" / "[ADDR]:PORT" for log lines. */
void sock_peer(int fd, char *host, size_t hostlen, char *peer,
    size_t peerlen);

#endif
