/* layer: I/O */
/* Shared bases: an image nbdd may not write is served to any number of
 * hosts at once, each through a private copy-on-write overlay. A host sees
 * a writable disk; its writes land in its overlay, reads of blocks it
 * never wrote come from the base, and the base is never written (the
 * overlay reads it through a descriptor of its own, opened read-only).
 *
 * An overlay is a sparse file as large as the base, made with O_TMPFILE
 * (or created and unlinked at once where the file system lacks it), so
 * nothing is left on disk when nbdd stops or crashes; a block the host
 * wrote sits at its own offset there. In memory it costs one bit per
 * 4 KiB block of the base (nbdd/blockmap.h).
 *
 * The registry: overlays are keyed by (owner, export name) and shared by
 * every connection of that owner (multi-conn). The owner is the client's
 * address, and over TLS the identity that connected from it too
 * (ovlpolicy.h): two Pis behind one address never share an overlay, and
 * one that takes over a dead Pi's address does not get its disk. When
 * the last connection closes, the overlay is kept for a grace period, so
 * a host whose client reconnects after a network blip finds its writes
 * again; then it is discarded. An overlay in its grace period is never
 * discarded early to make room: a new owner is refused instead. The key
 * is the name, not the base file: a host that reconnects, or opens a
 * second connection, after the administrator renamed a new base over the
 * old one must keep the base its overlay was made over, or its
 * connections would see two different disks. An owner without an overlay
 * gets one over whatever the name is now.
 *
 * Thread-safe: connections of one host call the operations on one
 * overlay at once. The operations have the shape of nbdd/blockops.h:
 * 0 (or a count) on success, -1 with errno. */
#ifndef NBDD_OVERLAY_H
#define NBDD_OVERLAY_H

#include <sys/types.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ratelimit.h"
#include "nbdd/blockops.h"
#include "nbdd/claim.h"
#include "nbdd/export.h"

#define OVL_HOST_MAX_DEFAULT	(4ULL << 30)	/* bytes per host */
/* As long as keepalive takes to drop a dead peer (nbdd(8), KEEPALIVE). */
#define OVL_GRACE_MS_DEFAULT	60000

/* A TLS identity is a plain name (tls.h); with the address, an owner
 * for log lines. */
#define OVL_IDENTITY_MAX	(NAME_MAX + 1)
#define OVL_WHO_MAX		(CLAIM_HOST_MAX + OVL_IDENTITY_MAX + 4)

struct overlay;
struct ovl_host;
struct rbd_base;

/* What overlays may take. */
struct ovl_limits {
	uint64_t host_max;		/* bytes one owner's overlays may hold
					 * on disk (-q); 0: no limit */
	uint64_t total_max;		/* bytes all of them together may
					 * (-Q); 0: no limit */
	int64_t grace_ms;		/* kept this long after the last
					 * connection; 0: discarded at once */
	int max_overlays;		/* in use and in their grace period
					 * together; 0: no limit */
};

struct ovl_registry {
	pthread_mutex_t lock;
	struct overlay *list;
	struct ovl_host *hosts;
	int dirfd;			/* where overlay files are made */
	char dir[PATH_MAX];		/* its name, for messages */
	uint64_t host_max;		/* struct ovl_limits' */
	uint64_t total_max;
	int64_t grace_ms;
	int max_overlays;
	int count;			/* overlays now */
	uint64_t total_used;		/* atomic: bytes every owner's
					 * overlays hold and have promised to
					 * writes in flight */
	pthread_mutex_t log_lock;	/* full_log */
	struct ratelimit full_log;	/* lines about the limits, which
					 * hosts cause at will */
	int64_t (*now_ms)(void);	/* a monotonic clock in ms */
};

/* Opens dir and proves an overlay file can be made there. now_ms NULL is
 * the daemon's clock; tests pass their own. Returns 0, or -1 with errno
 * and why naming the directory. Call it as the user nbdd serves as. */
int ovl_registry_init(struct ovl_registry *r, const char *dir,
    const struct ovl_limits *lim, int64_t (*now_ms)(void), char *why,
    size_t whylen);
/* Discards every overlay; none may be in use. */
void ovl_registry_destroy(struct ovl_registry *r);

/* The overlay of the owner (host, and identity: NULL or "" for none) for
 * export base->name: its existing one (whatever file the name is now),
 * or a fresh one over base, which must be open (the overlay takes a
 * read-only descriptor of its own; the caller keeps base). Takes a
 * reference. NULL with errno and why on failure: ENOSPC when
 * max_overlays are made already (in use or in their grace periods: none
 * is discarded early for a newcomer), logged, rate-limited. */
struct overlay *ovl_get(struct ovl_registry *r, const struct export *base,
    const char *host, const char *identity, char *why, size_t whylen);
/* The existing overlay of the owner for name, with a reference, or
 * NULL. */
struct overlay *ovl_find(struct ovl_registry *r, const char *name,
    const char *host, const char *identity);
/* Drops a reference; the last starts the grace period. */
void ovl_put(struct ovl_registry *r, struct overlay *o);
/* Drops the reference of a connection whose client said it is done
 * (NBD_CMD_DISC): when it is the last, the overlay is discarded at once,
 * with no grace period. */
void ovl_put_done(struct ovl_registry *r, struct overlay *o);
/* How many overlays are made over the image dev/ino (export.h's identity),
 * in use or in their grace period: such an image must not be written. */
int ovl_base_users(struct ovl_registry *r, dev_t dev, ino_t ino);
/* Discards the overlays whose grace period is over. Returns the ms until
 * the next one ends, or -1 when none is waiting. ovl_get and ovl_put do
 * this too; a daemon calls it from its loop so that space comes back
 * when no host comes or goes. */
int64_t ovl_expire(struct ovl_registry *r);

/* What the overlay's host sees: the size of the base it was made over. */
uint64_t ovl_size(const struct overlay *o);
/* Bytes of memory the overlay holds (its map and itself). */
size_t ovl_memory(const struct overlay *o);
/* Blocks the host has written, zeroed or trimmed. */
uint64_t ovl_blocks(const struct overlay *o);

/* The commands. Ranges must lie inside ovl_size() (EINVAL otherwise).
 *
 * FLUSH and FUA promise nothing more than a plain write: the overlay
 * lives no longer than nbdd does, so there is no stable storage to
 * reach; a write is seen by every connection of the host once answered.
 * TRIM makes the blocks it covers whole read as zeroes (they are marked
 * as the overlay's and punched out of it); the partial blocks at its
 * edges are left as they are, as TRIM is advisory. On a file system that
 * cannot punch holes it changes nothing. WRITE ZEROES zeroes the whole
 * range; no_hole keeps it allocated; fast fails with EOPNOTSUPP rather
 * than write zeroes by hand (on a file system that cannot punch holes,
 * the zeroes take space as written ones do, and are counted so). A
 * mutation answers EDQUOT when the owner's overlays would outgrow
 * host_max, or all overlays together total_max (nothing is written
 * then), ENOSPC when the file system is full (it may have been applied in
 * part, as on any disk); neither ever reaches the base. */
int ovl_read(struct overlay *o, void *buf, uint32_t len, uint64_t off);
int ovl_write(struct overlay *o, const void *buf, uint32_t len,
    uint64_t off, int fua);
int ovl_flush(struct overlay *o);
int ovl_trim(struct overlay *o, uint64_t off, uint32_t len, int fua);
int ovl_zero(struct overlay *o, uint64_t off, uint32_t len, int no_hole,
    int fast, int fua);
int ovl_cache(struct overlay *o, uint64_t off, uint32_t len);
/* The merged view: holes and zeroes of the overlay for blocks the host
 * wrote, of the base for the others. Up to max extents from off; returns
 * how many (at least 1), or -1 with errno. */
int ovl_extents(struct overlay *o, uint64_t off, uint32_t len,
    struct blk_extent *out, int max);

/* Where the bytes at off come from, for sendfile(): the descriptor to
 * read them from and how many of them (up to len) that one holds. */
int ovl_source(struct overlay *o, uint64_t off, uint32_t len,
    uint32_t *run);

/* For a READ gathered in parts (rbdxmit.c): the base's handle in Ceph
 * (NULL for a base in a file); whether the bytes at off are the
 * overlay's (*present) and up to where in [off, end) that holds; and the
 * overlay's own bytes of such a run. A block's bit is set before the
 * WRITE that put it there is answered, so a READ that looks after that
 * answer reads the overlay's bytes, never the base's. */
struct rbd_base *ovl_base_rbd(const struct overlay *o);
uint64_t ovl_run(const struct overlay *o, uint64_t off, uint64_t end,
    int *present);
int ovl_read_own(struct overlay *o, void *buf, uint64_t len, uint64_t off);

/* A new unnamed file in dirfd, open read-write: O_TMPFILE when
 * try_tmpfile and the file system has it, else created under a random
 * hidden name and unlinked at once. -1 with errno. */
int ovl_tmpfile(int dirfd, int try_tmpfile);

#endif
