/* layer: pure */
/* Sizes on the command line: a number of bytes, or of KiB, MiB, GiB or
 * TiB with a K, M, G or T after it (nbdd -q 4G). */
#ifndef NBDD_SIZEARG_H
#define NBDD_SIZEARG_H

#include <stdint.h>

/* 1 and *bytes set when s is such a size that fits 63 bits, else 0. */
int size_parse(const char *s, uint64_t *bytes);

#endif
