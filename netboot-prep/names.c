#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "names.h"

const char *
prep_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "empty";
	if (len > PREP_NAME_MAX)
		return "longer than 64 characters";
	if (name[0] == '.' || name[0] == '-')
		return "starts with '.' or '-'";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return "only letters, digits, '.', '_' and '-' may "
			    "be in a name";
		if (c == '.' && name[i + 1] == '.')
			return "\"..\" may not be in a name";
	}
	if (len > 4 && strcmp(name + len - 4, ".img") == 0)
		return "give the name without .img";
	return NULL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *
pi_entry_name(const char *arg, char entry[MAC_NAME_LEN + 1])
{
	size_t len = strlen(arg);
	uint8_t mac[6];
	char serial[SERIAL_LEN + 1];

	if (len == MAC_NAME_LEN && (arg[2] == ':' || arg[2] == '-')) {
		char sep = arg[2];

		for (int i = 0; i < 6; i++) {
			int hi = hexval(arg[3 * i]), lo = hexval(arg[3 * i + 1]);

			if (hi < 0 || lo < 0 || (i < 5 && arg[3 * i + 2] != sep))
				return "not a MAC address (dc:a6:32:01:36:c2)";
			mac[i] = (uint8_t)(hi << 4 | lo);
		}
		mac_entry_name(mac, entry);
		return NULL;
	}
	if (serial_normalise(arg, serial) == -1)
		return "not a serial (8 to 16 hex digits, as /proc/cpuinfo "
		    "shows it) nor a MAC address";
	memcpy(entry, serial, SERIAL_LEN + 1);
	return NULL;
}

int
prep_size_parse(const char *s, uint64_t *bytes)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (toupper((unsigned char)*p)) {
	case 'K': shift = 10; p++; break;
	case 'M': shift = 20; p++; break;
	case 'G': shift = 30; p++; break;
	case 'T': shift = 40; p++; break;
	}
	if (shift && (*p == 'i' || *p == 'I'))
		p++;
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*bytes = v << shift;
	return 0;
}
