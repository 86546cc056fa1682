/* Privilege drop, shutdown signals and logging: the process-level pieces. */
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
#include "common/signals.h"
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

static char *
capture_stderr(void (*fn)(void))
{
	static char buf[4096];
	int p[2], saved = dup(2);
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	dup2(p[1], 2);
	close(p[1]);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
log_quiet(void)
{
	log_init("tftpd", 0, 0);
	log_err("cannot open %s", "x");
	log_warn("slow");
	log_info("sent %d bytes", 5);
	log_debug("not shown");
	log_trace("not shown");
}

static void
log_verbose(void)
{
	log_init("nbdd", 0, 1);
	log_debug("probe %s", "abcd1234/start4.elf");
	log_trace("not shown at -v");
}

static void
log_very_verbose(void)
{
	log_init("nbdd", 0, 5);
	log_trace("packet");
}

START_TEST(log_levels)
{
	const char *out = capture_stderr(log_quiet);

	ck_assert_str_eq(out, "tftpd: error: cannot open x\n"
	    "tftpd: warning: slow\n" "tftpd: sent 5 bytes\n");
	ck_assert_str_eq(capture_stderr(log_verbose),
	    "nbdd: probe abcd1234/start4.elf\n");
	ck_assert_str_eq(capture_stderr(log_very_verbose), "nbdd: packet\n");
	ck_assert(log_enabled(LOG_LEVEL_TRACE));
}
END_TEST

static Suite *
process_suite(void)
{
	Suite *s = suite_create("common/process");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, drop_to_nobody);
	tcase_add_test(tc, drop_to_unknown_user);
	tcase_add_test(tc, shutdown_by_signal);
	tcase_add_test(tc, log_levels);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(process_suite)
