/* layer: I/O */
/* Where a file holds data and where holes, from SEEK_DATA and SEEK_HOLE. */
#ifndef NBDD_FDEXTENTS_H
#define NBDD_FDEXTENTS_H

#include <stdint.h>

#include "nbdd/blockmap.h"

/* Fills up to max extents describing [off, off + len) of fd, merged by
 * kind, and returns how many (at least 1 when len > 0), or -1 with errno.
 * They may cover less than len when max runs out. all_data: the file is
 * a device, which has no holes to report. A file system without
 * SEEK_DATA calls everything data; a hole past the end of the file reads
 * as zeroes and is called a hole. */
int fd_extents(int fd, int all_data, uint64_t off, uint64_t len,
    struct bm_extent *out, int max);

/* Bytes of [off, off + len) of fd that are holes: what writing the range
 * would newly allocate. 0, or -1 with errno. */
int fd_hole_bytes(int fd, uint64_t off, uint64_t len, uint64_t *holes);

#endif
