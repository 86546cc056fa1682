/* layer: I/O */
/* -U FILE: the record of machines that asked for a boot and have no
 * entry (common/asked.h), which netboot-prep -L reads. The file is
 * opened before privileges are dropped and written in place, one line
 * per machine, so that it never grows past ASKED_FILE_LEN bytes. */
#ifndef DHCPPROXYD_UNKNOWN_H
#define DHCPPROXYD_UNKNOWN_H

#include <stddef.h>
#include <stdint.h>

#include "common/asked.h"

struct unknown_record {
	int fd;				/* -1: no -U */
	const char *path;
	struct asked_table table;
	int write_failed;		/* said once, until a write works */
};

/* Opens (creating it, mode 0644) and loads path. Returns 0, or -1 with
 * errno and why. */
int unknown_open(struct unknown_record *r, const char *path, char *why,
    size_t whylen);

/* Notes that the machine asked now; logs a failed write once. */
void unknown_note(struct unknown_record *r, const char *serial,
    const uint8_t mac[6]);

#endif
