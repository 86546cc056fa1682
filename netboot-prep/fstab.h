/* layer: pure */
/* /etc/fstab for a root on NBD: the lines that mount "/" and the boot
 * partition (/boot/firmware, or /boot) name /dev/nbd0pN instead of a
 * label, a PARTUUID or the SD card, so that a Pi with a card still in it
 * mounts its own partitions from the export. Every other line, comment
 * and option is kept. Pure. */
#ifndef NETBOOT_PREP_FSTAB_H
#define NETBOOT_PREP_FSTAB_H

#include <stddef.h>

#define FSTAB_MAX	65536

struct fstab_report {
	int root_line;		/* 1-based line of "/", 0 if none */
	int boot_line;		/* of the boot partition, 0 if none */
	char boot_dir[32];	/* "/boot/firmware" or "/boot" */
	int changed;		/* lines rewritten */
};

enum fstab_result {
	FSTAB_OK,
	FSTAB_TOO_LONG,
	FSTAB_NO_ROOT,		/* no line mounts "/" */
	FSTAB_BAD,		/* a NUL byte: not a text file */
};

enum fstab_result fstab_rewrite(const char *in, size_t len, int root_part,
    int boot_part, char *out, size_t outlen, struct fstab_report *rep);

#endif
