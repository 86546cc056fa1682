/* The ClientHello's first cipher: which one a client prefers, from the
 * bytes alone, and never a read past them. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "nbdd/tlshello.h"
#include "tests/unit/check_main.h"

/* A ClientHello body: version, random, a session id of sid bytes, then
 * the suites given. */
static size_t
hello(uint8_t *out, size_t sid, const uint16_t *suites, size_t n)
{
	size_t pos = 0;

	out[pos++] = 3;
	out[pos++] = 3;
	memset(out + pos, 0x55, 32);
	pos += 32;
	out[pos++] = (uint8_t)sid;
	memset(out + pos, 0xaa, sid);
	pos += sid;
	out[pos++] = (uint8_t)((2 * n) >> 8);
	out[pos++] = (uint8_t)(2 * n);
	for (size_t i = 0; i < n; i++) {
		out[pos++] = (uint8_t)(suites[i] >> 8);
		out[pos++] = (uint8_t)suites[i];
	}
	/* compression methods and extensions, as a real one has */
	out[pos++] = 1;
	out[pos++] = 0;
	out[pos++] = 0;
	out[pos++] = 0;
	return pos;
}

START_TEST(hello_first_cipher)
{
	static const uint16_t chacha13[] = { 0x1303, 0x1301, 0x1302 };
	static const uint16_t aes13[] = { 0x1302, 0x1303, 0x1301 };
	static const uint16_t grease[] = { 0x3a3a, 0x1303, 0x1301 };
	static const uint16_t chacha12[] = { 0xcca9, 0xc02b };
	static const uint16_t psk12[] = { 0xccac, 0x00a8 };
	static const uint16_t notgrease[] = { 0x3a3b, 0x1303 };
	static const uint16_t onlygrease[] = { 0x0a0a, 0xfafa };
	uint8_t m[512];
	size_t n;

	n = hello(m, 32, chacha13, 3);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 1);
	/* Every truncation is malformed, never a read past the end. */
	for (size_t cut = 0; cut < 2 + 32 + 1 + 32 + 2 + 2; cut++)
		ck_assert_int_eq(tls_hello_prefers_chacha(m, cut), 0);
	n = hello(m, 0, aes13, 3);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
	n = hello(m, 0, grease, 3);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 1);
	n = hello(m, 0, chacha12, 2);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 1);
	n = hello(m, 0, psk12, 2);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 1);
	n = hello(m, 0, notgrease, 2);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
	n = hello(m, 0, onlygrease, 2);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
	n = hello(m, 0, NULL, 0);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
	/* A session id longer than TLS allows; an odd suites length. */
	n = hello(m, 33, chacha13, 3);
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
	n = hello(m, 0, chacha13, 3);
	m[2 + 32 + 1 + 1] = 5;
	ck_assert_int_eq(tls_hello_prefers_chacha(m, n), 0);
}
END_TEST

static Suite *
tlshello_suite(void)
{
	Suite *s = suite_create("nbdd/tlshello");
	TCase *tc = tcase_create("hello");

	tcase_add_test(tc, hello_first_cipher);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tlshello_suite)
