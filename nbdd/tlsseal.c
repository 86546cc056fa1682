/* Large replies' records sealed by nbdd itself with the session's
 * write key (tlsrec.h), in place and one sendmsg() per batch: buffers
 * the caller lets go of, and large reads read straight from the image
 * into the buffer they are sealed in. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/byteorder.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/tlspriv.h"
#include "nbdd/tlsrec.h"

#define FILE_CHUNK	(256 * 1024)	/* a large read's pread size */
/* The buffer has room for a record more, so that a last piece smaller
 * than that rides with the chunk before it: no pread for a few bytes. */
#define FILE_BUF	(FILE_CHUNK + RECORD_MAX)
/* A large read's chunk, sealed and sent at once: FILE_BUF in full
 * records, and one more for a short last record. */
#define SEAL_RECORDS	(FILE_BUF / RECORD_MAX + 1)

/* The session's write state, for sealing records ourselves: 0 with k
 * and *seq set and t->seal keyed, or 1 when this session's cipher or
 * version is not one we seal, or the peer's record size is not known
 * (GnuTLS's record layer sends then). */
static int
seal_state(struct tls_conn *t, struct tlsrec_keys *k, uint64_t *seq)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(t->s);
	gnutls_cipher_algorithm_t c = gnutls_cipher_get(t->s);
	int gcm = c == GNUTLS_CIPHER_AES_128_GCM ||
	    c == GNUTLS_CIPHER_AES_256_GCM;
	gnutls_datum_t mac, iv, key;
	unsigned char sq[8];

	if ((v != GNUTLS_TLS1_2 && v != GNUTLS_TLS1_3) || t->rec_max == 0 ||
	    (!gcm && c != GNUTLS_CIPHER_CHACHA20_POLY1305) ||
	    gnutls_record_get_state(t->s, 0, &mac, &iv, &key, sq) < 0)
		return 1;
	*seq = get64(sq);
	if (key.size > sizeof(t->seal_key) ||
	    tlsrec_keys(k, v == GNUTLS_TLS1_3, gcm, iv.data, iv.size) == -1)
		return 1;
	/* A TLS 1.3 key update gives the session a new key. */
	if (t->seal != NULL && t->seal_cipher == c &&
	    t->seal_keylen == key.size &&
	    memcmp(t->seal_key, key.data, key.size) == 0)
		return 0;
	if (t->seal != NULL)
		gnutls_aead_cipher_deinit(t->seal);
	t->seal = NULL;
	if (gnutls_aead_cipher_init(&t->seal, c, &key) < 0) {
		t->seal = NULL;
		return 1;
	}
	t->seal_cipher = c;
	t->seal_keylen = key.size;
	memcpy(t->seal_key, key.data, key.size);
	return 0;
}

/* Sends the first of the len bytes at p, which it overwrites, as
 * application-data records sealed in place, all in one sendmsg() (with
 * MSG_MORE when more follows): no copy besides the encryption and the
 * kernel's, and a system call per SEAL_RECORDS records rather than per
 * record. Under TLS 1.3 the key is updated first if it sealed
 * rekey_records records, and no more are sealed under it than that. 0
 * with *done set; -1 with errno (the stream is broken); or 1 when these
 * records are not ours to seal: nothing was sent or changed. */
static int
seal_batch(struct tls_conn *t, uint8_t *p, size_t len, int more,
    size_t *done)
{
	uint8_t prefix[SEAL_RECORDS][TLSREC_PREFIX_MAX];
	uint8_t tag[SEAL_RECORDS][TLSREC_TAG], inner[SEAL_RECORDS];
	uint8_t nonce[TLSREC_NONCE], aad[TLSREC_AAD_MAX], sq[8];
	struct iovec out[4 * SEAL_RECORDS];
	size_t max = t->rec_max, nrec, i, off, tl;
	struct tlsrec_keys k;
	uint64_t seq;
	int nout = 0;

	if (seal_state(t, &k, &seq) != 0)
		return 1;
	if (k.tls13 && seq >= t->cr->rekey_records) {
		if (tls_update_key(t) == -1)
			return -1;
		if (seal_state(t, &k, &seq) != 0)
			return 1;
	}
	if ((nrec = (len + max - 1) / max) > SEAL_RECORDS)
		nrec = SEAL_RECORDS;
	if (k.tls13 && nrec > t->cr->rekey_records - seq)
		nrec = (size_t)(t->cr->rekey_records - seq);
	for (i = 0, off = 0; i < nrec; i++) {
		size_t n = len - off < max ? len - off : max;
		giovec_t auth, data[2] = { { p + off, n }, { &inner[i], 1 } };

		inner[i] = TLSREC_APP_DATA;
		tlsrec_nonce(&k, seq + i, nonce);
		auth.iov_base = aad;
		auth.iov_len = tlsrec_aad(&k, seq + i, n, aad);
		tl = TLSREC_TAG;
		if (gnutls_aead_cipher_encryptv2(t->seal, nonce, sizeof(nonce),
		    &auth, 1, data, k.tls13 ? 2 : 1, tag[i], &tl) < 0 ||
		    tl != TLSREC_TAG) {
			errno = EPROTO;
			return -1;
		}
		out[nout++] = (struct iovec){ prefix[i],
		    tlsrec_prefix(&k, seq + i, n, prefix[i]) };
		out[nout++] = (struct iovec){ p + off, n };
		if (k.tls13)
			out[nout++] = (struct iovec){ &inner[i], 1 };
		out[nout++] = (struct iovec){ tag[i], TLSREC_TAG };
		off += n;
	}
	/* GnuTLS numbers its next record after ours, sent or not: a stream
	 * cut in the middle is broken either way. */
	put64(sq, seq + nrec);
	if (gnutls_record_set_state(t->s, 0, sq) < 0) {
		errno = EPROTO;
		return -1;
	}
	t->st.records_out += nrec;
	t->st.sends++;
	*done = off;
	return sock_writev_full(t->fd, out, nout,
	    more || off < len ? MSG_MORE : 0);
}

/* Records of p, sealed here when the session allows, else through
 * GnuTLS; p may be overwritten. A key update the peer asked for goes
 * first: GnuTLS sends it with its next record, so that record is
 * GnuTLS's to seal. */
static int
send_bulk(struct tls_conn *t, uint8_t *p, size_t len, int more)
{
	size_t n;
	int r;

	while (len > 0) {
		if (t->ku_owed) {
			n = len < RECORD_MAX ? len : RECORD_MAX;
			if (t->rec_max > 0 && n > t->rec_max)
				n = t->rec_max;
			r = tls_send_records(t, p, n, more || n < len);
		} else if ((r = seal_batch(t, p, len, more, &n)) == 1)
			return tls_send_records(t, p, len, more);
		if (r == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
tls_write_buffer(struct tls_conn *t, void *buf, size_t len, int flags)
{
	const size_t chunk = (SEAL_RECORDS - 1) * RECORD_MAX;
	uint8_t *p = buf;
	int more = (flags & MSG_MORE) != 0;

	while (len > 0) {
		size_t n = len < chunk ? len : chunk;

		if (send_bulk(t, p, n, more || n < len) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads len bytes of fd at off into buf: 0, or -1 (ENODATA when the
 * image ends first). */
static int
pread_full(struct tls_conn *t, int fd, uint8_t *buf, size_t len,
    uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		t->st.preads++;
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENODATA;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
tls_send_file(struct tls_conn *t, const void *hdr, size_t hdrlen, int fd,
    uint64_t off, size_t len, int *started)
{
	size_t first;

	*started = 0;
	if (hdrlen > RECORD_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (t->filebuf == NULL && (t->filebuf = malloc(FILE_BUF)) == NULL)
		return -1;
	/* The header leads the first record, so no record is spent on it
	 * alone; the image data follows it in the same buffer. */
	memcpy(t->filebuf, hdr, hdrlen);
	t->st.copied += hdrlen;
	first = len <= FILE_BUF - hdrlen ? len : FILE_CHUNK - hdrlen;
	if (pread_full(t, fd, t->filebuf + hdrlen, first, off) == -1)
		return -1;
	*started = 1;
	if (send_bulk(t, t->filebuf, hdrlen + first, first < len) == -1)
		return -1;
	off += first;
	len -= first;
	while (len > 0) {
		size_t n = len <= FILE_BUF ? len : FILE_CHUNK;

		if (pread_full(t, fd, t->filebuf, n, off) == -1 ||
		    send_bulk(t, t->filebuf, n, n < len) == -1)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}
