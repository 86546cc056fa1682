/* layer: I/O */
/* Where a symlink that dangles on purpose leads: a chain of symlinks
 * (/srv/boot/abcd1234 -> ../lab.img, /srv/lab.img -> rbd:rbd/lab@v2)
 * whose last target is an "rbd:" name (rbdname.h). Each link is read
 * relative to the directory that holds it, as the kernel would resolve
 * it; the rbd: name itself is never looked up as a path. Called only
 * after an open found nothing there (ENOENT), so a layout without RBD
 * pays nothing for it. */
#ifndef COMMON_RBDLINK_H
#define COMMON_RBDLINK_H

#include <stddef.h>

/* Links followed at most, as the kernel's limit for a path. */
#define RBDLINK_HOPS	40

/* Follows path (relative to dirfd, or absolute) link by link. 1 when the
 * chain ends in a target starting with "rbd:", written to target
 * (tlen bytes, NUL-terminated; the whole of it, or ENAMETOOLONG); 0 when
 * it ends anywhere else (something that exists, a name that does not, a
 * directory missing on the way); -1 with errno (ELOOP past RBDLINK_HOPS,
 * ENAMETOOLONG). */
int rbdlink_read(int dirfd, const char *path, char *target, size_t tlen);

#endif
