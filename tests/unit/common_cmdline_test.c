#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmdline.h"
#include "tests/unit/check_main.h"

static const struct cmdline_extra extras[] = {
	{ 'm', "max", "N", "at most N at once" },
	{ 'a', "all", NULL, "answer everyone" },
	{ 0, NULL, NULL, NULL },
};

struct seen {
	long long max;
	int all;
};

static const char *
handle(void *ctx, int ch, const char *arg)
{
	struct seen *s = ctx;

	switch (ch) {
	case 'm':
		return cmdline_count(arg, 1, 1000, &s->max);
	case 'a':
		s->all = 1;
		return NULL;
	}
	return "unknown flag";
}

static struct seen seen;
static char outbuf[4096], errbuf[4096];

static enum cmdline_result
parse(struct cmdline *cl, int argc, char **argv)
{
	static const struct cmdline_spec spec_tmpl = {
		.progname = "testd",
		.summary = "a test daemon",
		.default_root = "/srv/boot",
		.default_port = 69,
		.extras = extras,
		.handle = handle,
	};
	struct cmdline_spec spec = spec_tmpl;
	FILE *out = fmemopen(outbuf, sizeof(outbuf), "w");
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	enum cmdline_result r;

	memset(&seen, 0, sizeof(seen));
	memset(outbuf, 0, sizeof(outbuf));
	memset(errbuf, 0, sizeof(errbuf));
	spec.ctx = &seen;
	r = cmdline_parse(cl, &spec, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

#define ARGV(...) (char *[]){ "testd", __VA_ARGS__, NULL }
#define ARGC(...) (int)(sizeof((char *[]){ "testd", __VA_ARGS__ }) / sizeof(char *))

START_TEST(defaults)
{
	struct cmdline cl;
	char *argv[] = { "testd", NULL };

	ck_assert_int_eq(parse(&cl, 1, argv), CMDLINE_RUN);
	ck_assert_str_eq(cl.root, "/srv/boot");
	ck_assert_uint_eq(cl.port, 69);
	ck_assert_ptr_null(cl.listen_addr);
	ck_assert_ptr_null(cl.user);
	ck_assert_int_eq(cl.inetd + cl.use_syslog + cl.verbose, 0);
}
END_TEST

START_TEST(all_flags)
{
	struct cmdline cl;

	ck_assert_int_eq(parse(&cl, ARGC("-r", "/tmp/x", "-l", "::1", "-p",
	    "6969", "-i", "-u", "nobody", "-s", "-vv", "-m", "7", "-a"),
	    ARGV("-r", "/tmp/x", "-l", "::1", "-p", "6969", "-i", "-u",
	    "nobody", "-s", "-vv", "-m", "7", "-a")), CMDLINE_RUN);
	ck_assert_str_eq(cl.root, "/tmp/x");
	ck_assert_str_eq(cl.listen_addr, "::1");
	ck_assert_uint_eq(cl.port, 6969);
	ck_assert_int_eq(cl.inetd, 1);
	ck_assert_str_eq(cl.user, "nobody");
	ck_assert_int_eq(cl.use_syslog, 1);
	ck_assert_int_eq(cl.verbose, 2);
	ck_assert_int_eq(seen.max, 7);
	ck_assert_int_eq(seen.all, 1);
}
END_TEST

START_TEST(long_forms)
{
	struct cmdline cl;

	ck_assert_int_eq(parse(&cl, ARGC("--root=/r", "--listen", "127.0.0.1",
	    "--port=1", "--inetd", "--user=u", "--syslog", "--verbose",
	    "--max=3"), ARGV("--root=/r", "--listen", "127.0.0.1", "--port=1",
	    "--inetd", "--user=u", "--syslog", "--verbose", "--max=3")),
	    CMDLINE_RUN);
	ck_assert_str_eq(cl.root, "/r");
	ck_assert_uint_eq(cl.port, 1);
	ck_assert_int_eq(seen.max, 3);
}
END_TEST

START_TEST(help_and_version)
{
	struct cmdline cl;

	ck_assert_int_eq(parse(&cl, ARGC("-h"), ARGV("-h")), CMDLINE_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(outbuf, "usage: testd"));
	ck_assert_ptr_nonnull(strstr(outbuf, "-m, --max N"));
	ck_assert_ptr_nonnull(strstr(outbuf, "(default /srv/boot)"));
	ck_assert_int_eq(parse(&cl, ARGC("--version"), ARGV("--version")),
	    CMDLINE_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(outbuf, "testd "));
	ck_assert_str_eq(errbuf, "");
}
END_TEST

static void
assert_usage_error(int argc, char **argv, const char *message)
{
	struct cmdline cl;

	ck_assert_int_eq(parse(&cl, argc, argv), CMDLINE_EXIT_USAGE);
	ck_assert_msg(strstr(errbuf, message) != NULL,
	    "expected \"%s\" in \"%s\"", message, errbuf);
	ck_assert_ptr_nonnull(strstr(errbuf, "usage: testd"));
	ck_assert_str_eq(outbuf, "");
}

START_TEST(bad_flags)
{
	assert_usage_error(ARGC("-x"), ARGV("-x"), "testd: -x: unknown flag");
	assert_usage_error(ARGC("--bogus=1"), ARGV("--bogus=1"),
	    "testd: --bogus: unknown flag");
	assert_usage_error(ARGC("-p"), ARGV("-p"), "-p: needs an argument");
	assert_usage_error(ARGC("-p", "0"), ARGV("-p", "0"),
	    "-p 0: out of range 1-65535");
	assert_usage_error(ARGC("-p", "65536"), ARGV("-p", "65536"),
	    "-p 65536: out of range");
	assert_usage_error(ARGC("-p", "69x"), ARGV("-p", "69x"),
	    "-p 69x: not a number");
	assert_usage_error(ARGC("-l", "example.org"), ARGV("-l",
	    "example.org"), "-l example.org: not an IPv4 or IPv6 address");
	assert_usage_error(ARGC("-r", ""), ARGV("-r", ""),
	    "-r: empty directory name");
	assert_usage_error(ARGC("-m", "0"), ARGV("-m", "0"), "-m 0: too small");
	assert_usage_error(ARGC("-m", "many"), ARGV("-m", "many"),
	    "-m many: not a number");
	assert_usage_error(ARGC("stray"), ARGV("stray"),
	    "stray: unexpected argument");
}
END_TEST

static Suite *
cmdline_suite(void)
{
	Suite *s = suite_create("common/cmdline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, all_flags);
	tcase_add_test(tc, long_forms);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, bad_flags);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cmdline_suite)
