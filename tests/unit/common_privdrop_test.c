/* -u: dropping root to a user, and a user that does not exist. */
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"
#include "tests/unit/check_main.h"

START_TEST(drop_to_nobody)
{
	struct passwd *pw = getpwnam("nobody");
	gid_t want[64], have[64];
	int nwant = 64;
	uid_t r, e, s;

	if (getuid() != 0 || pw == NULL)
		return;		/* needs root and a nobody user */
	/* Its groups as login(1) would set them, supplementary ones too. */
	ck_assert_int_ge(getgrouplist("nobody", pw->pw_gid, want, &nwant), 1);
	/* Check forks each test, so dropping here leaves the runner root. */
	ck_assert_int_eq(privdrop("nobody"), 0);
	ck_assert_int_eq(getresuid(&r, &e, &s), 0);
	ck_assert_uint_eq(r, pw->pw_uid);
	ck_assert_uint_eq(e, pw->pw_uid);
	ck_assert_uint_eq(s, pw->pw_uid);
	ck_assert_uint_eq(getgid(), pw->pw_gid);
	ck_assert_int_eq(getgroups(64, have), nwant);
	for (int i = 0; i < nwant; i++) {
		int found = 0;

		for (int j = 0; j < nwant; j++)
			found |= have[j] == want[i];
		ck_assert_msg(found, "group %u not kept", (unsigned)want[i]);
	}
	ck_assert_int_eq(setuid(0), -1);
	ck_assert_int_eq(open("/etc/shadow", O_RDONLY), -1);
}
END_TEST

START_TEST(drop_to_unknown_user)
{
	log_init("process-test", 0, -1);
	ck_assert_int_eq(privdrop("no-such-user-here"), -1);
}
END_TEST

static Suite *
privdrop_suite(void)
{
	Suite *s = suite_create("common/privdrop");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, drop_to_nobody);
	tcase_add_test(tc, drop_to_unknown_user);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(privdrop_suite)
