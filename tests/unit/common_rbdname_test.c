#include <string.h>

#include "common/rbdname.h"
#include "tests/unit/check_main.h"

static const char *
parse(const char *s, struct rbd_target *t)
{
	return rbd_target_parse(s, strlen(s), t);
}

START_TEST(targets)
{
	struct rbd_target t;
	char buf[RBD_TARGET_MAX + 1];

	ck_assert_ptr_null(parse("rbd:rbd/lab", &t));
	ck_assert_str_eq(t.pool, "rbd");
	ck_assert_str_eq(t.image, "lab");
	ck_assert_str_eq(t.snap, "");
	rbd_target_str(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "rbd:rbd/lab");
	ck_assert_ptr_null(parse("rbd:netboot-images/pi_01.v2@2024-06-01+b",
	    &t));
	ck_assert_str_eq(t.pool, "netboot-images");
	ck_assert_str_eq(t.image, "pi_01.v2");
	ck_assert_str_eq(t.snap, "2024-06-01+b");
	rbd_target_str(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "rbd:netboot-images/pi_01.v2@2024-06-01+b");
}
END_TEST

START_TEST(bad_targets)
{
	static const struct { const char *s, *why; } bad[] = {
		{ "../lab.img", "does not start with rbd:" },
		{ "RBD:rbd/lab", "does not start with rbd:" },
		{ "rbd:", "no '/' between pool and image" },
		{ "rbd:lab", "no '/' between pool and image" },
		{ "rbd:/lab", "an empty pool name" },
		{ "rbd:rbd/", "an empty image name" },
		{ "rbd:rbd/lab@", "an empty snapshot name" },
		{ "rbd:rbd/ns/lab", "more than one '/'" },
		{ "rbd:rbd/lab@a@b", "a snapshot name with a character" },
		{ "rbd:rbd/la b", "an image name with a character" },
		{ "rbd:rbd/.hidden", "an image name with a character" },
		{ "rbd:r\nd/lab", "a pool name with a character" },
		{ "rbd:rbd/lab#2", "an image name with a character" },
	};
	struct rbd_target t;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = parse(bad[i].s, &t);
		ck_assert_msg(why != NULL, "%s accepted", bad[i].s);
		ck_assert_msg(strncmp(why, bad[i].why, strlen(bad[i].why)) == 0,
		    "%s: %s", bad[i].s, why);
	}
	/* A NUL inside what was received. */
	ck_assert_ptr_nonnull(rbd_target_parse("rbd:rbd/l\0b", 11, &t));
}
END_TEST

START_TEST(lengths)
{
	char s[600];
	struct rbd_target t;

	memset(s, 0, sizeof(s));
	memcpy(s, "rbd:rbd/", 8);
	memset(s + 8, 'a', RBD_IMAGE_MAX);
	ck_assert_ptr_null(parse(s, &t));
	ck_assert_uint_eq(strlen(t.image), RBD_IMAGE_MAX);
	s[8 + RBD_IMAGE_MAX] = 'a';
	ck_assert_ptr_nonnull(parse(s, &t));
	memset(s, 0, sizeof(s));
	memcpy(s, "rbd:", 4);
	memset(s + 4, 'p', RBD_POOL_MAX + 1);
	strcat(s, "/i");
	ck_assert_ptr_nonnull(parse(s, &t));
}
END_TEST

START_TEST(keys)
{
	struct rbd_target a, b, c, d;

	ck_assert_ptr_null(parse("rbd:rbd/lab", &a));
	ck_assert_ptr_null(parse("rbd:rbd/lab@v1", &b));
	ck_assert_ptr_null(parse("rbd:rb/dlab", &c));
	ck_assert_ptr_null(parse("rbd:rbd/lab", &d));
	/* The snapshot is another image than the image it was taken of. */
	ck_assert_uint_ne(rbd_target_key(&a), rbd_target_key(&b));
	ck_assert_uint_ne(rbd_target_key(&a), rbd_target_key(&c));
	ck_assert_uint_eq(rbd_target_key(&a), rbd_target_key(&d));
}
END_TEST

START_TEST(client_args)
{
	struct rbd_client_arg a;

	ck_assert_ptr_null(rbd_client_arg_parse("/etc/ceph/ceph.conf", &a));
	ck_assert_str_eq(a.id, "admin");
	ck_assert_str_eq(a.conf, "/etc/ceph/ceph.conf");
	ck_assert_ptr_null(rbd_client_arg_parse("netboot@/etc/ceph/c.conf",
	    &a));
	ck_assert_str_eq(a.id, "netboot");
	ck_assert_str_eq(a.conf, "/etc/ceph/c.conf");
	ck_assert_ptr_nonnull(rbd_client_arg_parse("ceph.conf", &a));
	ck_assert_ptr_nonnull(rbd_client_arg_parse("@/etc/ceph/ceph.conf",
	    &a));
	ck_assert_ptr_nonnull(rbd_client_arg_parse("net boot@/etc/c", &a));
	ck_assert_ptr_nonnull(rbd_client_arg_parse("netboot@", &a));
}
END_TEST

static Suite *
rbdname_suite(void)
{
	Suite *s = suite_create("common/rbdname");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, targets);
	tcase_add_test(tc, bad_targets);
	tcase_add_test(tc, lengths);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, client_args);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdname_suite)
