/* From a requested file name to a source: the layout's rules. The first
 * component names an entry of the root (bootdir_open: an administrator's
 * symlink there is followed); the rest is resolved beneath a directory
 * entry, or inside an image entry's FAT partition. A request of one
 * component gets only a plain file of the root: an entry is never sent as
 * a file. Nothing is cached: each request looks again, so re-pointing a
 * symlink takes effect at once. */
#ifndef TFTPD_RESOLVE_H
#define TFTPD_RESOLVE_H

#include <stddef.h>

#include "tftpd/source.h"

/* Opens the source for name (len bytes as received) under the root
 * directory open on rootfd. Leading '/' are ignored. A request of one
 * component (also spelt "abcd1234/" or "abcd1234/.") is served only when
 * the root's own directory entry of that name is a regular file (a symlink
 * there is an entry and is not followed), not named like a serial, a MAC
 * entry or "default", and not an OS image.
 *
 * On a refusal worth telling the administrator (an entry asked for as a
 * file, a FIFO or a device in the root), *why says why in a few words, for
 * one info line; otherwise it is NULL (a plain miss: debug). */
enum source_status resolve_open(int rootfd, const char *name, size_t len,
    struct source **out, const char **why);

/* Opens path beneath the directory dirfd: no "..", absolute path or
 * symlink may leave it, and only a regular file is opened. logname names
 * the file in log lines and in the source. */
enum source_status dirsource_open(int dirfd, const char *path,
    const char *logname, struct source **out);

/* A source for an open regular file; takes ownership of fd. */
enum source_status filesource_new(int fd, const char *logname,
    struct source **out);

/* Wraps a source so it reads as netascii (LF -> CR LF, CR -> CR NUL).
 * Takes ownership of inner. Reads are meant to be sequential; a read at
 * another offset rescans from the start. Its size is unknown (the tsize
 * option is not answered). */
enum source_status netascii_wrap(struct source *inner, struct source **out);

#endif
