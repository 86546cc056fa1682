/* layer: I/O */
/* Image mode: boot files read straight out of an OS image's FAT partition
 * (MBR, GPT or a bare FAT file system), with no loop device and no mount,
 * so every request sees the image as the Pi's kernel last wrote it. */
#ifndef TFTPD_IMAGE_H
#define TFTPD_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tftpd/source.h"

/* An image read through part.h's and fat.h's callback: a file with
 * pread(2), or one elsewhere (in Ceph: rbdimage.h) through its own read
 * call, which reads exactly len bytes and returns 0, or a negative errno
 * (0 for "ended first" is -ENODATA). imgdev_read reads exactly len bytes
 * or returns -1, err then holding the errno (0 when the image ended
 * first). */
struct imgdev {
	int fd;			/* -1 for an image elsewhere */
	int err;
	int (*read)(void *h, void *buf, size_t len, uint64_t off);
	void (*close)(void *h);	/* NULL for a file */
	void *h;
	/* Where a failed read's reason goes instead of a log line: a
	 * caller away from the event loop logs it through the request
	 * port's rate limit (rbdfetch.h). NULL: logged at once. */
	char *fail_why;
	size_t fail_whylen;
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

/* As image_source_open, for an image elsewhere, read through dev (its
 * read, close and h; dev->fd -1), size bytes long, named in reasons and
 * log lines as "image_name (what)". The source takes dev over: it is
 * closed with the source, or at once when opening fails. */
enum source_status image_source_open_dev(const struct imgdev *dev,
    uint64_t size, const char *what, int partition, const char *image_name,
    const char *path, struct source **out, char *why, size_t whylen);

#endif
