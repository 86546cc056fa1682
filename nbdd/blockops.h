/* layer: I/O */
/* What each command does to the image. Every function returns 0, or -1
 * with errno; none of them touch the socket. */
#ifndef NBDD_BLOCKOPS_H
#define NBDD_BLOCKOPS_H

#include <stddef.h>
#include <stdint.h>

#include "nbdd/export.h"
#include "nbdd/extent.h"

int blk_read(const struct export *ex, void *buf, uint32_t len, uint64_t off);
/* fua: answered only once the data is on stable storage (RWF_DSYNC). */
int blk_write(const struct export *ex, const void *buf, uint32_t len,
    uint64_t off, int fua);
int blk_flush(const struct export *ex);
/* Punches a hole, so the image stays sparse. Advisory: a file system
 * that cannot punch holes is not an error. */
int blk_trim(const struct export *ex, uint64_t off, uint32_t len, int fua);
/* no_hole: keep the range allocated. fast: fail (errno EOPNOTSUPP)
 * rather than write zeroes by hand. */
int blk_zero(const struct export *ex, uint64_t off, uint32_t len,
    int no_hole, int fast, int fua);
int blk_cache(const struct export *ex, uint64_t off, uint32_t len);

/* Fills up to max extents covering [off, off + len) from SEEK_DATA and
 * SEEK_HOLE; returns how many (at least 1), or -1 with errno. */
int blk_extents(const struct export *ex, uint64_t off, uint32_t len,
    struct blk_extent *out, int max);

#endif
