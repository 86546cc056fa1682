/* The bytes around a sealed TLS record, against RFC 8446 (5.2, 5.3),
 * RFC 5288 and RFC 7905 worked by hand: headers, nonces and additional
 * data for TLS 1.3, TLS 1.2 AES-GCM and TLS 1.2 ChaCha20-Poly1305. That
 * GnuTLS reads the records sealed with them is nbdd_tlsseal_test's. */
#include <check.h>
#include <string.h>

#include "nbdd/tlsrec.h"
#include "tests/unit/check_main.h"

static const uint8_t iv12[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
static const uint8_t salt[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
static const uint64_t seq = 0x0102030405060708ULL;

static void
same(const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "byte %zu: %02x, want %02x",
		    i, got[i], want[i]);
}

START_TEST(tls13)
{
	static const uint8_t nonce[12] = { 0, 1, 2, 3, 4 ^ 1, 5 ^ 2, 6 ^ 3,
	    7 ^ 4, 8 ^ 5, 9 ^ 6, 10 ^ 7, 11 ^ 8 };
	/* 100 bytes, the inner type and the tag: 117. */
	static const uint8_t hdr[5] = { 23, 3, 3, 0, 117 };
	struct tlsrec_keys k;
	uint8_t b[16];

	ck_assert_int_eq(tlsrec_keys(&k, 1, 1, iv12, 12), 0);
	ck_assert_int_eq(tlsrec_keys(&k, 1, 0, iv12, 12), 0);
	ck_assert_uint_eq(tlsrec_prefix(&k, seq, 100, b), 5);
	same(b, hdr, 5);
	tlsrec_nonce(&k, seq, b);
	same(b, nonce, 12);
	/* The additional data is the header itself. */
	ck_assert_uint_eq(tlsrec_aad(&k, seq, 100, b), 5);
	same(b, hdr, 5);
	ck_assert_uint_eq(tlsrec_wire_len(&k, 100), 5 + 117);
	ck_assert_uint_eq(tlsrec_wire_len(&k, 16384), 5 + 16384 + 17);
	/* The first record of a key is numbered 0: the IV itself. */
	tlsrec_nonce(&k, 0, b);
	same(b, iv12, 12);
	ck_assert_int_eq(tlsrec_keys(&k, 1, 1, salt, 4), -1);
}
END_TEST

START_TEST(tls12_gcm)
{
	static const uint8_t nonce[12] = { 0xa0, 0xa1, 0xa2, 0xa3, 1, 2, 3, 4,
	    5, 6, 7, 8 };
	/* The explicit nonce, 100 bytes and the tag: 124. */
	static const uint8_t prefix[13] = { 23, 3, 3, 0, 124, 1, 2, 3, 4, 5,
	    6, 7, 8 };
	static const uint8_t aad[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 23, 3, 3,
	    0, 100 };
	struct tlsrec_keys k;
	uint8_t b[16];

	ck_assert_int_eq(tlsrec_keys(&k, 0, 1, salt, 4), 0);
	ck_assert_int_eq(k.explicit_nonce, 1);
	ck_assert_uint_eq(tlsrec_prefix(&k, seq, 100, b), 13);
	same(b, prefix, 13);
	tlsrec_nonce(&k, seq, b);
	same(b, nonce, 12);
	ck_assert_uint_eq(tlsrec_aad(&k, seq, 100, b), 13);
	same(b, aad, 13);
	ck_assert_uint_eq(tlsrec_wire_len(&k, 100), 5 + 124);
	ck_assert_int_eq(tlsrec_keys(&k, 0, 1, iv12, 12), -1);
}
END_TEST

START_TEST(tls12_chacha)
{
	static const uint8_t nonce[12] = { 0, 1, 2, 3, 4 ^ 1, 5 ^ 2, 6 ^ 3,
	    7 ^ 4, 8 ^ 5, 9 ^ 6, 10 ^ 7, 11 ^ 8 };
	static const uint8_t hdr[5] = { 23, 3, 3, 0x40, 0x10 };
	static const uint8_t aad[13] = { 1, 2, 3, 4, 5, 6, 7, 8, 23, 3, 3,
	    0x40, 0 };
	struct tlsrec_keys k;
	uint8_t b[16];

	ck_assert_int_eq(tlsrec_keys(&k, 0, 0, iv12, 12), 0);
	ck_assert_int_eq(k.explicit_nonce, 0);
	/* 16384 bytes and the tag: 0x4010; no inner type before 1.3. */
	ck_assert_uint_eq(tlsrec_prefix(&k, seq, 16384, b), 5);
	same(b, hdr, 5);
	tlsrec_nonce(&k, seq, b);
	same(b, nonce, 12);
	ck_assert_uint_eq(tlsrec_aad(&k, seq, 16384, b), 13);
	same(b, aad, 13);
	ck_assert_int_eq(tlsrec_keys(&k, 0, 0, salt, 4), -1);
}
END_TEST

static Suite *
tlsrec_suite(void)
{
	Suite *s = suite_create("nbdd_tlsrec");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tls13);
	tcase_add_test(tc, tls12_gcm);
	tcase_add_test(tc, tls12_chacha);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tlsrec_suite)
