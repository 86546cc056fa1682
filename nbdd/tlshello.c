#include "common/byteorder.h"
#include "nbdd/tlshello.h"

/* TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3) and the TLS 1.2 suites of RFC
 * 7905, 0xCCA8 to 0xCCAE. */
static int
is_chacha(uint16_t suite)
{
	return suite == 0x1303 || (suite >= 0xcca8 && suite <= 0xccae);
}

/* RFC 8701: 0x0A0A, 0x1A1A, ... 0xFAFA mean nothing. */
static int
is_grease(uint16_t suite)
{
	return (suite & 0x0f0f) == 0x0a0a && (suite >> 8) == (suite & 0xff);
}

int
tls_hello_prefers_chacha(const uint8_t *msg, size_t len)
{
	size_t pos = 2 + 32;		/* legacy_version, random */
	size_t sid, suites_len;

	if (len < pos + 1)
		return 0;
	sid = msg[pos];
	pos += 1 + sid;
	if (sid > 32 || len < pos + 2)
		return 0;
	suites_len = get16(msg + pos);
	pos += 2;
	if (suites_len % 2 != 0 || len < pos + suites_len)
		return 0;
	for (size_t i = 0; i < suites_len; i += 2) {
		uint16_t suite = get16(msg + pos + i);

		if (!is_grease(suite))
			return is_chacha(suite);
	}
	return 0;
}
