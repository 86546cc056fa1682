/* A fake librbd for tftpd's unit tests (the struct rbdlib table over an
 * image built with the real tools and held in memory): pool "pis", image
 * "class" and its snapshot "v2", reads short now and then, a read error
 * on demand (img.read_rc). rbd_setup and rbd_teardown are the fixture;
 * cl is a cluster connected as instance inst. */
#ifndef TESTS_UNIT_TFTPD_RBDFAKE_H
#define TESTS_UNIT_TFTPD_RBDFAKE_H

#include "tests/unit/tftpd_image_fixture.h"
#include "common/log.h"
#include "common/rbdcluster.h"

/* --- the fake librbd ------------------------------------------------- */

static struct {
	uint8_t *bytes;
	size_t size;
	int opens;		/* open now */
	int opened;		/* opens made */
	int read_rc;		/* 0, or what rbd_read fails with */
	char snap[64];		/* what the last open asked for */
} img;

static int
f_ioctx_create(rados_t r, const char *pool, rados_ioctx_t *io)
{
	(void)r;
	if (strcmp(pool, "pis") != 0)
		return -ENOENT;
	*io = &img;
	return 0;
}

static void
f_ioctx_destroy(rados_ioctx_t io)
{
	(void)io;
}

static void
f_shutdown(rados_t r)
{
	(void)r;
}

static int
f_open_ro(rados_ioctx_t io, const char *name, rbd_image_t *image,
    const char *snap)
{
	(void)io;
	if (strcmp(name, "class") != 0 || (snap != NULL &&
	    strcmp(snap, "v2") != 0))
		return -ENOENT;
	strlcpy(img.snap, snap ? snap : "", sizeof(img.snap));
	img.opens++;
	img.opened++;
	*image = &img;
	return 0;
}

static int
f_close(rbd_image_t image)
{
	ck_assert_ptr_eq(image, &img);
	img.opens--;
	return 0;
}

static int
f_size(rbd_image_t image, uint64_t *size)
{
	(void)image;
	*size = img.size;
	return 0;
}

static ssize_t
f_read(rbd_image_t image, uint64_t off, size_t len, char *buf)
{
	(void)image;
	if (img.read_rc != 0)
		return img.read_rc;
	if (off >= img.size)
		return 0;
	if (len > img.size - off)
		len = img.size - off;
	if (len > 8192)
		len -= 4096;	/* short now and then */
	memcpy(buf, img.bytes + off, len);
	return (ssize_t)len;
}

static struct rbd_cluster cl;
static struct rbdc_instance *inst;

static void
rbd_setup(void)
{
	fx_setup_dir();
	log_init("rbd-test", 0, -1);
	fx_sh("truncate -s 40M pi.img && printf 'label: dos\\nstart=2048, "
	    "size=61440, type=c, bootable\\nstart=63488, type=83\\n' | "
	    "sfdisk -q pi.img && "
	    "mkfs.vfat -F 16 -n BOOT --offset 2048 pi.img 30720 && "
	    "echo 'arm_64bit=1' > config.txt && "
	    "head -c 2345678 /dev/urandom > start4.elf && "
	    "head -c 4567 /dev/urandom > vc4.dtbo && "
	    "mcopy -i pi.img@@1M config.txt start4.elf :: && "
	    "mmd -i pi.img@@1M ::overlays && "
	    "mcopy -i pi.img@@1M vc4.dtbo ::overlays/vc4-kms-v3d.dtbo");
	img.bytes = fx_slurp(fx_path("pi.img"), &img.size);
	img.opens = 0;
	img.opened = 0;
	img.read_rc = 0;
	memset(&cl, 0, sizeof(cl));
	ck_assert_int_eq(pthread_mutex_init(&cl.lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&cl.changed, NULL), 0);
	cl.lib.rados_ioctx_create = f_ioctx_create;
	cl.lib.rados_ioctx_destroy = f_ioctx_destroy;
	cl.lib.rados_shutdown = f_shutdown;
	cl.lib.rbd_open_read_only = f_open_ro;
	cl.lib.rbd_close = f_close;
	cl.lib.rbd_get_size = f_size;
	cl.lib.rbd_read = f_read;
	strlcpy(cl.arg.id, "netboot", sizeof(cl.arg.id));
	ck_assert_ptr_nonnull(inst = calloc(1, sizeof(*inst)));
	inst->refs = 1;
	strlcpy(inst->who, "client.4200 at 127.0.0.1:0/2", sizeof(inst->who));
	cl.cur = inst;
	cl.attempts = 1;
}

static void
rbd_teardown(void)
{
	if (cl.cur != NULL)
		rbdc_put(&cl, cl.cur);
	pthread_cond_destroy(&cl.changed);
	pthread_mutex_destroy(&cl.lock);
	free(img.bytes);
	fx_teardown_dir();
}

#endif
