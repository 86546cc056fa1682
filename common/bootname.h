/* layer: pure */
/* What a boot directory's entries are called and what a lookup finds,
 * without looking: the names tftpd, dhcpproxyd and nbdd accept as plain,
 * and the kinds of entry bootdir.h reports and bootpick.h weighs. */
#ifndef COMMON_BOOTNAME_H
#define COMMON_BOOTNAME_H

#include <stddef.h>

enum boot_entry_type {
	BOOT_ENTRY_NONE,	/* no such name in the root */
	BOOT_ENTRY_DIR,		/* a directory of boot files */
	BOOT_ENTRY_FILE,	/* a regular file or block device: a plain
				 * boot file or an OS image */
	BOOT_ENTRY_BROKEN,	/* the name is there, but nothing boots from
				 * it: a symlink that dangles or loops, a
				 * target that is a FIFO, socket or
				 * character device, "#N" on a directory, or
				 * one this process may not open. An entry
				 * that is there is never passed over for
				 * another (bootpick.h). */
	BOOT_ENTRY_RBD,		/* an image in Ceph: the entry leads, link by
				 * link, to a symlink whose target is
				 * rbd:POOL/IMAGE[@SNAP] (rbdname.h), dangling
				 * as a file on purpose; bootdir_rbd says
				 * which */
};

/* A plain name: 1 to NAME_MAX bytes, no '/', no NUL, no control
 * characters, not "." or "..". len is the length as received, so an
 * embedded NUL is caught. Returns 1 if valid. nbdd uses it for export
 * names too. */
int plain_name_valid(const char *name, size_t len);

#endif
