/* libFuzzer harness over nbdd's pure TLS-side parsers: a PSK file's
 * lines (psktool's USER:HEXKEY) and a ClientHello's cipher preference.
 * The first byte picks which; the rest is the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/bootdir.h"
#include "nbdd/pskfile.h"
#include "nbdd/tlshello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_psk(const uint8_t *p, size_t n)
{
	struct psk_entry e;
	enum psk_line r = psk_parse_line((const char *)p, n, &e);

	if (r == PSK_LINE_OK) {
		/* What the loader trusts: a plain user name, a key whose
		 * length is in range. */
		if (!plain_name_valid(e.user, strlen(e.user)) ||
		    e.keylen < PSK_KEY_MIN || e.keylen > PSK_KEY_MAX)
			__builtin_trap();
	} else if (e.keylen != 0 || e.user[0] != '\0')
		__builtin_trap();
	(void)psk_line_error(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_psk(data + 1, size - 1);
	else
		(void)tls_hello_prefers_chacha(data + 1, size - 1);
	return 0;
}
