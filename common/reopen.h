/* layer: I/O */
/* Opening anew, with other flags, the very file that a descriptor refers
 * to. The daemons look at a name with O_PATH first (no open side effects,
 * no blocking on a FIFO), check its type on that descriptor, and only then
 * open it for reading or writing: through /proc/self/fd/N, which opens the
 * inode itself, so a symlink re-pointed in between cannot make them open
 * something else. tftpd (bootdir, dirsource) and nbdd (claim) share it. */
#ifndef COMMON_REOPEN_H
#define COMMON_REOPEN_H

#include <stdint.h>

/* Returns a new descriptor for the file fd refers to, opened with flags
 * (O_CLOEXEC and O_NOCTTY are always added), or -1 with errno set. The
 * result is always the same inode as fd (same st_dev and st_ino).
 *
 * A FIFO, socket or character device is never opened: EPERM. Opening one
 * blocks or can have effects of its own (a watchdog).
 *
 * Without /proc (a chroot, a container), when path is not NULL, path is
 * opened again relative to dirfd (with openat2(2) and the RESOLVE_* bits
 * in resolve when resolve is not 0, else openat(2)), and the result must be
 * the same inode as fd: ESTALE if another file is there now. This fallback
 * is a second lookup: O_NONBLOCK keeps a FIFO swapped in meanwhile from
 * blocking (it is cleared afterwards unless flags asked for it), and
 * O_NOFOLLOW in flags, which the open through /proc ignores, keeps its
 * last component from being a symlink. With path NULL there is no
 * fallback and the error is /proc's. */
int reopen_fd(int fd, int flags, int dirfd, const char *path,
    uint64_t resolve);

/* reopen_fd with another directory in place of "/proc/self/fd", so tests
 * can take the fallback without unmounting /proc. */
int reopen_fd_via(const char *fddir, int fd, int flags, int dirfd,
    const char *path, uint64_t resolve);

#endif
