#include <string.h>

#include "common/byteorder.h"
#include "nbdd/tlsrec.h"

int
tlsrec_keys(struct tlsrec_keys *k, int tls13, int aes_gcm, const uint8_t *iv,
    size_t ivlen)
{
	memset(k, 0, sizeof(*k));
	k->tls13 = tls13;
	k->explicit_nonce = !tls13 && aes_gcm;
	/* RFC 5288: a 4-byte salt; every other case a full 12 bytes. */
	if (ivlen != (k->explicit_nonce ? 4u : (size_t)TLSREC_NONCE))
		return -1;
	memcpy(k->iv, iv, ivlen);
	k->ivlen = ivlen;
	return 0;
}

/* The bytes after the header: TLS 1.3 adds the inner content type. */
static size_t
sealed_len(const struct tlsrec_keys *k, size_t len)
{
	return (k->explicit_nonce ? 8 : 0) + len + (k->tls13 ? 1 : 0) +
	    TLSREC_TAG;
}

size_t
tlsrec_prefix(const struct tlsrec_keys *k, uint64_t seq, size_t len,
    uint8_t out[TLSREC_PREFIX_MAX])
{
	/* Always "TLS 1.2" on the wire, 1.3 included (RFC 8446, 5.1). */
	out[0] = TLSREC_APP_DATA;
	out[1] = 3;
	out[2] = 3;
	put16(out + 3, (uint16_t)sealed_len(k, len));
	if (!k->explicit_nonce)
		return TLSREC_HEADER;
	put64(out + TLSREC_HEADER, seq);
	return TLSREC_HEADER + 8;
}

void
tlsrec_nonce(const struct tlsrec_keys *k, uint64_t seq,
    uint8_t out[TLSREC_NONCE])
{
	if (k->explicit_nonce) {
		memcpy(out, k->iv, 4);
		put64(out + 4, seq);
		return;
	}
	memset(out, 0, 4);
	put64(out + 4, seq);
	for (size_t i = 0; i < TLSREC_NONCE; i++)
		out[i] ^= k->iv[i];
}

size_t
tlsrec_aad(const struct tlsrec_keys *k, uint64_t seq, size_t len,
    uint8_t out[TLSREC_AAD_MAX])
{
	if (k->tls13) {
		/* The header itself. */
		out[0] = TLSREC_APP_DATA;
		out[1] = 3;
		out[2] = 3;
		put16(out + 3, (uint16_t)sealed_len(k, len));
		return TLSREC_HEADER;
	}
	put64(out, seq);
	out[8] = TLSREC_APP_DATA;
	out[9] = 3;
	out[10] = 3;
	put16(out + 11, (uint16_t)len);
	return 13;
}

size_t
tlsrec_wire_len(const struct tlsrec_keys *k, size_t len)
{
	return TLSREC_HEADER + sealed_len(k, len);
}
