/* layer: I/O */
/* Image mode over an image in Ceph: boot files read out of the FAT
 * partition of an RBD image (rbd:POOL/IMAGE[@SNAP], the layout's
 * NAME.img -> rbd: link) through librbd, as image.c reads a file: the
 * same parsing, the same checks while a transfer moves forward. The
 * image is opened read-only and without its lock, so a Pi's server can
 * write it meanwhile: tftpd reads a snapshot as it is, and an image as
 * its writer last flushed it (the cluster connection of tftpd has no
 * cache of its own: rbdcluster.h, fresh_reads).
 *
 * Every call here waits on the cluster, up to its timeouts when it does
 * not answer: the caller makes them away from its event loop. */
#ifndef TFTPD_RBDIMAGE_H
#define TFTPD_RBDIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/rbdcluster.h"
#include "tftpd/source.h"

/* Opens path inside partition (0: the first FAT partition, else 1-128)
 * of the image t names, in cl; entry is the boot entry that led there,
 * for reasons and log lines. Statuses and why as image_source_open
 * (image.h), and: cl NULL (tftpd without -C), or no such pool, image or
 * snapshot in the cluster, SOURCE_BROKEN; the cluster not connected or
 * failing, SOURCE_ERROR; each with the reason. */
enum source_status rbdimage_open(struct rbd_cluster *cl,
    const struct rbd_target *t, int partition, const char *entry,
    const char *path, struct source **out, char *why, size_t whylen);

/* Images kept open for the next request, by one thread (each of
 * rbdfetch.c's workers has its own): a Pi's boot asks for a few dozen
 * files of one image in a few seconds, and each open costs round trips to
 * the cluster. A handle is kept RBDIMAGE_CACHE_NS at most, so an image
 * removed and made again under its name is opened afresh; a re-pointed
 * NAME.img (a new snapshot) names another image, opened at once. A handle
 * whose read failed is closed. */
#define RBDIMAGE_CACHE_MAX	8
#define RBDIMAGE_CACHE_NS	(10 * 1000000000ull)

struct rbdimg;
struct rbdimage_cache {
	struct rbdimage_slot {
		char key[RBD_TARGET_MAX + 1];	/* rbd:POOL/IMAGE[@SNAP] */
		struct rbdimg *img;
		uint64_t opened_ns;
	} slot[RBDIMAGE_CACHE_MAX];
};

/* As rbdimage_open, through the cache c (zeroed at first), at now_ns; a
 * read of the source that fails puts its reason in fail_why (fail_whylen
 * bytes) instead of logging it. The source must be closed before c is
 * used again. */
enum source_status rbdimage_open_cached(struct rbdimage_cache *c,
    uint64_t now_ns, struct rbd_cluster *cl, const struct rbd_target *t,
    int partition, const char *entry, const char *path, char *fail_why,
    size_t fail_whylen, struct source **out, char *why, size_t whylen);
/* Closes every image c holds. */
void rbdimage_cache_clear(struct rbdimage_cache *c);

#endif
