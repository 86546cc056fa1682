/* layer: pure */
/* The bytes around a TLS application-data record sealed with an AEAD
 * cipher (AES-GCM, ChaCha20-Poly1305) in TLS 1.2 (RFC 5288, RFC 7905)
 * and TLS 1.3 (RFC 8446, 5.2 and 5.3): its header, its nonce and its
 * additional data. nbdd seals a large read's records in place with them
 * and sends them in one sendmsg(), rather than a record per sendmsg()
 * through GnuTLS's record layer (tlsseal.c). Pure. */
#ifndef NBDD_TLSREC_H
#define NBDD_TLSREC_H

#include <stddef.h>
#include <stdint.h>

#define TLSREC_HEADER		5
#define TLSREC_PREFIX_MAX	13	/* header and a TLS 1.2 explicit nonce */
#define TLSREC_AAD_MAX		13
#define TLSREC_NONCE		12
#define TLSREC_TAG		16
#define TLSREC_APP_DATA		23	/* the content type */

struct tlsrec_keys {
	int tls13;		/* else TLS 1.2 */
	/* TLS 1.2 AES-GCM: a 4-byte salt, the record's sequence number as
	 * an explicit nonce after the header. Else a 12-byte IV that the
	 * sequence number is XORed into. */
	int explicit_nonce;
	uint8_t iv[TLSREC_NONCE];
	size_t ivlen;
};

/* Fills k for the write IV of a session (ivlen bytes): 0, or -1 when
 * the combination is not one of the above. */
int tlsrec_keys(struct tlsrec_keys *k, int tls13, int aes_gcm,
    const uint8_t *iv, size_t ivlen);

/* What goes on the wire before the ciphertext of a record of len data
 * bytes numbered seq: the header and any explicit nonce. Returns its
 * length. */
size_t tlsrec_prefix(const struct tlsrec_keys *k, uint64_t seq, size_t len,
    uint8_t out[TLSREC_PREFIX_MAX]);

/* The record's nonce. */
void tlsrec_nonce(const struct tlsrec_keys *k, uint64_t seq,
    uint8_t out[TLSREC_NONCE]);

/* The record's additional data; returns its length. */
size_t tlsrec_aad(const struct tlsrec_keys *k, uint64_t seq, size_t len,
    uint8_t out[TLSREC_AAD_MAX]);

/* Bytes on the wire for a record of len data bytes. */
size_t tlsrec_wire_len(const struct tlsrec_keys *k, size_t len);

#endif
