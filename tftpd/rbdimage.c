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
};

static int
rbdimg_read(void *h, void *buf, size_t len, uint64_t off)
{
	struct rbdimg *r = h;
	ssize_t n;

	while (len > 0) {
		if ((n = r->cl->lib.rbd_read(r->image, off, len, buf)) < 0) {
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

	(void)r->cl->lib.rbd_close(r->image);
	rbdc_put(r->cl, r->inst);
	free(r);
}

enum source_status
rbdimage_open(struct rbd_cluster *cl, const struct rbd_target *t,
    int partition, const char *entry, const char *path, struct source **out,
    char *why, size_t whylen)
{
	char spec[RBD_TARGET_MAX + 1], reason[RBDC_WHY_MAX];
	struct imgdev dev = { .fd = -1 };
	struct rbdimg *r;
	rados_ioctx_t io;
	uint64_t size;
	int rc;

	*out = NULL;
	why[0] = '\0';
	rbd_target_str(t, spec, sizeof(spec));
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
	if (rc == 0 && (rc = cl->lib.rbd_get_size(r->image, &size)) < 0)
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
	dev.read = rbdimg_read;
	dev.close = rbdimg_close;
	dev.h = r;
	return image_source_open_dev(&dev, size, spec, partition, entry, path,
	    out, why, whylen);
}
