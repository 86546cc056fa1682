/* layer: I/O */
/* TLS for NBD connections, with GnuTLS (as nbd-server, nbdkit, qemu and
 * libnbd use): credentials loaded once at start, one session per
 * connection on its socket once NBD_OPT_STARTTLS is acknowledged, the
 * handshake under a deadline, the client's verified identity, and
 * record-layer reads and writes shaped like sockio.h's, so transport.h
 * can put either under the NBD drivers.
 *
 * This kernel has no kernel TLS, so every byte is encrypted here. Large
 * reads are read from the image straight into the buffer that the
 * records are encrypted from, in full-size records: per byte, one copy
 * in (pread), the encryption, one copy out (send). */
#ifndef NBDD_TLS_H
#define NBDD_TLS_H

#include <sys/types.h>
#include <sys/uio.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_IDENTITY_MAX	NAME_MAX	/* an identity is a plain name */

/* The files read from an X.509 directory, as qemu and nbdkit read them. */
#define TLS_CA_CERT		"ca-cert.pem"
#define TLS_SERVER_CERT		"server-cert.pem"
#define TLS_SERVER_KEY		"server-key.pem"
#define TLS_CA_CRL		"ca-crl.pem"

/* TLS 1.3 allows about 2^24.5 AES-GCM records under one key (RFC 8446,
 * 5.5): nbdd updates its sending key after this many, well before. */
#define TLS_REKEY_RECORDS	(1ULL << 23)

struct tls_config {
	const char *x509_dir;	/* NULL: no certificates */
	const char *psk_file;	/* NULL: no PSK */
	int verify_peer;	/* require client certificates signed by
				 * ca-cert.pem (and not in ca-crl.pem) */
	uint64_t rekey_records;	/* TLS 1.3: records under one sending
				 * key; 0 (or more than TLS_REKEY_RECORDS)
				 * for TLS_REKEY_RECORDS. Tests set it low. */
};

struct tls_creds;

/* Loads what cf names, once, before privileges are dropped (keys are
 * usually readable by root only). NULL with the reason, naming the file,
 * in why. Warnings (a server certificate out of its validity period, a
 * PSK file others can read) are logged. */
struct tls_creds *tls_creds_load(const struct tls_config *cf, char *why,
    size_t whylen);
void tls_creds_free(struct tls_creds *cr);
/* "X.509 from DIR (client certificates verified), PSK for 3 users" */
void tls_creds_describe(const struct tls_creds *cr, char *buf, size_t len);

enum tls_identity {
	TLS_ID_NONE,		/* certificates without -y: encrypted, but
				 * anonymous */
	TLS_ID_X509,		/* the common name of a verified certificate */
	TLS_ID_PSK,		/* the PSK user name */
};

/* What one connection's TLS cost, for tests and the benchmark. */
struct tls_stats {
	uint64_t records_out;	/* records sent */
	uint64_t sends;		/* sendmsg() calls */
	uint64_t recvs;		/* recv() calls */
	uint64_t preads;	/* pread() calls for large reads */
	uint64_t copied;	/* bytes copied in memory besides pread,
				 * encryption and send (gathering pieces
				 * smaller than a record) */
	uint64_t key_updates;	/* TLS 1.3 key updates nbdd made itself,
				 * at TLS_REKEY_RECORDS */
};

struct tls_conn;

/* A server session on the connected socket fd (which stays the
 * caller's). NULL when out of memory, with why. */
struct tls_conn *tls_conn_new(const struct tls_creds *cr, int fd,
    char *why, size_t whylen);
/* Sends close_notify if that can be done without waiting, and frees the
 * session. */
void tls_conn_free(struct tls_conn *t);

/* The handshake, finished by deadline_ms (sock_now_ms() clock). 0, or -1
 * with errno and why: ETIMEDOUT (stalled), ECONNRESET (the client went),
 * EACCES (its certificate or key was refused), EPROTO (anything else:
 * not TLS, no common cipher). */
int tls_handshake(struct tls_conn *t, int64_t deadline_ms, char *why,
    size_t whylen);

/* The verified identity after the handshake: its kind, and the name in
 * *name (NULL for TLS_ID_NONE), valid until tls_conn_free. */
enum tls_identity tls_peer(const struct tls_conn *t, const char **name);
/* "TLS1.3 AES-128-GCM" */
void tls_describe(const struct tls_conn *t, char *buf, size_t len);

/* The record layer, with sockio.h's shapes and results (a whole read
 * returns len, 0 when the stream ended before its first byte, -1 with
 * errno: ETIMEDOUT for a deadline, ECONNRESET for a stream that ended
 * part way; SOCK_NO_DEADLINE waits for ever). A TLS error is EPROTO;
 * tls_error says what it was. */

/* Whether plaintext can be read: 1 at once when records already read
 * hold some, else as sock_wait. */
int tls_wait(struct tls_conn *t, int64_t deadline_ms);
/* Up to len bytes as they come: >0, 0 at end of stream, -1 (EAGAIN with
 * dontwait when nothing is there yet). */
ssize_t tls_recv(struct tls_conn *t, void *buf, size_t len, int dontwait);
/* The same, waiting until deadline_ms at most (ETIMEDOUT), also for
 * the rest of a record begun. */
ssize_t tls_recv_by(struct tls_conn *t, void *buf, size_t len,
    int64_t deadline_ms);
ssize_t tls_read_full(struct tls_conn *t, void *buf, size_t len,
    int64_t deadline_ms);
int tls_discard(struct tls_conn *t, uint64_t len, int64_t deadline_ms);
ssize_t tls_read_idle(struct tls_conn *t, void *buf, size_t len,
    int idle_ms);
int tls_discard_idle(struct tls_conn *t, uint64_t len, int idle_ms);

/* Writes every byte of the vector in full records: pieces smaller than
 * a record are gathered (copied) into one, larger ones are encrypted in
 * place. flags: MSG_MORE when more will follow at once. 0, or -1. */
int tls_writev_full(struct tls_conn *t, const struct iovec *iov, int iovcnt,
    int flags);
int tls_write_full(struct tls_conn *t, const void *buf, size_t len,
    int flags);

/* The same for one buffer the caller lets go of: its records are sealed
 * in place there (as tls_send_file's), so it is overwritten. */
int tls_write_buffer(struct tls_conn *t, void *buf, size_t len, int flags);

/* A large READ's reply: hdr, then len bytes of fd from off, read in
 * chunks straight into the buffer the records are encrypted from. The
 * first chunk is read before anything is sent, so a failing image can
 * still be answered with an error: 0; or -1 with errno and *started 0
 * (nothing sent) or 1 (the stream is broken: only a disconnect can
 * follow). A short read is ENODATA. */
int tls_send_file(struct tls_conn *t, const void *hdr, size_t hdrlen,
    int fd, uint64_t off, size_t len, int *started);

/* The last TLS error, for a log line after EPROTO. */
const char *tls_error(const struct tls_conn *t);
const struct tls_stats *tls_stats(const struct tls_conn *t);

#endif
