/* layer: I/O */
/* What the transmission phase's commands act on: an image written
 * directly (blockops.c), or a host's copy-on-write overlay over a shared
 * base (overlay.c). The same calls either way, so transmit.c carries out
 * one plan for both. Every operation returns 0 (or a count, or a
 * descriptor), or -1 with errno. */
#ifndef NBDD_BACKEND_H
#define NBDD_BACKEND_H

#include <stdint.h>

#include "nbdd/blockops.h"

struct backend {
	int (*read)(void *s, void *buf, uint32_t len, uint64_t off);
	int (*write)(void *s, const void *buf, uint32_t len, uint64_t off,
	    int fua);
	int (*flush)(void *s);
	int (*trim)(void *s, uint64_t off, uint32_t len, int fua);
	int (*zero)(void *s, uint64_t off, uint32_t len, int no_hole,
	    int fast, int fua);
	int (*cache)(void *s, uint64_t off, uint32_t len);
	int (*extents)(void *s, uint64_t off, uint32_t len,
	    struct blk_extent *out, int max);
	/* For sendfile(): the descriptor holding the bytes at off, and how
	 * many of them (up to len, at least 1) it holds in a row. */
	int (*source)(void *s, uint64_t off, uint32_t len, uint32_t *run);
};

/* s is a struct export *. */
extern const struct backend backend_image;
/* s is a struct overlay *. */
extern const struct backend backend_overlay;

#endif
