/* layer: pure */
/* The PSK file, as psktool(1) writes it: one "USER:HEXKEY" line per
 * client. Pure: the loader (tlscreds.c) reads the file and calls these
 * line by line; the fuzzer calls them directly. */
#ifndef NBDD_PSKFILE_H
#define NBDD_PSKFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define PSK_USER_MAX	NAME_MAX	/* a user is an identity: a plain name */
#define PSK_KEY_MIN	16		/* 128 bits; psktool makes 32 bytes */
#define PSK_KEY_MAX	512		/* psktool's largest */

struct psk_entry {
	char user[PSK_USER_MAX + 1];
	uint8_t key[PSK_KEY_MAX];
	size_t keylen;
};

enum psk_line {
	PSK_LINE_OK,		/* *e holds a user and its key */
	PSK_LINE_EMPTY,		/* nothing on it: skipped */
	PSK_LINE_NO_COLON,
	PSK_LINE_BAD_USER,	/* not a plain name (or psktool's "#HEX" form,
				 * which only names that are not plain need) */
	PSK_LINE_BAD_HEX,	/* an odd number of digits, or not hex */
	PSK_LINE_SHORT_KEY,	/* under PSK_KEY_MIN bytes */
	PSK_LINE_LONG_KEY,	/* over PSK_KEY_MAX bytes */
};

/* Parses one line (without its newline; len bytes, no NUL needed). */
enum psk_line psk_parse_line(const char *line, size_t len,
    struct psk_entry *e);

/* What a result means, for "FILE line N: ..." messages. */
const char *psk_line_error(enum psk_line r);

#endif
