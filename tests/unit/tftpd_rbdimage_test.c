/* Image mode over an image in Ceph (rbdimage.c), against a fake librbd
 * (the struct rbdlib table over an image built with the real tools and
 * held in memory): files out of the FAT partition equal what mcopy
 * extracts, from the image and from a snapshot, opened read-only and
 * without the lock; the handle and the cluster reference let go of with
 * the source; no -C, a missing pool, image or snapshot, a cluster not
 * connected: refused with the reason; a read Ceph fails mid-transfer
 * ends it cleanly. */
#include "tests/unit/tftpd_rbd_fixture.h"
#include "tests/unit/check_main.h"
#include "tftpd/rbdimage.h"

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
		ck_assert_int_eq(rbdfake.opens, 1);
		while (off < wlen) {
			ssize_t n = source_read(src, got + off, chunks[i], off);

			ck_assert_int_gt(n, 0);
			off += (uint64_t)n;
		}
		ck_assert_int_eq(memcmp(got, want, wlen), 0);
		source_close(src);
		free(got);
		ck_assert_int_eq(rbdfake.opens, 0);
		ck_assert_int_eq(inst->refs, 1);
	}
	free(want);
}

START_TEST(files_served)
{
	assert_served("rbd:pis/class", "config.txt");
	ck_assert_str_eq(rbdfake.snap, "");
	assert_served("rbd:pis/class", "start4.elf");
	assert_served("rbd:pis/class@v2", "overlays/vc4-kms-v3d.dtbo");
	ck_assert_str_eq(rbdfake.snap, "v2");
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
	ck_assert_int_eq(rbdfake.opens, 0);
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
	rbdfake.read_rc = -ETIMEDOUT;
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 1u << 20), -1);
	rbdfake.read_rc = 0;
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 4096), -1);
	source_close(src);
	ck_assert_int_eq(rbdfake.opens, 0);
}
END_TEST

static enum source_status
cached(struct rbdimage_cache *c, uint64_t now, const char *spec,
    const char *path, char *fail_why, struct source **src)
{
	char why[SOURCE_WHY_LEN];
	struct rbd_target t;

	ck_assert_ptr_null(rbd_target_parse(spec, strlen(spec), &t));
	return rbdimage_open_cached(c, now, &cl, &t, 0, "aaaa0001", path,
	    fail_why, SOURCE_WHY_LEN, src, why, sizeof(why));
}

/* One open per image for RBDIMAGE_CACHE_NS; another name (a re-pointed
 * NAME.img) is another image; a handle whose read failed is not used
 * again; clearing closes all and gives back every cluster reference. */
START_TEST(cache)
{
	struct rbdimage_cache c;
	char fail_why[SOURCE_WHY_LEN] = "";
	struct source *src;
	uint8_t buf[4096];
	uint64_t t0 = 1000;

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cached(&c, t0 + (uint64_t)i, "rbd:pis/class",
		    "config.txt", fail_why, &src), SOURCE_OK);
		ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), 12);
		ck_assert_int_eq(memcmp(buf, "arm_64bit=1\n", 12), 0);
		source_close(src);
	}
	ck_assert_int_eq(rbdfake.opened, 1);
	ck_assert_int_eq(rbdfake.opens, 1);
	ck_assert_int_eq(cached(&c, t0 + 5, "rbd:pis/class@v2", "config.txt",
	    fail_why, &src), SOURCE_OK);
	source_close(src);
	ck_assert_int_eq(rbdfake.opened, 2);
	ck_assert_str_eq(rbdfake.snap, "v2");
	/* Old enough: opened afresh, the old handle closed. */
	ck_assert_int_eq(cached(&c, t0 + RBDIMAGE_CACHE_NS, "rbd:pis/class",
	    "config.txt", fail_why, &src), SOURCE_OK);
	source_close(src);
	ck_assert_int_eq(rbdfake.opened, 3);
	ck_assert_int_eq(rbdfake.opens, 2);
	/* A read fails: its reason comes back, not logged; the handle goes
	 * at the next open. */
	ck_assert_int_eq(cached(&c, t0 + RBDIMAGE_CACHE_NS + 1,
	    "rbd:pis/class", "start4.elf", fail_why, &src), SOURCE_OK);
	rbdfake.read_rc = -ETIMEDOUT;
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), -1);
	ck_assert_msg(strncmp(fail_why, "image aaaa0001 (rbd:pis/class): "
	    "start4.elf: ", 43) == 0 && strstr(fail_why,
	    "(Connection timed out)") != NULL, "fail_why: %s", fail_why);
	source_close(src);
	rbdfake.read_rc = 0;
	ck_assert_int_eq(cached(&c, t0 + RBDIMAGE_CACHE_NS + 2,
	    "rbd:pis/class", "config.txt", fail_why, &src), SOURCE_OK);
	source_close(src);
	ck_assert_int_eq(rbdfake.opened, 4);
	/* Refusals are not cached. */
	ck_assert_int_eq(cached(&c, t0 + RBDIMAGE_CACHE_NS + 3,
	    "rbd:pis/gone", "config.txt", fail_why, &src), SOURCE_BROKEN);
	rbdimage_cache_clear(&c);
	ck_assert_int_eq(rbdfake.opens, 0);
	ck_assert_int_eq(inst->refs, 1);
}
END_TEST

static Suite *
rbdimage_suite(void)
{
	Suite *s = suite_create("tftpd_rbdimage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, rbd_setup, rbd_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, files_served);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, read_fails_mid_transfer);
	tcase_add_test(tc, cache);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdimage_suite)
