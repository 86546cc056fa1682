/* Clean shutdown: SIGTERM and SIGINT arrive on a descriptor. */
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

#include "common/signals.h"
#include "tests/unit/check_main.h"

START_TEST(shutdown_by_signal)
{
	int fd = signals_shutdown_fd();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(signals_read(fd), 0);	/* nothing pending */
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	ck_assert_int_eq(signals_read(fd), SIGTERM);
	ck_assert_int_eq(kill(getpid(), SIGINT), 0);
	ck_assert_int_eq(signals_read(fd), SIGINT);
	/* SIGPIPE is ignored: a peer that went away is an error return. */
	ck_assert_int_eq(kill(getpid(), SIGPIPE), 0);
	close(fd);
}
END_TEST

static Suite *
signals_suite(void)
{
	Suite *s = suite_create("common/signals");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, shutdown_by_signal);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(signals_suite)
