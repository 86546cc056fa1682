/* layer: pure */
/* What an image is to nbdd: a Pi's own disk (written directly, one writer
 * at a time), a shared base (served through per-host overlays), or a
 * mistake that is refused. A shared base is a deliberate choice that the
 * mode states: no write permission bit at all, or a block device the
 * kernel holds read-only. An image whose mode says writable but that
 * nbdd's user cannot write is a mistake of ownership, never silently a
 * throwaway: the Pi's writes would vanish with its overlay.
 *
 * Pure: facts from stat(2), an open for writing and BLKROGET in; the kind,
 * and the words for it, out. */
#ifndef NBDD_IMAGEKIND_H
#define NBDD_IMAGEKIND_H

#include <sys/types.h>
#include <stddef.h>

enum image_kind {
	IMAGE_OWN,		/* written directly: one writer at a time */
	IMAGE_BASE_NO_WRITE_BIT,	/* a shared base: chmod a-w */
	IMAGE_BASE_DEVICE_RO,	/* a shared base: blockdev --setro */
	IMAGE_BASE_SNAPSHOT,	/* a shared base: an RBD snapshot
				 * (rbd:POOL/IMAGE@SNAP), read-only in Ceph */
	/* Refused: the mode says writable, but nbdd cannot write it. */
	IMAGE_NOT_OURS,		/* its user may not (EACCES) */
	IMAGE_READ_ONLY_FS,	/* on a file system mounted read-only */
	IMAGE_NOT_PERMITTED,	/* EPERM: immutable, append-only, or an LSM */
	IMAGE_BUSY,		/* ETXTBSY: a swap file, a running program */
};

struct image_facts {
	mode_t mode;		/* st_mode, symlinks followed */
	uid_t owner;		/* st_uid */
	uid_t self;		/* the user nbdd runs as (geteuid) */
	int write_errno;	/* 0: it opened for writing; else that open's
				 * errno. Not asked for a mode without any
				 * write bit. */
	int device_ro;		/* a block device with BLKROGET set */
};

/* Whether the image is to be opened for writing at all: a mode without a
 * write bit is a base whoever nbdd runs as, root (whom the bits would not
 * stop) included. */
int image_try_write(mode_t mode);

/* The kind, or -1 when write_errno is no answer this file knows (an I/O
 * error: the open fails with it). */
int image_kind(const struct image_facts *f);

int image_kind_is_base(enum image_kind k);
int image_kind_is_refused(enum image_kind k);

/* Why the image is what it is, a phrase for log lines: "its mode has no
 * write permission bit", "nbdd's user nbd cannot write it though its
 * mode says writable". user is the name nbdd runs as. */
void image_kind_reason(enum image_kind k, const char *user, char *out,
    size_t outlen);

/* For a refused kind: what to run, naming user and the image's path
 * ("chown nbd /srv/lab.img if it is one Pi's disk, or chmod a-w
 * /srv/lab.img to share it as a base"). Empty for the other kinds. */
void image_kind_fix(const struct image_facts *f, enum image_kind k,
    const char *user, const char *path, char *out, size_t outlen);

/* --- the start-up census ------------------------------------------------ */

/* At start-up nbdd lists the images and says which are shared bases and
 * which will be refused, so that a mistake of ownership shows before a Pi
 * boots. */

/* What export_open said of one image. */
enum census_outcome {
	CENSUS_OPENED,		/* EXPORT_OK */
	CENSUS_REFUSED,		/* EXPORT_REFUSED */
	CENSUS_IN_CEPH,		/* EXPORT_IN_CEPH: looked up in the cluster
				 * when a client asks */
	CENSUS_OTHER,		/* gone, or an error each client will see */
};

/* The line the image gets in the start-up log. */
enum census_line {
	CENSUS_LINE_NONE,
	CENSUS_LINE_BASE,	/* info: a shared base, and why */
	CENSUS_LINE_REFUSED,	/* warning: refused until fixed, and the fix */
	CENSUS_LINE_CEPH_NO_CLUSTER,	/* warning: in Ceph, but nbdd has no
					 * -C to look it up in */
};

struct image_census {
	int own, bases, refused, ceph;
};

/* Counts one image: read_only is export_open's (a shared base), cluster
 * whether nbdd has -C. Returns the line it gets. */
enum census_line image_census_add(struct image_census *c,
    enum census_outcome o, int read_only, int cluster);

/* The summary line: "images now: 3 written directly, 1 shared base, 0
 * refused, 0 in Ceph (looked up again for every client)". */
void image_census_describe(const struct image_census *c, char *out,
    size_t outlen);

#endif
