/* One writer per image: every row of the rule that serves an opened image
 * with a claim, through the host's overlay, or refuses it, and the words
 * of each refusal as the client and the log get them. */
#include <check.h>
#include <string.h>

#include "nbdd/onewriter.h"
#include "tests/unit/check_main.h"

static const struct row {
	struct onewriter_facts f;
	enum onewriter want;
} rows[] = {
	/* Writable: the host's own disk, claimed here or in Ceph. */
	{ { .read_only = 0, .in_ceph = 0, .overlays = 1 }, ONEWRITER_CLAIM },
	{ { .read_only = 0, .in_ceph = 0, .overlays = 0 }, ONEWRITER_CLAIM },
	{ { .read_only = 0, .in_ceph = 1, .overlays = 1 },
	    ONEWRITER_CLAIM_RBD },
	{ { .read_only = 0, .in_ceph = 1, .overlays = 0 },
	    ONEWRITER_CLAIM_RBD },
	/* ... unless overlays are over it now: a base made writable since
	 * is not written under them, here or in Ceph. */
	{ { .read_only = 0, .in_ceph = 0, .overlays = 1, .base_users = 1 },
	    ONEWRITER_BASE_IN_USE },
	{ { .read_only = 0, .in_ceph = 0, .overlays = 1, .base_users = 7 },
	    ONEWRITER_BASE_IN_USE },
	{ { .read_only = 0, .in_ceph = 1, .overlays = 1, .base_users = 2 },
	    ONEWRITER_BASE_IN_USE },
	/* A direct writer is the claim's business, not this rule's: a
	 * writable image goes to claim_take, which refuses another host. */
	{ { .read_only = 0, .in_ceph = 0, .overlays = 1,
	    .written_directly = 1 }, ONEWRITER_CLAIM },
	{ { .read_only = 0, .in_ceph = 1, .overlays = 1,
	    .written_directly = 1 }, ONEWRITER_CLAIM_RBD },
	/* Read-only: a shared base, through the host's overlay, in Ceph
	 * (a snapshot) as on a file. Overlays over it are what a base is
	 * for. */
	{ { .read_only = 1, .in_ceph = 0, .overlays = 1 }, ONEWRITER_OVERLAY },
	{ { .read_only = 1, .in_ceph = 1, .overlays = 1 }, ONEWRITER_OVERLAY },
	{ { .read_only = 1, .in_ceph = 0, .overlays = 1, .base_users = 3 },
	    ONEWRITER_OVERLAY },
	/* ... never while a host writes it directly (made read-only since
	 * it claimed it). */
	{ { .read_only = 1, .in_ceph = 0, .overlays = 1,
	    .written_directly = 1 }, ONEWRITER_WRITTEN_DIRECTLY },
	{ { .read_only = 1, .in_ceph = 1, .overlays = 1,
	    .written_directly = 1 }, ONEWRITER_WRITTEN_DIRECTLY },
	{ { .read_only = 1, .in_ceph = 0, .overlays = 1, .base_users = 2,
	    .written_directly = 1 }, ONEWRITER_WRITTEN_DIRECTLY },
	/* ... and never without an overlay directory: served read-only it
	 * would not boot, served writable it would be written. That comes
	 * first: no claim is asked for then. */
	{ { .read_only = 1, .in_ceph = 0, .overlays = 0 },
	    ONEWRITER_NO_OVERLAYS },
	{ { .read_only = 1, .in_ceph = 1, .overlays = 0 },
	    ONEWRITER_NO_OVERLAYS },
	{ { .read_only = 1, .in_ceph = 0, .overlays = 0,
	    .written_directly = 1 }, ONEWRITER_NO_OVERLAYS },
};

START_TEST(decide)
{
	const struct row *r = &rows[_i];
	enum onewriter d = onewriter_decide(&r->f);
	char why[256];

	ck_assert_msg(d == r->want, "row %d: %d, want %d", _i, d, r->want);
	/* Served: nothing to say. Refused: words, always. */
	strcpy(why, "stale");
	onewriter_refusal(d, &r->f, "lab", "10.0.0.7", "no -o was given",
	    why, sizeof(why));
	if (onewriter_status(d) == OPT_OPEN_OK)
		ck_assert_str_eq(why, "");
	else
		ck_assert_ptr_nonnull(strstr(why, d == ONEWRITER_NO_OVERLAYS ?
		    "no -o" : "lab"));
}
END_TEST

START_TEST(status)
{
	ck_assert_int_eq(onewriter_status(ONEWRITER_CLAIM), OPT_OPEN_OK);
	ck_assert_int_eq(onewriter_status(ONEWRITER_CLAIM_RBD), OPT_OPEN_OK);
	ck_assert_int_eq(onewriter_status(ONEWRITER_OVERLAY), OPT_OPEN_OK);
	/* Another writer: the client is told the image is in use, with
	 * the whole message. */
	ck_assert_int_eq(onewriter_status(ONEWRITER_BASE_IN_USE),
	    OPT_OPEN_CLAIMED);
	ck_assert_int_eq(onewriter_status(ONEWRITER_WRITTEN_DIRECTLY),
	    OPT_OPEN_CLAIMED);
	/* No overlays: the server's own trouble, not another host's. */
	ck_assert_int_eq(onewriter_status(ONEWRITER_NO_OVERLAYS),
	    OPT_OPEN_ERROR);
}
END_TEST

/* The words the integration tests and administrators grep for. */
START_TEST(words)
{
	struct onewriter_facts f = { .base_users = 1, .overlays = 1 };
	char why[256];

	onewriter_refusal(ONEWRITER_BASE_IN_USE, &f, "lab", NULL, NULL, why,
	    sizeof(why));
	ck_assert_str_eq(why, "image lab is in use as a shared base (1 "
	    "overlay over it): it is not written directly until they are "
	    "gone");
	f.base_users = 3;
	onewriter_refusal(ONEWRITER_BASE_IN_USE, &f, "lab", NULL, NULL, why,
	    sizeof(why));
	ck_assert_str_eq(why, "image lab is in use as a shared base (3 "
	    "overlays over it): it is not written directly until they are "
	    "gone");
	f = (struct onewriter_facts){ .read_only = 1, .overlays = 1,
	    .written_directly = 1 };
	onewriter_refusal(ONEWRITER_WRITTEN_DIRECTLY, &f, "lab", "10.0.0.7",
	    NULL, why, sizeof(why));
	ck_assert_str_eq(why, "image lab is in use by 10.0.0.7, which writes "
	    "it directly: it is a shared base once that host is gone");
	f = (struct onewriter_facts){ .read_only = 1 };
	onewriter_refusal(ONEWRITER_NO_OVERLAYS, &f, "lab", NULL,
	    "no overlay directory (-o) was given", why, sizeof(why));
	ck_assert_str_eq(why, "a shared base, but no overlay directory (-o) "
	    "was given");
	/* Cut to the buffer, always terminated; nothing for no room. */
	onewriter_refusal(ONEWRITER_NO_OVERLAYS, &f, "lab", NULL, "x", why,
	    8);
	ck_assert_str_eq(why, "a share");
	strcpy(why, "kept");
	onewriter_refusal(ONEWRITER_NO_OVERLAYS, &f, "lab", NULL, "x", why,
	    0);
	ck_assert_str_eq(why, "kept");
}
END_TEST

static Suite *
onewriter_suite(void)
{
	Suite *s = suite_create("nbdd_onewriter");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, decide, 0, (int)(sizeof(rows) /
	    sizeof(rows[0])));
	tcase_add_test(tc, status);
	tcase_add_test(tc, words);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(onewriter_suite)
