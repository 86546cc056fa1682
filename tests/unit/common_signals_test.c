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

/* An abort says so, with the stack that aborted, and still kills the
 * process by SIGABRT (a core dump, a supervisor's restart). */
START_TEST(abort_is_traced)
{
	char out[8192];
	size_t got = 0;
	ssize_t r;
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		signals_trace_aborts("testd");
		abort();
	}
	close(fds[1]);
	while (got < sizeof(out) - 1 &&
	    (r = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	ck_assert_msg(strncmp(out, "testd: aborted; the stack of the thread "
	    "that aborted:\n", 50) == 0, "got: %s", out);
	/* libc's abort is among the frames, by name. */
	ck_assert_msg(strstr(out, "(abort+") != NULL, "got: %s", out);
}
END_TEST

static Suite *
signals_suite(void)
{
	Suite *s = suite_create("common/signals");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, shutdown_by_signal);
	tcase_add_test(tc, abort_is_traced);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(signals_suite)
