/* What an image is to nbdd, from the facts of stat(2), an open for
 * writing and BLKROGET: a shared base only by a deliberate mode (no write
 * bit) or a read-only device; a writable mode that nbdd cannot write is
 * refused, with a fix that names the user and the path. */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <string.h>

#include "nbdd/imagekind.h"
#include "tests/unit/check_main.h"

static int
kind(mode_t mode, int write_errno, int device_ro)
{
	struct image_facts f = { .mode = mode, .owner = 0, .self = 100,
	    .write_errno = write_errno, .device_ro = device_ro };

	return image_kind(&f);
}

START_TEST(kinds)
{
	/* No write bit: a base, whatever an open would have said. */
	ck_assert_int_eq(kind(S_IFREG | 0444, 0, 0), IMAGE_BASE_NO_WRITE_BIT);
	ck_assert_int_eq(kind(S_IFREG | 0000, EACCES, 0),
	    IMAGE_BASE_NO_WRITE_BIT);
	ck_assert_int_eq(kind(S_IFBLK | 0440, 0, 1), IMAGE_BASE_NO_WRITE_BIT);
	ck_assert(!image_try_write(S_IFREG | 0555));
	ck_assert(image_try_write(S_IFREG | 0004 | 0020));
	/* Any write bit, opened for writing: the host's own disk. */
	ck_assert_int_eq(kind(S_IFREG | 0644, 0, 0), IMAGE_OWN);
	ck_assert_int_eq(kind(S_IFREG | 0464, 0, 0), IMAGE_OWN);
	ck_assert_int_eq(kind(S_IFBLK | 0660, 0, 0), IMAGE_OWN);
	/* ... unless it is a device the kernel holds read-only. A file's
	 * device_ro means nothing. */
	ck_assert_int_eq(kind(S_IFBLK | 0660, 0, 1), IMAGE_BASE_DEVICE_RO);
	ck_assert_int_eq(kind(S_IFREG | 0644, 0, 1), IMAGE_OWN);
	/* A writable mode nbdd cannot write: refused, never a base. */
	ck_assert_int_eq(kind(S_IFREG | 0644, EACCES, 0), IMAGE_NOT_OURS);
	ck_assert_int_eq(kind(S_IFBLK | 0660, EACCES, 0), IMAGE_NOT_OURS);
	ck_assert_int_eq(kind(S_IFREG | 0644, EROFS, 0), IMAGE_READ_ONLY_FS);
	ck_assert_int_eq(kind(S_IFREG | 0644, EPERM, 0), IMAGE_NOT_PERMITTED);
	ck_assert_int_eq(kind(S_IFREG | 0644, ETXTBSY, 0), IMAGE_BUSY);
	/* Other errors are errors, not kinds. */
	ck_assert_int_eq(kind(S_IFREG | 0644, EIO, 0), -1);
	ck_assert_int_eq(kind(S_IFREG | 0644, ENOENT, 0), -1);
	for (int k = IMAGE_OWN; k <= IMAGE_BUSY; k++)
		ck_assert_int_eq(image_kind_is_base(k) +
		    image_kind_is_refused(k) + (k == IMAGE_OWN), 1);
	ck_assert(image_kind_is_base(IMAGE_BASE_DEVICE_RO));
	ck_assert(image_kind_is_refused(IMAGE_READ_ONLY_FS));
}
END_TEST

START_TEST(words)
{
	struct image_facts f = { .mode = S_IFREG | 0644, .owner = 0,
	    .self = 100, .write_errno = EACCES };
	char out[512];

	image_kind_reason(IMAGE_NOT_OURS, "nbd", out, sizeof(out));
	ck_assert_str_eq(out, "its mode says writable, but nbdd's user nbd "
	    "cannot write it");
	image_kind_fix(&f, IMAGE_NOT_OURS, "nbd", "/srv/lab.img", out,
	    sizeof(out));
	ck_assert_str_eq(out, "chown nbd /srv/lab.img if it is one Pi's "
	    "disk, or chmod a-w /srv/lab.img to share it as a base");
	/* Owned by nbdd's user without the owner's write bit: chown would
	 * change nothing. */
	f.owner = 100;
	f.mode = S_IFREG | 0464;
	image_kind_fix(&f, IMAGE_NOT_OURS, "nbd", "/srv/lab.img", out,
	    sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "chmod u+w /srv/lab.img"));
	ck_assert_ptr_null(strstr(out, "chown"));
	image_kind_fix(&f, IMAGE_READ_ONLY_FS, "nbd", "/srv/lab.img", out,
	    sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "remount"));
	ck_assert_ptr_nonnull(strstr(out, "chmod a-w"));
	image_kind_reason(IMAGE_BASE_NO_WRITE_BIT, "nbd", out, sizeof(out));
	ck_assert_str_eq(out, "its mode has no write permission bit");
	image_kind_reason(IMAGE_BASE_DEVICE_RO, "nbd", out, sizeof(out));
	ck_assert_str_eq(out, "a block device the kernel holds read-only");
	/* A snapshot in Ceph: a base by what it is, never a refusal. */
	ck_assert(image_kind_is_base(IMAGE_BASE_SNAPSHOT));
	ck_assert(!image_kind_is_refused(IMAGE_BASE_SNAPSHOT));
	image_kind_reason(IMAGE_BASE_SNAPSHOT, "nbd", out, sizeof(out));
	ck_assert_str_eq(out, "a snapshot in Ceph, read-only there");
	/* Nothing to fix on a base or an own disk. */
	image_kind_fix(&f, IMAGE_BASE_NO_WRITE_BIT, "nbd", "/srv/lab.img",
	    out, sizeof(out));
	ck_assert_str_eq(out, "");
	/* Cut short, never overrun. */
	image_kind_fix(&f, IMAGE_NOT_OURS, "nbd", "/srv/lab.img", out, 8);
	ck_assert_uint_eq(strlen(out), 7);
}
END_TEST

/* Each outcome of export_open in its bucket, and the line it gets: a
 * base is named with why, a refusal with its fix, an image in Ceph only
 * when nbdd has no -C to look it up in. */
START_TEST(census)
{
	struct image_census c = { 0 };
	char line[256];

	ck_assert_int_eq(image_census_add(&c, CENSUS_OPENED, 0, 0),
	    CENSUS_LINE_NONE);
	ck_assert_int_eq(image_census_add(&c, CENSUS_OPENED, 0, 1),
	    CENSUS_LINE_NONE);
	ck_assert_int_eq(image_census_add(&c, CENSUS_OPENED, 1, 0),
	    CENSUS_LINE_BASE);
	ck_assert_int_eq(image_census_add(&c, CENSUS_REFUSED, 0, 1),
	    CENSUS_LINE_REFUSED);
	ck_assert_int_eq(image_census_add(&c, CENSUS_IN_CEPH, 0, 0),
	    CENSUS_LINE_CEPH_NO_CLUSTER);
	ck_assert_int_eq(image_census_add(&c, CENSUS_IN_CEPH, 0, 1),
	    CENSUS_LINE_NONE);
	/* Gone, or an error each client will see: not counted. */
	ck_assert_int_eq(image_census_add(&c, CENSUS_OTHER, 1, 0),
	    CENSUS_LINE_NONE);
	ck_assert_int_eq(c.own, 2);
	ck_assert_int_eq(c.bases, 1);
	ck_assert_int_eq(c.refused, 1);
	ck_assert_int_eq(c.ceph, 2);
	image_census_describe(&c, line, sizeof(line));
	ck_assert_str_eq(line, "images now: 2 written directly, 1 shared "
	    "base, 1 refused, 2 in Ceph (looked up again for every client)");
	ck_assert_int_eq(image_census_add(&c, CENSUS_OPENED, 1, 1),
	    CENSUS_LINE_BASE);
	image_census_describe(&c, line, sizeof(line));
	ck_assert_str_eq(line, "images now: 2 written directly, 2 shared "
	    "bases, 1 refused, 2 in Ceph (looked up again for every client)");
	c = (struct image_census){ 0 };
	image_census_describe(&c, line, sizeof(line));
	ck_assert_str_eq(line, "images now: 0 written directly, 0 shared "
	    "bases, 0 refused, 0 in Ceph (looked up again for every client)");
}
END_TEST

static Suite *
imagekind_suite(void)
{
	Suite *s = suite_create("nbdd_imagekind");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, kinds);
	tcase_add_test(tc, words);
	tcase_add_test(tc, census);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(imagekind_suite)
