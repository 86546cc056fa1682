#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdd/rbdexport.h"
#include "nbdd/rbdplan.h"

#define BASE_EXTENTS_MAX	256

struct rbd_base {
	struct rbd_cluster *cl;
	struct rbdc_instance *inst;	/* a reference */
	rbd_image_t image;		/* the snapshot, read-only */
	int fast_diff;
};

int
rbdx_result(struct rbd_cluster *cl, struct rbdc_instance *inst, int rc)
{
	if (rbdc_cut_off(rc))
		rbdc_failed(cl, inst);
	return rc;
}

/* Why librbd could not open the image, and the status for it. */
static enum export_status
open_failed(const struct rbd_export *rx, const struct rbd_target *t, int rc,
    char *why, size_t whylen)
{
	if (rc == -ENOENT && t->snap[0] != '\0') {
		snprintf(why, whylen, "%s: no image %s with a snapshot %s in "
		    "pool %s of the Ceph cluster", rx->str, t->image, t->snap,
		    t->pool);
		return EXPORT_NOT_FOUND;
	}
	if (rc == -ENOENT) {
		snprintf(why, whylen, "%s: no image %s in pool %s of the Ceph "
		    "cluster", rx->str, t->image, t->pool);
		return EXPORT_NOT_FOUND;
	}
	if (rbdc_cut_off(rc))
		snprintf(why, whylen, "%s: the Ceph cluster cut this server "
		    "off; connecting anew", rx->str);
	else if (rc == -EPERM || rc == -EACCES)
		snprintf(why, whylen, "%s: %s (client.%s's caps: mon 'profile "
		    "rbd', osd 'profile rbd pool=%s')", rx->str, strerror(-rc),
		    rx->cl->arg.id, t->pool);
	else
		snprintf(why, whylen, "%s: %s", rx->str, strerror(-rc));
	return EXPORT_ERROR;
}

enum export_status
rbdx_open(struct rbd_cluster *cl, struct export *ex, char *why,
    size_t whylen)
{
	const struct rbd_target *t = &ex->rbd_target;
	struct rbd_export *rx;
	enum export_status st;
	char reason[RBDC_WHY_MAX];
	int rc;

	if ((rx = calloc(1, sizeof(*rx))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return EXPORT_ERROR;
	}
	rbd_target_str(t, rx->str, sizeof(rx->str));
	rx->t = *t;
	if (cl == NULL) {
		snprintf(why, whylen, "an image in Ceph (%s), but nbdd was "
		    "started without -C [ID@]CONF (the cluster's ceph.conf "
		    "and client id)", rx->str);
		free(rx);
		return EXPORT_ERROR;
	}
	rx->cl = cl;
	if (rbdc_pool(cl, t->pool, RBDX_CONNECT_WAIT_MS, &rx->inst, &rx->io,
	    reason, sizeof(reason)) == -1) {
		snprintf(why, whylen, "%s: %s", rx->str, reason);
		free(rx);
		return errno == ENOENT ? EXPORT_NOT_FOUND : EXPORT_ERROR;
	}
	rc = cl->lib.rbd_open_read_only(rx->io, t->image, &rx->image,
	    t->snap[0] ? t->snap : NULL);
	if (rbdx_result(cl, rx->inst, rc) < 0) {
		st = open_failed(rx, t, rc, why, whylen);
		rbdc_put(cl, rx->inst);
		free(rx);
		return st;
	}
	if ((rc = cl->lib.rbd_get_size(rx->image, &ex->size)) < 0 ||
	    (rc = cl->lib.rbd_get_features(rx->image, &rx->features)) < 0) {
		(void)rbdx_result(cl, rx->inst, rc);
		snprintf(why, whylen, "%s: %s", rx->str, strerror(-rc));
		rbdx_close(rx);
		return EXPORT_ERROR;
	}
	ex->kind = t->snap[0] ? IMAGE_BASE_SNAPSHOT : IMAGE_OWN;
	ex->read_only = image_kind_is_base(ex->kind);
	ex->rbd = rx;
	return EXPORT_OK;
}

void
rbdx_close(struct rbd_export *rx)
{
	if (rx == NULL)
		return;
	if (rx->image != NULL)
		(void)rx->cl->lib.rbd_close(rx->image);
	rbdc_put(rx->cl, rx->inst);
	free(rx);
}

/* librbd's rc (negative errno) as -1 with errno, the cluster told when it
 * means this server was cut off. */
static int
base_failed(struct rbd_base *b, int rc)
{
	(void)rbdx_result(b->cl, b->inst, rc);
	errno = -rc;
	return -1;
}

int
rbdx_base_open(const struct rbd_export *rx, struct rbd_base **out)
{
	const struct rbdlib *lib = &rx->cl->lib;
	struct rbd_base *b;
	int rc;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->cl = rx->cl;
	b->inst = rx->inst;
	b->fast_diff = (rx->features & RBD_FEATURE_FAST_DIFF) != 0;
	rc = lib->rbd_open_read_only(rx->io, rx->t.image, &b->image,
	    rx->t.snap[0] ? rx->t.snap : NULL);
	if (rc < 0) {
		(void)rbdx_result(b->cl, b->inst, rc);
		free(b);
		errno = -rc;
		return -1;
	}
	rbdc_hold(b->cl, b->inst);
	*out = b;
	return 0;
}

int
rbdx_base_read(struct rbd_base *b, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = b->cl->lib.rbd_read(b->image, off, len, buf)) < 0)
			return base_failed(b, (int)n);
		if (n == 0) {
			errno = EIO;	/* short: past the snapshot's end */
			return -1;
		}
		buf = (uint8_t *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
base_extent_seen(uint64_t off, size_t len, int exists, void *arg)
{
	return rbdp_extents_add(arg, off, len, exists) == -1 ? -ECANCELED : 0;
}

int
rbdx_base_extents(struct rbd_base *b, uint64_t off, uint32_t len,
    struct bm_extent *out, int max)
{
	struct blk_extent ext[BASE_EXTENTS_MAX];
	struct rbdp_extents e;
	int rc, n;

	if (max > BASE_EXTENTS_MAX)
		max = BASE_EXTENTS_MAX;
	rbdp_extents_init(&e, off, len, ext, max);
	rc = b->cl->lib.rbd_diff_iterate2(b->image, NULL, off, len, 1,
	    b->fast_diff, base_extent_seen, &e);
	if (rc < 0 && rc != -ECANCELED)
		return base_failed(b, rc);
	n = rbdp_extents_finish(&e);
	for (int i = 0; i < n; i++)
		out[i] = (struct bm_extent){ ext[i].len, ext[i].flags };
	return n;
}

const struct rbdlib *
rbdx_base_lib(const struct rbd_base *b)
{
	return &b->cl->lib;
}

rbd_image_t
rbdx_base_image(const struct rbd_base *b)
{
	return b->image;
}

int
rbdx_base_result(struct rbd_base *b, int rc)
{
	return rbdx_result(b->cl, b->inst, rc);
}

void
rbdx_base_close(struct rbd_base *b)
{
	if (b == NULL)
		return;
	(void)b->cl->lib.rbd_close(b->image);
	rbdc_put(b->cl, b->inst);
	free(b);
}
