#include <string.h>

#include "common/bootname.h"
#include "nbdd/pskfile.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum psk_line
psk_parse_line(const char *line, size_t len, struct psk_entry *e)
{
	const char *colon, *hex;
	size_t ulen, hlen;

	memset(e, 0, sizeof(*e));
	if (len == 0)
		return PSK_LINE_EMPTY;
	if ((colon = memchr(line, ':', len)) == NULL)
		return PSK_LINE_NO_COLON;
	ulen = (size_t)(colon - line);
	/* psktool writes a user whose name is not printable as "#HEX"; such
	 * a name could never be an entry or an export, so it is refused
	 * rather than decoded. */
	if (ulen > PSK_USER_MAX || !plain_name_valid(line, ulen) ||
	    line[0] == '#')
		return PSK_LINE_BAD_USER;
	hex = colon + 1;
	hlen = len - ulen - 1;
	if (hlen % 2 != 0)
		return PSK_LINE_BAD_HEX;
	if (hlen / 2 > PSK_KEY_MAX)
		return PSK_LINE_LONG_KEY;
	for (size_t i = 0; i < hlen; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			memset(e, 0, sizeof(*e));
			return PSK_LINE_BAD_HEX;
		}
		e->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (hlen / 2 < PSK_KEY_MIN) {
		memset(e, 0, sizeof(*e));
		return PSK_LINE_SHORT_KEY;
	}
	memcpy(e->user, line, ulen);
	e->user[ulen] = '\0';
	e->keylen = hlen / 2;
	return PSK_LINE_OK;
}

const char *
psk_line_error(enum psk_line r)
{
	switch (r) {
	case PSK_LINE_OK:
	case PSK_LINE_EMPTY:
		return "no error";
	case PSK_LINE_NO_COLON:
		return "not USER:HEXKEY (no colon)";
	case PSK_LINE_BAD_USER:
		return "the user is not a plain name (no '/', no control "
		    "characters, not psktool's #HEX form)";
	case PSK_LINE_BAD_HEX:
		return "the key is not an even number of hex digits";
	case PSK_LINE_SHORT_KEY:
		return "the key is shorter than 16 bytes (psktool makes 32)";
	case PSK_LINE_LONG_KEY:
		return "the key is longer than 512 bytes";
	}
	return "unknown error";
}
