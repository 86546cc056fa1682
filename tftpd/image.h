/* Image mode: boot files read straight out of an OS image's FAT partition
 * (MBR, GPT or a bare FAT file system), with no loop device and no mount,
 * so every request sees the image as the Pi's kernel last wrote it. */
#ifndef TFTPD_IMAGE_H
#define TFTPD_IMAGE_H

#include "tftpd/source.h"

/* Opens the file at path (relative, '/'-separated, e.g. "overlays/x.dtbo")
 * inside the FAT partition of the image open on imgfd (a regular file or a
 * block device; the caller keeps ownership of imgfd, the source dups what
 * it needs). partition is 0 for the first FAT partition, else 1-128.
 * image_name is for log lines. */
enum source_status image_source_open(int imgfd, int partition,
    const char *image_name, const char *path, struct source **out);

#endif
