#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "piid.h"

int
serial_normalise(const char *in, char out[SERIAL_LEN + 1])
{
	size_t len = strlen(in);

	if (len < SERIAL_LEN || len > 16)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)in[i]))
			return -1;
	for (size_t i = 0; i < SERIAL_LEN; i++)
		out[i] = (char)tolower((unsigned char)in[len - SERIAL_LEN + i]);
	out[SERIAL_LEN] = '\0';
	return 0;
}

int
piid_names_machine(const char *p, size_t len)
{
	size_t i;

	if (len == SERIAL_LEN) {
		for (i = 0; i < len; i++)
			if (!isxdigit((unsigned char)p[i]))
				return 0;
		return 1;
	}
	if (len != MAC_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (i % 3 == 2 ? p[i] != '-' : !isxdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

static void
mac_format(const uint8_t mac[6], char sep, char out[MAC_NAME_LEN + 1])
{
	snprintf(out, MAC_NAME_LEN + 1, "%02x%c%02x%c%02x%c%02x%c%02x%c%02x",
	    mac[0], sep, mac[1], sep, mac[2], sep, mac[3], sep, mac[4], sep,
	    mac[5]);
}

void
mac_entry_name(const uint8_t mac[6], char out[MAC_NAME_LEN + 1])
{
	mac_format(mac, '-', out);
}

void
mac_colon(const uint8_t mac[6], char out[MAC_NAME_LEN + 1])
{
	mac_format(mac, ':', out);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
opt97_decode(const uint8_t *val, size_t len, struct pi_opt97 *out)
{
	const uint8_t *id = val + 1;

	static const uint8_t nil[16];

	if (len != OPT97_LEN || val[0] != 0)
		return -1;
	/* An all-zero machine id is "no UUID" (QEMU without -uuid, some PC
	 * firmware), not a Pi with serial 00000000. */
	if (memcmp(id, nil, sizeof(nil)) == 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (memcmp(id, id + 4, 4) == 0 && memcmp(id, id + 8, 4) == 0 &&
	    memcmp(id, id + 12, 4) == 0) {
		out->form = OPT97_FORM_OLD;
		out->serial = le32(id);
	} else {
		out->form = OPT97_FORM_NEW;
		out->fourcc_rpi4 = memcmp(id, "RPi4", 4) == 0;
		out->revision = le32(id + 4);
		memcpy(out->mac_low, id + 8, 4);
		out->serial = le32(id + 12);
	}
	snprintf(out->serial_str, sizeof(out->serial_str), "%08x",
	    out->serial);
	return 0;
}
