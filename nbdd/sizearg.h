/* layer: pure */
/* Sizes on the command line: a number of bytes, or of KiB, MiB, GiB or
 * TiB with a K, M, G or T after it (nbdd -q 4G). */
#ifndef NBDD_SIZEARG_H
#define NBDD_SIZEARG_H

#include <stdint.h>

/* A size flag not given: never a size size_parse yields, which all fit
 * 63 bits. */
#define SIZE_UNSET	UINT64_MAX

/* 1 and *bytes set when s is such a size that fits 63 bits, else 0. */
int size_parse(const char *s, uint64_t *bytes);

/* A size flag's argument (-q, -Q) into *bytes: NULL, or why not, in the
 * shape of common/cmdline.h's flag parsers. */
const char *size_flag(const char *arg, uint64_t *bytes);

#endif
