/* layer: pure */
/* Names the tool is given: the image's name (NBD export NAME,
 * /srv/NAME.img, nbdroot=SERVER/NAME) and a Pi to enrol (--pi SERIAL
 * or MAC). Pure. */
#ifndef NETBOOT_PREP_NAMES_H
#define NETBOOT_PREP_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "common/piid.h"

#define PREP_NAME_MAX	64

/* Letters, digits, '.', '_' and '-', not starting with '.' or '-', no
 * "..": an export nbdd serves and a word the initramfs's nbdroot= parser
 * takes as it is. Returns NULL, or why not. */
const char *prep_name_check(const char *name);

/* A Pi as --pi names it: a serial as /proc/cpuinfo or the boot prefix
 * shows it (10000000abcd1234, abcd1234) or a MAC (dc:a6:32:01:36:c2,
 * dc-a6-32-01-36-c2, any case). entry gets the boot entry's name.
 * Returns NULL, or why not. */
const char *pi_entry_name(const char *arg, char entry[MAC_NAME_LEN + 1]);

/* A size: digits and an optional K, M, G or T (powers of 1024), "B"
 * allowed after it (4G, 4GiB, 8000M). Returns 0, or -1. */
int prep_size_parse(const char *s, uint64_t *bytes);

#endif
