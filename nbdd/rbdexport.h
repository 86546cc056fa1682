/* layer: I/O */
/* Exports whose image is in Ceph: NAME.img -> rbd:POOL/IMAGE is the
 * host's own disk, written by one host at a time across every server
 * (rbdclaim.h), and NAME.img -> rbd:POOL/IMAGE@SNAP is a shared base,
 * served through each host's overlay (overlay.h) like a file without a
 * write bit. Opened read-only here, for the size and the kind: nothing is
 * locked and nothing written by opening. */
#ifndef NBDD_RBDEXPORT_H
#define NBDD_RBDEXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rbdcluster.h"
#include "nbdd/blockmap.h"
#include "nbdd/export.h"

/* How long a handshake waits for nbdd's first connection attempt, when a
 * client asks for an image in Ceph at once after nbdd started. */
#define RBDX_CONNECT_WAIT_MS	5000

struct rbd_export {
	struct rbd_cluster *cl;
	struct rbdc_instance *inst;	/* a reference, until closed */
	rados_ioctx_t io;		/* its pool */
	rbd_image_t image;		/* opened read-only */
	uint64_t features;
	struct rbd_target t;
	char str[RBD_TARGET_MAX + 1];	/* rbd:POOL/IMAGE[@SNAP] */
};

/* Opens ex (EXPORT_IN_CEPH from export_open) in the cluster: ex->size,
 * ex->kind (IMAGE_OWN, or IMAGE_BASE_SNAPSHOT with ex->read_only) and
 * ex->rbd set. Without -C (cl NULL), with the cluster not connected, a
 * pool, image or snapshot not there: refused, why saying which and what
 * to do (EXPORT_NOT_FOUND for a name Ceph does not have, else
 * EXPORT_ERROR). */
enum export_status rbdx_open(struct rbd_cluster *cl, struct export *ex,
    char *why, size_t whylen);
void rbdx_close(struct rbd_export *rx);

/* A shared base in Ceph (a snapshot) as a host's overlay reads it
 * (overlay.c): a handle of its own on the snapshot, so that the overlay
 * keeps it through its grace period, after the export that made it is
 * closed. Each call returns 0 (or a count), or -1 with errno: a read that
 * fails fails the client's request, as a file's would. */
struct rbd_base;
int rbdx_base_open(const struct rbd_export *rx, struct rbd_base **out);
int rbdx_base_read(struct rbd_base *b, void *buf, size_t len, uint64_t off);
/* As fd_extents (fdextents.h) has it for a file: up to max extents of
 * [off, off + len), at least 1. */
int rbdx_base_extents(struct rbd_base *b, uint64_t off, uint32_t len,
    struct bm_extent *out, int max);
void rbdx_base_close(struct rbd_base *b);
/* For reads of the base in flight together (rbdxmit.c): the library and
 * the snapshot's handle to call rbd_aio_read with, and what became of
 * such a read (rc as rbdx_result takes it; returns rc). */
const struct rbdlib *rbdx_base_lib(const struct rbd_base *b);
rbd_image_t rbdx_base_image(const struct rbd_base *b);
int rbdx_base_result(struct rbd_base *b, int rc);

/* An operation's result (a negative errno of librbd's, or >= 0), seen by
 * whoever holds an image of rx's instance: tells the cluster when Ceph cut
 * this server off. Returns rc. */
int rbdx_result(struct rbd_cluster *cl, struct rbdc_instance *inst, int rc);

#endif
