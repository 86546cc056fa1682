/* layer: pure */
/* One writer per image: how an opened image is served to the host that
 * asked for it. A writable image is the host's own disk, written directly
 * under a claim (claim.h; for an image in Ceph, RBD's exclusive lock,
 * rbdclaim.h). A read-only one is a shared base: the host writes to its
 * own copy-on-write overlay over it (overlay.h). The two never meet: an
 * image that is a base to some hosts now (made writable since) is not
 * written directly until their overlays are gone, and one a host writes
 * directly (made read-only since) is no base until that host is gone.
 *
 * Pure: facts about the image, the overlays and the claims in; what to
 * take, or the refusal and its words, out. */
#ifndef NBDD_ONEWRITER_H
#define NBDD_ONEWRITER_H

#include <stddef.h>

#include "nbdd/options.h"

enum onewriter {
	ONEWRITER_CLAIM,		/* written directly: claim.c's claim */
	ONEWRITER_CLAIM_RBD,		/* ... in Ceph: rbdclaim.c's */
	ONEWRITER_OVERLAY,		/* a shared base: the host's overlay */
	/* Refused: */
	ONEWRITER_BASE_IN_USE,		/* writable, but a base to others */
	ONEWRITER_WRITTEN_DIRECTLY,	/* read-only, but a host writes it */
	ONEWRITER_NO_OVERLAYS,		/* read-only, and no overlay
					 * directory could be used */
};

struct onewriter_facts {
	int read_only;		/* export.h's read_only: a shared base */
	int in_ceph;		/* an image in Ceph (rbd:) */
	int overlays;		/* an overlay directory is in use */
	/* What the claims and the overlays say of the image now. Each is
	 * asked of the registry or the claims only where it can matter, a
	 * lock each time: base_users of a writable image (0 for a read-only
	 * one or without overlays), written_directly of a read-only one
	 * (0 for a writable one or without overlays). */
	int base_users;		/* overlays over it */
	int written_directly;	/* a host holds its claim */
};

enum onewriter onewriter_decide(const struct onewriter_facts *f);

/* What the client is told a refusal is: another writer
 * (OPT_OPEN_CLAIMED, its words the whole message) or an image that
 * cannot be served (OPT_OPEN_ERROR). OPT_OPEN_OK for the others. */
enum opt_open_status onewriter_status(enum onewriter d);

/* A refusal's words, into out: name is the export's, writer the claim's
 * holder (ONEWRITER_WRITTEN_DIRECTLY), no_overlays why there is no
 * overlay directory (ONEWRITER_NO_OVERLAYS). Empty for the others. */
void onewriter_refusal(enum onewriter d, const struct onewriter_facts *f,
    const char *name, const char *writer, const char *no_overlays,
    char *out, size_t outlen);

#endif
