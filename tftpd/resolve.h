/* layer: I/O */
/* From a requested file name to a source: the layout's rules. The first
 * component names an entry of the root (bootdir_open: an administrator's
 * symlink there is followed); the rest is resolved beneath a directory
 * entry, or inside an image entry's FAT partition. A serial or MAC entry's
 * name with no entry of its own is served from "default"; one whose entry
 * is broken is refused, never served from default (bootpick.h). A request
 * of one component gets only a plain file of the root: an entry is never
 * sent as a file. Nothing is cached: each request looks again, so
 * re-pointing a symlink takes effect at once. */
#ifndef TFTPD_RESOLVE_H
#define TFTPD_RESOLVE_H

#include <stddef.h>

#include "tftpd/source.h"

/* Opens the source for name (len bytes as received) under the root
 * directory open on rootfd. Leading '/' are ignored. A request of one
 * component (also spelt "abcd1234/" or "abcd1234/.") is served only when
 * the root's own directory entry of that name is a regular file (a symlink
 * there is an entry and is not followed), not named like a serial, a MAC
 * entry or "default", and not an OS image: exposure.h's rules.
 *
 * Logs nothing. why (whylen bytes, at least 1; SOURCE_WHY_LEN holds any)
 * is "" on success and on a plain miss. It holds the reason on a refusal
 * worth telling the administrator (SOURCE_NOT_FOUND for an entry asked
 * for as a file, a FIFO or a device in the root), on SOURCE_BROKEN and on
 * SOURCE_ERROR. */
enum source_status resolve_open(int rootfd, const char *name, size_t len,
    struct source **out, char *why, size_t whylen);

/* As resolve_open, for a tftpd with a Ceph cluster (-C): a request that
 * leads to an image in Ceph is not opened here, where the cluster would
 * be waited on, but returns SOURCE_IN_CEPH with job's target, partition,
 * entry, path (in the partition) and name (as requested, printable) set,
 * for rbdfetch.h. With job NULL, as resolve_open: such a request is
 * refused, naming -C. */
struct rbdfetch_job;
enum source_status resolve_open_ceph(int rootfd, const char *name,
    size_t len, struct rbdfetch_job *job, struct source **out, char *why,
    size_t whylen);

/* Opens path beneath the directory dirfd: no "..", absolute path or
 * symlink may leave it, and only a regular file is opened. logname names
 * the file in the source. why as for resolve_open: a reason on
 * SOURCE_ERROR only. */
enum source_status dirsource_open(int dirfd, const char *path,
    const char *logname, struct source **out, char *why, size_t whylen);

/* A source for an open regular file; takes ownership of fd. why as for
 * dirsource_open. */
enum source_status filesource_new(int fd, const char *logname,
    struct source **out, char *why, size_t whylen);

#endif
