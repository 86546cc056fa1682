/* What a connection holds of an export, on images in a temporary root: a
 * writable image claimed by one host at a time, a shared base through
 * the host's overlay, the refusals between the two (onewriter.h) with
 * the image closed again, and everything let go of at the end. Plain
 * TCP only: the TLS identity's rules are tlsauth.c's, and the
 * integration tests (nbdd-tls-identity) drive them through here. */
#include <sys/stat.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/conn.h"
#include "nbdd/ctx.h"
#include "nbdd/hold.h"
#include "nbdd/overlay.h"
#include "tests/unit/check_main.h"

#define IMAGE_SIZE	(1 << 20)

static char root[64], ovldir[80];
static struct nbdd_ctx ctx;
static struct ovl_registry reg;
static const struct conn_start start;

static void
make_image(const char *name, mode_t mode)
{
	int fd = openat(ctx.rootfd, name, O_CREAT | O_WRONLY, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, IMAGE_SIZE), 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
set_mode(const char *name, mode_t mode)
{
	ck_assert_int_eq(fchmodat(ctx.rootfd, name, mode, 0), 0);
}

static void
setup(void)
{
	memset(&ctx, 0, sizeof(ctx));
	strlcpy(root, "/tmp/nbdd-hold-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	ctx.rootfd = open(root, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(ctx.rootfd, 0);
	ctx.root = root;
	ctx.user = "nbd";
	ctx.bootfd = -1;
	ctx.no_overlays = "no overlay directory was given (-o)";
	snprintf(ovldir, sizeof(ovldir), "%s/ovl", root);
	ck_assert_int_eq(mkdir(ovldir, 0700), 0);
	make_image("own.img", 0644);
	make_image("base.img", 0444);
	ck_assert_int_eq(claims_init(&ctx.claims), 0);
	ck_assert_int_eq(rbd_claims_init(&ctx.rbd_claims), 0);
}

/* Overlays, kept a minute after their last connection, at most max. */
static void
with_overlays(int max)
{
	struct ovl_limits lim = { .grace_ms = 60000, .max_overlays = max };
	char why[512];

	ck_assert_msg(ovl_registry_init(&reg, ovldir, &lim, NULL, why,
	    sizeof(why)) == 0, "%s", why);
	ctx.overlays = &reg;
}

static void
teardown(void)
{
	char cmd[128];

	if (ctx.overlays != NULL)
		ovl_registry_destroy(ctx.overlays);
	rbd_claims_destroy(&ctx.rbd_claims);
	claims_destroy(&ctx.claims);
	close(ctx.rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static void
conn_of(struct conn *c, const char *host)
{
	memset(c, 0, sizeof(*c));
	c->ctx = &ctx;
	c->fd = -1;
	tp_init(&c->tp, -1);
	c->ex.fd = -1;
	c->start = &start;
	strlcpy(c->host, host, sizeof(c->host));
	snprintf(c->peer, sizeof(c->peer), "%s:1234", host);
}

/* Opens name for c, to be served (claim) or only looked at. */
static enum opt_open_status
open_for(struct conn *c, const char *name, int claim, char *why,
    size_t whylen, struct opt_opened *res)
{
	int quiet = 0;

	hold_open(c, name, strlen(name), claim, &quiet, res, why, whylen);
	ck_assert_int_eq(quiet, 0);
	return res->status;
}

START_TEST(own_disk_one_host_at_a_time)
{
	struct conn a, b;
	struct opt_opened res;
	char why[512];

	conn_of(&a, "10.0.0.1");
	conn_of(&b, "10.0.0.2");
	ck_assert_int_eq(open_for(&a, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_nonnull(a.claim);
	ck_assert_ptr_null(a.ovl);
	ck_assert_int_ge(a.ex.fd, 0);
	ck_assert_uint_eq(res.size, IMAGE_SIZE);
	ck_assert_int_eq(res.shared_base, 0);
	/* Another host: refused, naming the writer, the image closed. */
	ck_assert_int_eq(open_for(&b, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_CLAIMED);
	ck_assert_ptr_eq(res.why, why);
	ck_assert_str_eq(why, "image own is in use by 10.0.0.1 (one writer "
	    "per image)");
	ck_assert_ptr_null(b.claim);
	ck_assert_int_eq(b.ex.fd, -1);
	/* ... but it may look (INFO): nothing claimed. */
	ck_assert_int_eq(open_for(&b, "own", 0, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_null(b.claim);
	hold_release(&b);
	ck_assert_int_eq(b.ex.fd, -1);
	/* The first lets go: the next host gets it. */
	hold_release(&a);
	ck_assert_ptr_null(a.claim);
	ck_assert_int_eq(a.ex.fd, -1);
	ck_assert_int_eq(open_for(&b, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_nonnull(b.claim);
	hold_release(&b);
}
END_TEST

START_TEST(not_found)
{
	struct conn a;
	struct opt_opened res;
	char why[512];

	conn_of(&a, "10.0.0.1");
	ck_assert_int_eq(open_for(&a, "gone", 1, why, sizeof(why), &res),
	    OPT_OPEN_NOT_FOUND);
	ck_assert_int_eq(open_for(&a, "../own", 1, why, sizeof(why), &res),
	    OPT_OPEN_BAD_NAME);
	ck_assert_int_eq(a.ex.fd, -1);
	ck_assert_ptr_null(a.claim);
}
END_TEST

START_TEST(base_without_overlays)
{
	struct conn a;
	struct opt_opened res;
	char why[512];

	conn_of(&a, "10.0.0.1");
	ck_assert_int_eq(open_for(&a, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_ERROR);
	ck_assert_str_eq(res.why, "a shared base, but no overlay directory "
	    "was given (-o)");
	ck_assert_int_eq(a.ex.fd, -1);
	ck_assert_ptr_null(a.claim);
	ck_assert_ptr_null(a.ovl);
}
END_TEST

START_TEST(base_through_overlays)
{
	struct conn a, b;
	struct opt_opened res;
	struct stat sb;
	char why[512];

	with_overlays(0);
	conn_of(&a, "10.0.0.1");
	conn_of(&b, "10.0.0.2");
	ck_assert_int_eq(open_for(&a, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_nonnull(a.ovl);
	ck_assert_ptr_null(a.claim);
	ck_assert_int_eq(res.shared_base, 1);
	ck_assert_uint_eq(res.size, ovl_size(a.ovl));
	/* Made writable under the overlay: nobody writes it directly. */
	set_mode("base.img", 0644);
	ck_assert_int_eq(open_for(&b, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_CLAIMED);
	ck_assert_str_eq(why, "image base is in use as a shared base (1 "
	    "overlay over it): it is not written directly until they are "
	    "gone");
	ck_assert_ptr_null(b.claim);
	ck_assert_int_eq(b.ex.fd, -1);
	/* The overlay outlives its connection (grace) and still counts;
	 * a client that said DISC lets it go at once. */
	ck_assert_int_eq(fstat(a.ex.fd, &sb), 0);
	hold_release(&a);
	ck_assert_ptr_null(a.ovl);
	ck_assert_int_eq(a.ex.fd, -1);
	ck_assert_int_eq(ovl_base_users(&reg, sb.st_dev, sb.st_ino), 1);
	set_mode("base.img", 0444);
	ck_assert_int_eq(open_for(&a, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	a.disc = 1;
	hold_release(&a);
	ck_assert_int_eq(ovl_base_users(&reg, sb.st_dev, sb.st_ino), 0);
	set_mode("base.img", 0644);
	ck_assert_int_eq(open_for(&b, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_nonnull(b.claim);
	hold_release(&b);
}
END_TEST

START_TEST(written_directly_is_no_base)
{
	struct conn a, b;
	struct opt_opened res;
	char why[512];

	with_overlays(0);
	conn_of(&a, "10.0.0.1");
	conn_of(&b, "10.0.0.2");
	ck_assert_int_eq(open_for(&a, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	set_mode("own.img", 0444);
	ck_assert_int_eq(open_for(&b, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_CLAIMED);
	ck_assert_str_eq(why, "image own is in use by 10.0.0.1, which writes "
	    "it directly: it is a shared base once that host is gone");
	ck_assert_ptr_null(b.ovl);
	ck_assert_int_eq(b.ex.fd, -1);
	hold_release(&a);
	ck_assert_int_eq(open_for(&b, "own", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	ck_assert_ptr_nonnull(b.ovl);
	b.disc = 1;
	hold_release(&b);
}
END_TEST

/* The registry full: refused, and the caller told the line is logged
 * (rate-limited) already. */
START_TEST(overlays_full_is_quiet)
{
	struct conn a, b;
	struct opt_opened res;
	char why[512];
	int quiet = 0;

	with_overlays(1);
	conn_of(&a, "10.0.0.1");
	conn_of(&b, "10.0.0.2");
	ck_assert_int_eq(open_for(&a, "base", 1, why, sizeof(why), &res),
	    OPT_OPEN_OK);
	hold_open(&b, "base", 4, 1, &quiet, &res, why, sizeof(why));
	ck_assert_int_eq(res.status, OPT_OPEN_ERROR);
	ck_assert_int_eq(quiet, 1);
	ck_assert_int_eq(b.ex.fd, -1);
	ck_assert_ptr_null(b.ovl);
	a.disc = 1;
	hold_release(&a);
}
END_TEST

static Suite *
hold_suite(void)
{
	Suite *s = suite_create("nbdd_hold");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, own_disk_one_host_at_a_time);
	tcase_add_test(tc, not_found);
	tcase_add_test(tc, base_without_overlays);
	tcase_add_test(tc, base_through_overlays);
	tcase_add_test(tc, written_directly_is_no_base);
	tcase_add_test(tc, overlays_full_is_quiet);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hold_suite)
