/* layer: pure */
/* What a ClientHello says about the client's cipher preference. nbdd
 * picks the cipher by its own order (AES-128-GCM first, cheapest on a
 * server's CPU), except for a client that puts ChaCha20-Poly1305 first:
 * a client does that when it has no AES instructions (a Pi 4), and AES
 * in software would cost it several times the CPU. Pure: the bytes of
 * the handshake message in, an answer out. */
#ifndef NBDD_TLSHELLO_H
#define NBDD_TLSHELLO_H

#include <stddef.h>
#include <stdint.h>

/* msg is a ClientHello handshake message's body (after the 4-byte
 * handshake header). 1 when the first cipher suite it offers (GREASE
 * values skipped) is a ChaCha20-Poly1305 suite; 0 otherwise, and for
 * anything malformed. */
int tls_hello_prefers_chacha(const uint8_t *msg, size_t len);

#endif
