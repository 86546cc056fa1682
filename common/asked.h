/* layer: pure */
/* The record of machines that asked dhcpproxyd for a boot and have no
 * boot entry (dhcpproxyd -U FILE), which netboot-prep -L reads to enrol
 * them. Bounded: ASKED_SLOTS lines of ASKED_LINE_LEN bytes each, a slot
 * per machine; when all are taken, the machine seen longest ago makes
 * room. Text, so that cat shows it:
 *
 *   abcd1234 dc-a6-32-01-36-c2 1765000000 12
 *   -------- 52-54-00-12-34-56 1765000042 1
 *
 * serial (dashes when the machine sent none), MAC entry, the last time
 * it asked (seconds since the epoch), how often it asked. Pure: the
 * caller reads and writes the file and passes the time. */
#ifndef COMMON_ASKED_H
#define COMMON_ASKED_H

#include <stddef.h>
#include <stdint.h>

#include "common/piid.h"

#define ASKED_SLOTS	256
/* "SSSSSSSS MM-MM-MM-MM-MM-MM TTTTTTTTTTTT CCCCCCCCCC\n" */
#define ASKED_LINE_LEN	(SERIAL_LEN + 1 + MAC_NAME_LEN + 1 + 12 + 1 + 10 + 1)
#define ASKED_FILE_LEN	(ASKED_SLOTS * ASKED_LINE_LEN)

struct asked_entry {
	int used;
	char serial[SERIAL_LEN + 1];	/* "" when none */
	char mac[MAC_NAME_LEN + 1];	/* dc-a6-32-01-36-c2 */
	int64_t last;			/* seconds since the epoch */
	uint32_t count;
};

struct asked_table {
	struct asked_entry slot[ASKED_SLOTS];
};

/* Parses one line (len bytes, with or without its newline). Returns 0,
 * or -1 for a line that is not a record (blank padding included). */
int asked_parse_line(const char *line, size_t len, struct asked_entry *out);

/* Fills the table from a file's contents (any length; slot i is the
 * line at i * ASKED_LINE_LEN, lines that are not records are empty). */
void asked_load(struct asked_table *t, const char *buf, size_t len);

/* A machine asked at now: its slot (the same MAC's, else an empty one,
 * else the one seen longest ago) is updated, and its line written into
 * line (ASKED_LINE_LEN bytes, no NUL). serial may be "" or NULL. Returns
 * the slot, whose line goes at slot * ASKED_LINE_LEN. */
size_t asked_note(struct asked_table *t, const char *serial,
    const char mac[MAC_NAME_LEN + 1], int64_t now, char *line);

/* The line of an entry: ASKED_LINE_LEN bytes, no NUL. */
void asked_format(const struct asked_entry *e, char *line);

#endif
