/* One writer per image: hosts share or are refused, and the lock is
 * visible to other processes' flock and OFD locks. */
#include <sys/file.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/claim.h"
#include "nbdd/export.h"
#include "tests/unit/check_main.h"

static char root[64];
static int rootfd = -1;
static struct claims cs;

static void
setup(void)
{
	int fd;

	strlcpy(root, "/tmp/nbdd-claim-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(rootfd, 0);
	fd = openat(rootfd, "pi.img", O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	ck_assert_int_eq(claims_init(&cs), 0);
}

static void
teardown(void)
{
	char cmd[128];

	claims_destroy(&cs);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static void
open_pi(struct export *ex)
{
	const char *why;

	ck_assert_int_eq(export_open(rootfd, "pi", 2, ex, &why), EXPORT_OK);
}

/* Whether a fresh open file description can take flock / OFD. */
static int
can_flock(void)
{
	int fd = openat(rootfd, "pi.img", O_RDWR), ok;

	ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return ok;
}

static int
can_ofd(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = openat(rootfd, "pi.img", O_RDWR), ok;

	ok = fcntl(fd, F_OFD_SETLK, &fl) == 0;
	close(fd);
	return ok;
}

START_TEST(same_host_shares)
{
	struct export a, b;
	struct claim *ca, *cb;
	char why[256];

	open_pi(&a);
	open_pi(&b);
	ck_assert_ptr_nonnull(ca = claim_take(&cs, &a, "10.0.0.5", why,
	    sizeof(why)));
	ck_assert_ptr_nonnull(cb = claim_take(&cs, &b, "10.0.0.5", why,
	    sizeof(why)));
	ck_assert_ptr_eq(ca, cb);
	/* The first connection goes; the claim and the lock stay. */
	claim_release(&cs, ca);
	export_close(&a);
	ck_assert(!can_flock());
	claim_release(&cs, cb);
	export_close(&b);
	ck_assert(can_flock());
	ck_assert(can_ofd());
}
END_TEST

START_TEST(other_host_refused)
{
	struct export a, b;
	struct claim *ca, *cb;
	char why[256];

	open_pi(&a);
	open_pi(&b);
	ck_assert_ptr_nonnull(ca = claim_take(&cs, &a, "10.0.0.5", why,
	    sizeof(why)));
	cb = claim_take(&cs, &b, "10.0.0.6", why, sizeof(why));
	ck_assert_ptr_null(cb);
	ck_assert_ptr_nonnull(strstr(why, "10.0.0.5"));
	ck_assert_ptr_nonnull(strstr(why, "pi"));
	ck_assert(!can_flock());
	ck_assert(!can_ofd());
	claim_release(&cs, ca);
	/* Free again: the other host may have it now. */
	ck_assert_ptr_nonnull(cb = claim_take(&cs, &b, "10.0.0.6", why,
	    sizeof(why)));
	claim_release(&cs, cb);
	export_close(&a);
	export_close(&b);
}
END_TEST

START_TEST(lock_held_elsewhere)
{
	struct export a;
	struct claim *ca;
	char why[256];
	int fd;

	/* An administrator's flock(1) on the image. */
	fd = openat(rootfd, "pi.img", O_RDONLY);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	open_pi(&a);
	ca = claim_take(&cs, &a, "10.0.0.5", why, sizeof(why));
	ck_assert_ptr_null(ca);
	ck_assert_ptr_nonnull(strstr(why, "locked by another process"));
	close(fd);
	/* An OFD lock (as qemu-img or another nbdd takes). */
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = 100, .l_len = 1 };
	fd = openat(rootfd, "pi.img", O_RDONLY);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	ca = claim_take(&cs, &a, "10.0.0.5", why, sizeof(why));
	ck_assert_ptr_null(ca);
	/* A failed attempt leaves no flock behind. */
	ck_assert(can_flock());
	close(fd);
	ck_assert_ptr_nonnull(ca = claim_take(&cs, &a, "10.0.0.5", why,
	    sizeof(why)));
	claim_release(&cs, ca);
	export_close(&a);
}
END_TEST

static Suite *
claim_suite(void)
{
	Suite *s = suite_create("nbdd_claim");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, same_host_shares);
	tcase_add_test(tc, other_host_refused);
	tcase_add_test(tc, lock_held_elsewhere);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(claim_suite)
