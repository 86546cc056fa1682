/* The one lookup of an entry in the boot directory, ROOT/NAME, that tftpd
 * and dhcpproxyd share. NAME is a single plain name; a symlink there was
 * made by the administrator and is followed wherever it points. */
#ifndef COMMON_BOOTDIR_H
#define COMMON_BOOTDIR_H

#include <stddef.h>

enum boot_entry_type {
	BOOT_ENTRY_NONE,	/* missing, dangling, or not servable */
	BOOT_ENTRY_DIR,		/* a directory of boot files */
	BOOT_ENTRY_FILE,	/* a regular file or block device: a plain
				 * boot file or an OS image */
};

/* A plain name: 1 to NAME_MAX bytes, no '/', no NUL, no control
 * characters, not "." or "..". len is the length as received, so an
 * embedded NUL is caught. Returns 1 if valid. nbdd uses it for export
 * names too. */
int plain_name_valid(const char *name, size_t len);

/* Opens ROOT/NAME read-only (rootfd is the root directory). On DIR or FILE
 * stores an O_CLOEXEC descriptor in *fdp that the caller closes. FIFOs,
 * sockets and character devices are NONE and are never opened: the entry
 * is looked up with O_PATH, its type checked on that descriptor, and that
 * very inode opened (reopen_fd), so a symlink re-pointed in between
 * cannot slip one in.
 *
 * Picking a partition: when NAME is a symlink whose target ends in "#N"
 * (ln -s '../ubuntu.img#2' abcd1234) and the target as written does not
 * exist, the target without the suffix is opened and N (1-128) is stored
 * in *partition; otherwise *partition is 0, "the first FAT partition".
 * partition may be NULL. */
enum boot_entry_type bootdir_open(int rootfd, const char *name, size_t len,
    int *fdp, int *partition);

/* Whether ROOT/NAME exists as DIR or FILE: looked up, never opened. */
int bootdir_has(int rootfd, const char *name);

#endif
