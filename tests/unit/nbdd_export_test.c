/* Export names, lookup and listing on a scratch root directory. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <check.h>
#include <sched.h>
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
		    (cases[i].mode & 0200) == 0) {
			/* Writable by mode, not by us: refused, not a
			 * base. */
			ck_assert_int_eq(export_open(rootfd, "lab", 3, &ex,
			    &why), EXPORT_REFUSED);
			ck_assert_int_eq(ex.kind, IMAGE_NOT_OURS);
			continue;
		}
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

/* Runs fn as user nobody in a child; its exit status. Root only. */
static int
as_nobody(int (*fn)(void))
{
	int status;
	pid_t pid;

	if ((pid = fork()) == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
nobody_opens(void)
{
	struct export ex;
	const char *why;
	char text[1024], want[256];

	/* root's, mode 0644: writable by mode, not by nobody. */
	if (export_open(rootfd, "pi", 2, &ex, &why) != EXPORT_REFUSED ||
	    ex.kind != IMAGE_NOT_OURS || ex.fd != -1)
		return 10;
	export_refusal(&ex, root, "nobody", text, sizeof(text));
	snprintf(want, sizeof(want), "chown nobody %s/pi.img if it is one "
	    "Pi's disk, or chmod a-w %s/pi.img to share it as a base", root,
	    root);
	if (strstr(text, want) == NULL ||
	    strstr(text, "nbdd's user nobody cannot write it") == NULL)
		return 11;
	/* No write bit: a base, deliberately. */
	if (export_open(rootfd, "lab", 3, &ex, &why) != EXPORT_OK ||
	    !ex.read_only || ex.kind != IMAGE_BASE_NO_WRITE_BIT)
		return 12;
	export_close(&ex);
	/* nobody's own, 0644: its own disk. */
	if (export_open(rootfd, "mine", 4, &ex, &why) != EXPORT_OK ||
	    ex.read_only || ex.kind != IMAGE_OWN)
		return 13;
	export_close(&ex);
	return 0;
}

/* An image whose mode says writable but that nbdd's user cannot write
 * (root's 0644 under -u nobody) is refused with the fix, never served as
 * a throwaway base; one on a file system mounted read-only likewise. */
START_TEST(ownership_mistake)
{
	char path[128];

	if (geteuid() != 0) {
		printf("# skipped: needs root to become nobody\n");
		return;
	}
	ck_assert_int_eq(chmod(root, 0755), 0);
	mkimage("pi.img", 1 << 20);
	mkimage("lab.img", 1 << 20);
	ck_assert_int_eq(fchmodat(rootfd, "lab.img", 0444, 0), 0);
	mkimage("mine.img", 1 << 20);
	ck_assert_int_eq(fchownat(rootfd, "mine.img", 65534, 65534, 0), 0);
	ck_assert_int_eq(as_nobody(nobody_opens), 0);

	/* A read-only mount, in a mount namespace of a child's own. */
	snprintf(path, sizeof(path), "%s/ro", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct export ex;
		const char *why;
		char img[160];
		int dfd, fd;

		if (unshare(CLONE_NEWNS) != 0 ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", path, "tmpfs", 0, "size=4m") != 0)
			_exit(3);
		snprintf(img, sizeof(img), "%s/own.img", path);
		if ((fd = open(img, O_CREAT | O_WRONLY, 0644)) == -1)
			_exit(4);
		close(fd);
		snprintf(img, sizeof(img), "%s/base.img", path);
		if ((fd = open(img, O_CREAT | O_WRONLY, 0444)) == -1)
			_exit(4);
		close(fd);
		if (mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
			_exit(5);
		dfd = open(path, O_RDONLY | O_DIRECTORY);
		if (export_open(dfd, "own", 3, &ex, &why) != EXPORT_REFUSED ||
		    ex.kind != IMAGE_READ_ONLY_FS)
			_exit(6);
		if (export_open(dfd, "base", 4, &ex, &why) != EXPORT_OK ||
		    !ex.read_only)
			_exit(7);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "read-only mount: status %d", WEXITSTATUS(status));
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
	tcase_add_test(tc, ownership_mistake);
	tcase_add_test(tc, symlinks_and_types);
	tcase_add_test(tc, listing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(export_suite)
