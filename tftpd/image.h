/* layer: I/O */
/* Image mode: boot files read straight out of an OS image's FAT partition
 * (MBR, GPT or a bare FAT file system), with no loop device and no mount,
 * so every request sees the image as the Pi's kernel last wrote it. */
#ifndef TFTPD_IMAGE_H
#define TFTPD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tftpd/source.h"

/* A file read with pread(2) through part.h's and fat.h's callback:
 * imgdev_read reads exactly len bytes or returns -1, err then holding the
 * errno (0 when the file ended first). */
struct imgdev {
	int fd;
	int err;
};
int imgdev_read(void *ctx, void *buf, size_t len, uint64_t off);
/* Why the last imgdev_read failed, in words for a reason. */
const char *imgdev_error(const struct imgdev *d);

/* Opens the file at path (relative, '/'-separated, e.g. "overlays/x.dtbo")
 * inside the FAT partition of the image open on imgfd (a regular file or a
 * block device; the caller keeps ownership of imgfd, the source dups what
 * it needs). partition is 0 for the first FAT partition, else 1-128.
 * image_name is the entry, for the reason and the source's read-time log
 * lines. On SOURCE_BROKEN and SOURCE_ERROR, why (whylen bytes) says what
 * is wrong, naming the image and the file it leads to; otherwise it is
 * "". A miss or a directory is SOURCE_NOT_FOUND, ".." out of the
 * partition SOURCE_DENIED, both without a reason. */
enum source_status image_source_open(int imgfd, int partition,
    const char *image_name, const char *path, struct source **out,
    char *why, size_t whylen);

#endif
