/* layer: pure */
/* How a Raspberry Pi names itself: its serial, its MAC, and DHCP option 97.
 * One name for one thing: a serial is always 8 lower-case hex digits and a
 * MAC entry is always dc-a6-32-01-36-c2. */
#ifndef COMMON_PIID_H
#define COMMON_PIID_H

#include <stddef.h>
#include <stdint.h>

#define SERIAL_LEN 8			/* abcd1234 */
#define MAC_NAME_LEN 17			/* dc-a6-32-01-36-c2 */
#define OPT97_LEN 17			/* type byte + 16-byte machine id */

/* Normalises a serial as /proc/cpuinfo shows it (10000000ABCD1234) or as
 * the boot prefix (abcd1234): 8 to 16 hex digits, keeps the last 8 in lower
 * case. Returns 0, or -1 for empty, too long, or not hex. */
int serial_normalise(const char *in, char out[SERIAL_LEN + 1]);

/* Whether name (len bytes) is shaped like a Pi's own entry: a serial of
 * 8 hex digits (abcd1234) or a MAC entry (dc-a6-32-01-36-c2), the two
 * prefixes a Pi's bootloader uses. Only such a name falls back to the
 * "default" entry when it has none of its own (tftpd, nbdd's TLS rule). */
int piid_names_machine(const char *name, size_t len);

/* dc-a6-32-01-36-c2: the name of a MAC entry in the boot directory. */
void mac_entry_name(const uint8_t mac[6], char out[MAC_NAME_LEN + 1]);

/* dc:a6:32:01:36:c2: a MAC as log lines show it. */
void mac_colon(const uint8_t mac[6], char out[MAC_NAME_LEN + 1]);

enum opt97_form {
	OPT97_FORM_NEW,		/* fourcc, revision, MAC low bytes, serial */
	OPT97_FORM_OLD,		/* serial repeated four times */
};

struct pi_opt97 {
	enum opt97_form form;
	int fourcc_rpi4;	/* the prefix is RPi4 (EEPROM may change it) */
	uint32_t revision;	/* new form only */
	uint8_t mac_low[4];	/* new form only */
	uint32_t serial;
	char serial_str[SERIAL_LEN + 1];
};

/* Decodes option 97's value (without code and length bytes): type 0 and
 * 16 bytes. Multi-byte fields are little-endian 32-bit values, as the
 * bootloader documentation gives the fourcc. Returns 0, or -1 when the
 * option is not 17 bytes, its type is not 0, or the id is all zeros (the
 * nil UUID of a machine that has none). */
int opt97_decode(const uint8_t *val, size_t len, struct pi_opt97 *out);

#endif
