/* layer: I/O */
/* Exports: ROOT/NAME.img is export NAME, looked up when a client asks, so
 * an image copied in is there for the next client without a restart. */
#ifndef NBDD_EXPORT_H
#define NBDD_EXPORT_H

#include <sys/types.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbdname.h"
#include "nbdd/imagekind.h"
#include "nbdd/namemax.h"

/* An image in Ceph is (EXPORT_RBD_DEV, rbd_target_key()) where a file is
 * (st_dev, st_ino): no file system has this device number. */
#define EXPORT_RBD_DEV		((dev_t)-1)

struct rbd_export;

struct export {
	int fd;			/* O_RDWR, or O_RDONLY when read_only */
	char name[EXPORT_NAME_MAX + 1];
	uint64_t size;
	int read_only;		/* a shared base, served through overlays
				 * (overlay.h) */
	enum image_kind kind;	/* why it is what it is (imagekind.h) */
	struct image_facts facts;	/* what that was decided from */
	int blockdev;		/* a block device (an LVM volume) */
	dev_t dev;		/* identity of the image, for claims */
	ino_t ino;
	/* An image in Ceph (NAME.img -> rbd:POOL/IMAGE[@SNAP]): which, and
	 * once opened there (rbdexport.h), how; fd is -1. */
	struct rbd_target rbd_target;
	struct rbd_export *rbd;
};

/* An export name nbdd accepts: plain_name_valid() (no '/', NUL, control
 * characters), no leading '.', no "..", room for ".img". */
int export_name_valid(const char *name, size_t len);

enum export_status {
	EXPORT_OK,
	EXPORT_BAD_NAME,	/* refused before any lookup */
	EXPORT_NOT_FOUND,	/* no such image, or not a file or device */
	EXPORT_ERROR,		/* exists but cannot be opened or sized */
	EXPORT_REFUSED,		/* its mode says writable, but nbdd cannot
				 * write it: ex->kind and ex->facts say
				 * why, export_refusal() in words */
	EXPORT_IN_CEPH,		/* a symlink to rbd:POOL/IMAGE[@SNAP]:
				 * ex->name, ex->rbd_target, ex->dev and
				 * ex->ino set, nothing opened; rbdx_open
				 * opens it in the cluster */
};

/* Opens ROOT/NAME.img (rootfd is the root directory): read-write when it
 * is the host's own disk, read-only when it is a shared base (no write
 * permission bit at all, or a block device the kernel holds read-only:
 * imagekind.h). An image whose mode says writable but that nbdd cannot
 * write is not opened: EXPORT_REFUSED. A symlink is followed: the
 * administrator made it; one that dangles on purpose, to an image in
 * Ceph, is EXPORT_IN_CEPH. On failure *why says why in a few words, for
 * the log and the client. */
enum export_status export_open(int rootfd, const char *name, size_t len,
    struct export *ex, const char **why);
void export_close(struct export *ex);

/* After EXPORT_REFUSED: why, and what to run, naming the user nbdd runs as
 * and the image's path under root, for the client and the log. */
void export_refusal(const struct export *ex, const char *root,
    const char *user, char *why, size_t whylen);

/* Transmission flags that tell the truth about this export served
 * directly (read_only set: as a read-only export; nbdd serves a shared
 * base through an overlay instead, as a writable disk). */
uint16_t export_flags(const struct export *ex, int structured,
    int multi_conn);

/* Calls fn for every NAME.img in the root now (images in Ceph too), in
 * directory order;
 * stops early when fn returns non-zero. Returns 0, or -1 (errno set) if
 * the root cannot be read. */
int export_list(int rootfd, int (*fn)(void *ctx, const char *name,
    size_t len), void *ctx);

#endif
