/* Log lines on stderr, and which levels -v lets through. */
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
#include "tests/unit/check_main.h"

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
log_suite(void)
{
	Suite *s = suite_create("common/log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, log_levels);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
