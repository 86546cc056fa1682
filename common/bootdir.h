/* layer: I/O */
/* The one lookup of an entry in the boot directory, ROOT/NAME, that tftpd,
 * dhcpproxyd and nbdd share. NAME is a single plain name; a symlink there
 * was made by the administrator and is followed wherever it points. */
#ifndef COMMON_BOOTDIR_H
#define COMMON_BOOTDIR_H

#include <stddef.h>

#include "common/bootname.h"
#include "common/rbdname.h"

/* Opens ROOT/NAME read-only (rootfd is the root directory). On DIR or FILE
 * stores an O_CLOEXEC descriptor in *fdp that the caller closes. FIFOs,
 * sockets and character devices are BROKEN and are never opened: the
 * entry is looked up with O_PATH, its type checked on that descriptor,
 * and that very inode opened (reopen_fd), so a symlink re-pointed in
 * between cannot slip one in. A name that is not plain is NONE.
 *
 * Picking a partition: when NAME is a symlink whose target ends in "#N"
 * (ln -s '../ubuntu.img#2' abcd1234) and the target as written does not
 * exist, the target without the suffix is opened and N (1-128) is stored
 * in *partition; otherwise *partition is 0, "the first FAT partition".
 * partition may be NULL. On RBD, *fdp is -1 (bootdir_rbd names the
 * image) and *partition is set as for a file.
 *
 * why (whylen bytes, at least 1) is "" unless the entry is BROKEN; then
 * it names the entry, its target and the reason, printable:
 * "abcd1234 -> ../nosuch.img: No such file or directory". */
enum boot_entry_type bootdir_open(int rootfd, const char *name, size_t len,
    int *fdp, int *partition, char *why, size_t whylen);

/* ROOT/NAME when it is an image in Ceph (BOOT_ENTRY_RBD, as bootdir_open
 * says): the image in *t, and the partition picked by "#N" in *partition
 * (as bootdir_open; may be NULL). An entry that leads to "rbd:" but names
 * no image as rbdname.h has it is BROKEN, why saying so. Any other answer
 * is what bootdir_open would say, the entry having changed meanwhile. */
enum boot_entry_type bootdir_rbd(int rootfd, const char *name, size_t len,
    struct rbd_target *t, int *partition, char *why, size_t whylen);

/* What ROOT/NAME is, as bootdir_open would say, looked up and never
 * opened: it cannot tell whether another user could read it. */
enum boot_entry_type bootdir_look(int rootfd, const char *name, char *why,
    size_t whylen);

#endif
