/* Image mode over an image in Ceph (rbdimage.c), against a fake librbd
 * (the struct rbdlib table over an image built with the real tools and
 * held in memory): files out of the FAT partition equal what mcopy
 * extracts, from the image and from a snapshot, opened read-only and
 * without the lock; the handle and the cluster reference let go of with
 * the source; no -C, a missing pool, image or snapshot, a cluster not
 * connected: refused with the reason; a read Ceph fails mid-transfer
 * ends it cleanly. */
#include "tests/unit/tftpd_image_fixture.h"
#include "tests/unit/check_main.h"
#include "common/log.h"
#include "tftpd/rbdimage.h"

/* --- the fake librbd ------------------------------------------------- */

static struct {
	uint8_t *bytes;
	size_t size;
	int opens;
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
setup(void)
{
	fx_setup_dir();
	log_init("rbdimage-test", 0, -1);
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
teardown(void)
{
	if (cl.cur != NULL)
		rbdc_put(&cl, cl.cur);
	pthread_cond_destroy(&cl.changed);
	pthread_mutex_destroy(&cl.lock);
	free(img.bytes);
	fx_teardown_dir();
}

static enum source_status
open_in(const char *spec, const char *path, struct source **src, char *why,
    size_t whylen)
{
	struct rbd_target t;

	ck_assert_ptr_null(rbd_target_parse(spec, strlen(spec), &t));
	return rbdimage_open(&cl, &t, 0, "aaaa0001", path, src, why, whylen);
}

static void
assert_served(const char *spec, const char *path)
{
	static const size_t chunks[] = { 512, 1468 * 16, 4u << 20 };
	char why[SOURCE_WHY_LEN];
	struct source *src;
	size_t wlen;
	uint8_t *want;

	fx_sh("rm -f want.bin && mcopy -n -i pi.img@@1M '::%s' want.bin",
	    path);
	want = fx_slurp(fx_path("want.bin"), &wlen);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		uint64_t off = 0;
		uint8_t *got = malloc(wlen + 1);

		ck_assert_int_eq(open_in(spec, path, &src, why, sizeof(why)),
		    SOURCE_OK);
		ck_assert_str_eq(why, "");
		ck_assert_uint_eq(src->size, wlen);
		ck_assert_int_eq(img.opens, 1);
		while (off < wlen) {
			ssize_t n = source_read(src, got + off, chunks[i], off);

			ck_assert_int_gt(n, 0);
			off += (uint64_t)n;
		}
		ck_assert_int_eq(memcmp(got, want, wlen), 0);
		source_close(src);
		free(got);
		ck_assert_int_eq(img.opens, 0);
		ck_assert_int_eq(inst->refs, 1);
	}
	free(want);
}

START_TEST(files_served)
{
	assert_served("rbd:pis/class", "config.txt");
	ck_assert_str_eq(img.snap, "");
	assert_served("rbd:pis/class", "start4.elf");
	assert_served("rbd:pis/class@v2", "overlays/vc4-kms-v3d.dtbo");
	ck_assert_str_eq(img.snap, "v2");
}
END_TEST

START_TEST(refusals)
{
	char why[SOURCE_WHY_LEN];
	struct source *src;
	struct rbd_target t;

	/* No -C. */
	ck_assert_ptr_null(rbd_target_parse("rbd:pis/class", 13, &t));
	ck_assert_int_eq(rbdimage_open(NULL, &t, 0, "aaaa0001", "config.txt",
	    &src, why, sizeof(why)), SOURCE_BROKEN);
	ck_assert_str_eq(why, "boot entry aaaa0001 leads to an image in Ceph "
	    "(rbd:pis/class), but tftpd was started without -C [ID@]CONF");
	ck_assert_int_eq(open_in("rbd:pis/gone", "config.txt", &src, why,
	    sizeof(why)), SOURCE_BROKEN);
	ck_assert_str_eq(why, "image aaaa0001 (rbd:pis/gone): no image gone in "
	    "pool pis of the Ceph cluster");
	ck_assert_int_eq(open_in("rbd:pis/class@v9", "config.txt", &src, why,
	    sizeof(why)), SOURCE_BROKEN);
	ck_assert_str_eq(why, "image aaaa0001 (rbd:pis/class@v9): no image "
	    "class with a snapshot v9 in pool pis of the Ceph cluster");
	ck_assert_int_eq(open_in("rbd:nopool/class", "config.txt", &src, why,
	    sizeof(why)), SOURCE_BROKEN);
	ck_assert_str_eq(why, "image aaaa0001 (rbd:nopool/class): no pool "
	    "nopool in the Ceph cluster");
	/* Every refusal gave back the cluster reference it took. */
	ck_assert_int_eq(inst->refs, 1);
	/* A miss inside the image is a plain miss. */
	ck_assert_int_eq(open_in("rbd:pis/class", "nosuch.txt", &src, why,
	    sizeof(why)), SOURCE_NOT_FOUND);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(open_in("rbd:pis/class", "../x", &src, why,
	    sizeof(why)), SOURCE_DENIED);
	/* The cluster not connected: the server's failure, with why. */
	rbdc_put(&cl, cl.cur);
	cl.cur = NULL;
	strlcpy(cl.down, "no monitor answered", sizeof(cl.down));
	ck_assert_int_eq(open_in("rbd:pis/class", "config.txt", &src, why,
	    sizeof(why)), SOURCE_ERROR);
	ck_assert_str_eq(why, "image aaaa0001 (rbd:pis/class): not connected "
	    "to the Ceph cluster: no monitor answered");
	ck_assert_int_eq(img.opens, 0);
}
END_TEST

/* A read Ceph fails mid-transfer ends the transfer: -1, once logged. */
START_TEST(read_fails_mid_transfer)
{
	char why[SOURCE_WHY_LEN];
	struct source *src;
	uint8_t buf[4096];

	ck_assert_int_eq(open_in("rbd:pis/class", "start4.elf", &src, why,
	    sizeof(why)), SOURCE_OK);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0),
	    (ssize_t)sizeof(buf));
	img.read_rc = -ETIMEDOUT;
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 1u << 20), -1);
	img.read_rc = 0;
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 4096), -1);
	source_close(src);
	ck_assert_int_eq(img.opens, 0);
}
END_TEST

static Suite *
rbdimage_suite(void)
{
	Suite *s = suite_create("tftpd_rbdimage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, files_served);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, read_fails_mid_transfer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdimage_suite)
