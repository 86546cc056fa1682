/* Export names, lookup and listing on a scratch root directory. */
#include <sys/stat.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/export.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"

static char root[64];
static int rootfd = -1;

static void
mkimage(const char *name, off_t size)
{
	int fd = openat(rootfd, name, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
}

static void
setup(void)
{
	strlcpy(root, "/tmp/nbdd-export-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(rootfd, 0);
}

static void
teardown(void)
{
	char cmd[128];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(names)
{
	static char longname[EXPORT_NAME_MAX + 2];

	ck_assert(export_name_valid("pi4", 3));
	ck_assert(export_name_valid("raspios-bookworm_64.v2", 22));
	ck_assert(!export_name_valid("", 0));
	ck_assert(!export_name_valid("a/b", 3));
	ck_assert(!export_name_valid("/etc/passwd", 11));
	ck_assert(!export_name_valid("..", 2));
	ck_assert(!export_name_valid("../x", 4));
	ck_assert(!export_name_valid("a..b", 4));
	ck_assert(!export_name_valid(".hidden", 7));
	ck_assert(!export_name_valid(".", 1));
	ck_assert(!export_name_valid("a\0b", 3));
	ck_assert(!export_name_valid("pi\n4", 4));
	ck_assert(!export_name_valid("pi\x7f", 3));
	ck_assert(!export_name_valid("\x1b[31m", 5));
	memset(longname, 'a', sizeof(longname));
	ck_assert(export_name_valid(longname, EXPORT_NAME_MAX));
	ck_assert(!export_name_valid(longname, EXPORT_NAME_MAX + 1));
}
END_TEST

START_TEST(open_rw_and_missing)
{
	struct export ex;
	const char *why = NULL;

	mkimage("pi4.img", 1 << 20);
	ck_assert_int_eq(export_open(rootfd, "pi4", 3, &ex, &why), EXPORT_OK);
	ck_assert_uint_eq(ex.size, 1 << 20);
	ck_assert_int_eq(ex.read_only, 0);
	ck_assert_str_eq(ex.name, "pi4");
	ck_assert_uint_eq(export_flags(&ex, 0, 1) & NBD_FLAG_READ_ONLY, 0);
	ck_assert_uint_ne(export_flags(&ex, 0, 1) & NBD_FLAG_SEND_TRIM, 0);
	ck_assert_uint_ne(export_flags(&ex, 0, 1) & NBD_FLAG_CAN_MULTI_CONN,
	    0);
	ck_assert_uint_eq(export_flags(&ex, 0, 0) & NBD_FLAG_CAN_MULTI_CONN,
	    0);
	ck_assert_uint_eq(export_flags(&ex, 0, 1) & NBD_FLAG_SEND_DF, 0);
	ck_assert_uint_ne(export_flags(&ex, 1, 1) & NBD_FLAG_SEND_DF, 0);
	export_close(&ex);
	ck_assert_int_eq(export_open(rootfd, "pi5", 3, &ex, &why),
	    EXPORT_NOT_FOUND);
	ck_assert_int_eq(export_open(rootfd, "../pi4", 6, &ex, &why),
	    EXPORT_BAD_NAME);
	ck_assert_int_eq(export_open(rootfd, "pi4\0", 4, &ex, &why),
	    EXPORT_BAD_NAME);
	ck_assert_int_eq(ex.fd, -1);
}
END_TEST

/* No write permission bit at all makes a shared base, opened read-only
 * whoever nbdd runs as (root included, whom the bits would not stop);
 * any write bit leaves it writable to a user that may write it. */
START_TEST(shared_base_by_mode)
{
	static const struct {
		mode_t mode;
		int base;
	} cases[] = {
		{ 0444, 1 }, { 0555, 1 }, { 0400, 1 }, { 0000, 1 },
		{ 0644, 0 }, { 0604, 0 }, { 0464, 0 }, { 0446, 0 },
	};
	struct export ex;
	const char *why = NULL;

	mkimage("lab.img", 1 << 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(fchmodat(rootfd, "lab.img", cases[i].mode, 0),
		    0);
		if (!cases[i].base && geteuid() != 0 &&
		    (cases[i].mode & 0200) == 0)
			continue;	/* not ours to write: a base to us */
		ck_assert_int_eq(export_open(rootfd, "lab", 3, &ex, &why),
		    EXPORT_OK);
		ck_assert_msg(ex.read_only == cases[i].base, "mode %o",
		    (unsigned)cases[i].mode);
		ck_assert_int_eq(fcntl(ex.fd, F_GETFL) & O_ACCMODE,
		    cases[i].base ? O_RDONLY : O_RDWR);
		ck_assert_uint_eq(ex.size, 1 << 20);
		export_close(&ex);
	}
}
END_TEST

START_TEST(symlinks_and_types)
{
	struct export ex;
	const char *why;

	mkimage("real.data", 4096);
	ck_assert_int_eq(symlinkat("real.data", rootfd, "link.img"), 0);
	ck_assert_int_eq(export_open(rootfd, "link", 4, &ex, &why),
	    EXPORT_OK);
	ck_assert_uint_eq(ex.size, 4096);
	export_close(&ex);
	ck_assert_int_eq(symlinkat("nowhere", rootfd, "dangling.img"), 0);
	ck_assert_int_eq(export_open(rootfd, "dangling", 8, &ex, &why),
	    EXPORT_NOT_FOUND);
	/* A FIFO would block open(); a directory is not an image. */
	ck_assert_int_eq(mkfifoat(rootfd, "fifo.img", 0644), 0);
	ck_assert_int_eq(export_open(rootfd, "fifo", 4, &ex, &why),
	    EXPORT_NOT_FOUND);
	ck_assert_int_eq(mkdirat(rootfd, "dir.img", 0755), 0);
	ck_assert_int_eq(export_open(rootfd, "dir", 3, &ex, &why),
	    EXPORT_NOT_FOUND);
	ck_assert_int_eq(symlinkat("/dev/null", rootfd, "chr.img"), 0);
	ck_assert_int_eq(export_open(rootfd, "chr", 3, &ex, &why),
	    EXPORT_NOT_FOUND);
}
END_TEST

struct seen {
	char names[16][64];
	int n;
};

static int
collect(void *ctx, const char *name, size_t len)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		memcpy(s->names[s->n], name, len);
		s->names[s->n][len] = '\0';
		s->n++;
	}
	return 0;
}

static int
has(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 1;
	return 0;
}

START_TEST(listing)
{
	struct seen s = { .n = 0 };

	mkimage("a.img", 512);
	mkimage("b.img", 512);
	mkimage(".hidden.img", 512);
	mkimage("notimage.raw", 512);
	mkimage(".img", 512);
	ck_assert_int_eq(mkdirat(rootfd, "dir.img", 0755), 0);
	ck_assert_int_eq(symlinkat("nowhere", rootfd, "dangling.img"), 0);
	ck_assert_int_eq(export_list(rootfd, collect, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert(has(&s, "a") && has(&s, "b"));
	/* Copied in later: seen without anything being reloaded. */
	mkimage("c.img", 512);
	s.n = 0;
	ck_assert_int_eq(export_list(rootfd, collect, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert(has(&s, "c"));
}
END_TEST

static Suite *
export_suite(void)
{
	Suite *s = suite_create("nbdd_export");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names);
	tcase_add_test(tc, open_rw_and_missing);
	tcase_add_test(tc, shared_base_by_mode);
	tcase_add_test(tc, symlinks_and_types);
	tcase_add_test(tc, listing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(export_suite)
