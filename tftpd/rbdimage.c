#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/image.h"
#include "tftpd/rbdimage.h"

/* The image open in the cluster, as image.c's device. */
struct rbdimg {
	struct rbd_cluster *cl;
	struct rbdc_instance *inst;	/* a reference */
	rbd_image_t image;
	uint64_t size;
	int cached;		/* in a cache: a source's close keeps it */
	int failed;		/* a read failed: never used again */
};

static void
rbdimg_free(struct rbdimg *r)
{
	(void)r->cl->lib.rbd_close(r->image);
	rbdc_put(r->cl, r->inst);
	free(r);
}

static int
rbdimg_read(void *h, void *buf, size_t len, uint64_t off)
{
	struct rbdimg *r = h;
	ssize_t n;

	while (len > 0) {
		if ((n = r->cl->lib.rbd_read(r->image, off, len, buf)) < 0) {
			r->failed = 1;
			if (rbdc_cut_off((int)n))
				rbdc_failed(r->cl, r->inst);
			return (int)n;
		}
		if (n == 0)
			return -ENODATA;	/* past the image's end */
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static void
rbdimg_close(void *h)
{
	struct rbdimg *r = h;

	if (!r->cached)
		rbdimg_free(r);
}

/* The image t names, opened read-only (no lock, no watch of a writer's),
 * or a status with why. */
static enum source_status
rbdimg_open(struct rbd_cluster *cl, const struct rbd_target *t,
    const char *entry, const char *spec, struct rbdimg **out, char *why,
    size_t whylen)
{
	char reason[RBDC_WHY_MAX];
	struct rbdimg *r;
	rados_ioctx_t io;
	int rc;

	*out = NULL;
	if (cl == NULL) {
		snprintf(why, whylen, "boot entry %s leads to an image in Ceph "
		    "(%s), but tftpd was started without -C [ID@]CONF", entry,
		    spec);
		return SOURCE_BROKEN;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(why, whylen, "image %s (%s): %s", entry, spec,
		    strerror(errno));
		return SOURCE_ERROR;
	}
	r->cl = cl;
	/* Never waits for a first connection: a Pi asks again. */
	if (rbdc_pool(cl, t->pool, 0, &r->inst, &io, reason,
	    sizeof(reason)) == -1) {
		rc = errno;
		snprintf(why, whylen, "image %s (%s): %s", entry, spec, reason);
		free(r);
		return rc == ENOENT ? SOURCE_BROKEN : SOURCE_ERROR;
	}
	rc = cl->lib.rbd_open_read_only(io, t->image, &r->image,
	    t->snap[0] != '\0' ? t->snap : NULL);
	if (rc == 0 && (rc = cl->lib.rbd_get_size(r->image, &r->size)) < 0)
		(void)cl->lib.rbd_close(r->image);
	if (rc < 0) {
		if (rbdc_cut_off(rc))
			rbdc_failed(cl, r->inst);
		if (rc == -ENOENT)
			snprintf(why, whylen, "image %s (%s): no image %s%s%s "
			    "in pool %s of the Ceph cluster", entry, spec,
			    t->image, t->snap[0] ? " with a snapshot " : "",
			    t->snap, t->pool);
		else
			snprintf(why, whylen, "image %s (%s): %s", entry, spec,
			    strerror(-rc));
		rbdc_put(cl, r->inst);
		free(r);
		return rc == -ENOENT ? SOURCE_BROKEN : SOURCE_ERROR;
	}
	*out = r;
	return SOURCE_OK;
}

static enum source_status
source_of(struct rbdimg *r, const char *spec, int partition,
    const char *entry, const char *path, char *fail_why, size_t fail_whylen,
    struct source **out, char *why, size_t whylen)
{
	struct imgdev dev = { .fd = -1, .fail_why = fail_why,
	    .fail_whylen = fail_whylen };

	dev.read = rbdimg_read;
	dev.close = rbdimg_close;
	dev.h = r;
	return image_source_open_dev(&dev, r->size, spec, partition, entry,
	    path, out, why, whylen);
}

enum source_status
rbdimage_open(struct rbd_cluster *cl, const struct rbd_target *t,
    int partition, const char *entry, const char *path, struct source **out,
    char *why, size_t whylen)
{
	char spec[RBD_TARGET_MAX + 1];
	struct rbdimg *r;
	enum source_status st;

	*out = NULL;
	why[0] = '\0';
	rbd_target_str(t, spec, sizeof(spec));
	if ((st = rbdimg_open(cl, t, entry, spec, &r, why, whylen)) !=
	    SOURCE_OK)
		return st;
	return source_of(r, spec, partition, entry, path, NULL, 0, out, why,
	    whylen);
}

/* Closes the slot's image, if any. */
static void
slot_clear(struct rbdimage_slot *sl)
{
	if (sl->img != NULL)
		rbdimg_free(sl->img);
	sl->img = NULL;
	sl->key[0] = '\0';
}

enum source_status
rbdimage_open_cached(struct rbdimage_cache *c, uint64_t now_ns,
    struct rbd_cluster *cl, const struct rbd_target *t, int partition,
    const char *entry, const char *path, char *fail_why, size_t fail_whylen,
    struct source **out, char *why, size_t whylen)
{
	char spec[RBD_TARGET_MAX + 1];
	struct rbdimage_slot *sl = NULL, *oldest = &c->slot[0];
	enum source_status st;
	struct rbdimg *r;

	*out = NULL;
	why[0] = '\0';
	rbd_target_str(t, spec, sizeof(spec));
	for (size_t i = 0; i < RBDIMAGE_CACHE_MAX; i++) {
		struct rbdimage_slot *s = &c->slot[i];

		/* A handle that failed, or old enough that the image may
		 * have been removed and made again under its name, goes. */
		if (s->img != NULL && (s->img->failed ||
		    now_ns - s->opened_ns >= RBDIMAGE_CACHE_NS))
			slot_clear(s);
		if (s->img != NULL && strcmp(s->key, spec) == 0)
			sl = s;
		if (s->img == NULL || (oldest->img != NULL &&
		    s->opened_ns < oldest->opened_ns))
			oldest = s;
	}
	if (sl == NULL) {
		if ((st = rbdimg_open(cl, t, entry, spec, &r, why, whylen)) !=
		    SOURCE_OK)
			return st;
		slot_clear(oldest);
		sl = oldest;
		r->cached = 1;
		sl->img = r;
		sl->opened_ns = now_ns;
		strlcpy(sl->key, spec, sizeof(sl->key));
	}
	return source_of(sl->img, spec, partition, entry, path, fail_why,
	    fail_whylen, out, why, whylen);
}

void
rbdimage_cache_clear(struct rbdimage_cache *c)
{
	for (size_t i = 0; i < RBDIMAGE_CACHE_MAX; i++)
		slot_clear(&c->slot[i]);
}
