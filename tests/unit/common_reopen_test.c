/* reopen_fd: the very inode an O_PATH descriptor looked at, through
 * /proc and through the fallback for a system without /proc (taken here
 * by naming a directory that does not exist in place of /proc/self/fd);
 * FIFOs, sockets and devices never opened; a file swapped in between
 * never opened in the original's place. */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/reopen.h"
#include "tests/unit/check_main.h"
#include "tests/unit/special_nodes.h"

#define NO_PROC "/nonexistent-proc/self/fd"

static char top[64];
static int dirfd_ = -1;
static int watch_ok;

static void
put(const char *rel, const char *content)
{
	int fd = openat(dirfd_, rel, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
}

static const char *
at(const char *rel)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

static void
setup(void)
{
	strlcpy(top, "/tmp/reopen-test.XXXXXX", sizeof(top));
	ck_assert_ptr_nonnull(mkdtemp(top));
	ck_assert_int_ne(dirfd_ = open(top, O_PATH | O_DIRECTORY), -1);
	ck_assert_int_eq(mkdirat(dirfd_, "sub", 0755), 0);
	put("a", "first\n");
	put("b", "second\n");
	put("sub/inner", "inner\n");
	watch_ok = node_watch_usable(at("probe"));
}

static void
teardown(void)
{
	char cmd[128];

	close(dirfd_);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

static int
look(const char *rel)
{
	int fd = openat(dirfd_, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	ck_assert_msg(fd != -1, "O_PATH %s: %s", rel, strerror(errno));
	return fd;
}

static void
assert_reads(int fd, const char *want)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(through_proc)
{
	int p = look("a"), fd, fl;

	fd = reopen_fd(p, O_RDONLY, dirfd_, "a", 0);
	ck_assert_int_ne(fd, -1);
	assert_reads(fd, "first\n");
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(fl & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	/* Writable, as nbdd's claim opens its image. */
	ck_assert_int_ne(fd = reopen_fd(p, O_RDWR, -1, NULL, 0), -1);
	ck_assert_int_eq(pwrite(fd, "F", 1, 0), 1);
	close(fd);
	/* O_NONBLOCK stays when asked for. */
	ck_assert_int_ne(fd = reopen_fd(p, O_RDONLY | O_NONBLOCK, -1, NULL,
	    0), -1);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	close(p);
	/* A directory, and a descriptor that is not O_PATH. */
	p = look("sub");
	ck_assert_int_ne(fd = reopen_fd(p, O_RDONLY | O_DIRECTORY, -1, NULL,
	    0), -1);
	close(p);
	ck_assert_int_ne(p = openat(fd, "inner", O_RDONLY), -1);
	assert_reads(p, "inner\n");
	close(p);
	close(fd);
}
END_TEST

/* Re-pointing the name after the look changes nothing: the inode looked
 * at is the one opened. */
START_TEST(proc_opens_the_inode_not_the_name)
{
	int p = look("a"), fd;

	ck_assert_int_eq(renameat(dirfd_, "b", dirfd_, "a"), 0);
	ck_assert_int_ne(fd = reopen_fd(p, O_RDONLY, dirfd_, "a", 0), -1);
	assert_reads(fd, "first\n");
	close(fd);
	/* Even with the name gone. */
	ck_assert_int_eq(unlinkat(dirfd_, "a", 0), 0);
	ck_assert_int_ne(fd = reopen_fd(p, O_RDONLY, -1, NULL, 0), -1);
	assert_reads(fd, "first\n");
	close(fd);
	close(p);
}
END_TEST

START_TEST(fallback_same_inode)
{
	int p = look("a"), fd;

	fd = reopen_fd_via(NO_PROC, p, O_RDONLY, dirfd_, "a", 0);
	ck_assert_int_ne(fd, -1);
	assert_reads(fd, "first\n");
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	/* With openat2 and RESOLVE_BENEATH, as dirsource asks. */
	close(p);
	p = look("sub/inner");
	fd = reopen_fd_via(NO_PROC, p, O_RDONLY | O_NOFOLLOW, dirfd_,
	    "sub/inner", RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	ck_assert_int_ne(fd, -1);
	assert_reads(fd, "inner\n");
	close(fd);
	close(p);
}
END_TEST

START_TEST(fallback_refuses_another_file)
{
	int p = look("a"), fd;

	/* No path: no fallback, /proc's error. */
	errno = 0;
	ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY, dirfd_, NULL, 0),
	    -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Another file renamed over the name. */
	ck_assert_int_eq(renameat(dirfd_, "b", dirfd_, "a"), 0);
	errno = 0;
	ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY, dirfd_, "a", 0),
	    -1);
	ck_assert_int_eq(errno, ESTALE);
	/* A FIFO put there: the second lookup does not block on it, and
	 * nothing of it is handed out. */
	ck_assert_int_eq(unlinkat(dirfd_, "a", 0), 0);
	node_make(at("a"), NODE_FIFO);
	errno = 0;
	ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY, dirfd_, "a", 0),
	    -1);
	ck_assert_int_eq(errno, ESTALE);
	/* A symlink to the very file, where O_NOFOLLOW forbids one. */
	close(p);
	p = look("sub/inner");
	ck_assert_int_eq(symlinkat("sub/inner", dirfd_, "link"), 0);
	errno = 0;
	ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY | O_NOFOLLOW,
	    dirfd_, "link", 0), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* A path that leaves the directory, under RESOLVE_BENEATH. */
	ck_assert_int_ne(fd = open(at("sub"), O_PATH | O_DIRECTORY), -1);
	errno = 0;
	ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY, fd, "../sub/inner",
	    RESOLVE_BENEATH), -1);
	ck_assert_int_eq(errno, EXDEV);
	close(fd);
	close(p);
}
END_TEST

/* A FIFO, a socket, a character and (for contrast) nothing else: looked
 * at, refused with EPERM, never opened, via /proc or the fallback. */
START_TEST(special_nodes_never_opened)
{
	for (int k = NODE_FIFO; k <= NODE_CHR; k++) {
		const char *name = node_kind_name[k];
		int p, in;

		if (node_make(at(name), (enum node_kind)k) == -1) {
			fprintf(stderr, "note: cannot make a %s node here: %s\n",
			    name, strerror(errno));
			continue;
		}
		p = look(name);
		in = node_watch(at(name), watch_ok);
		errno = 0;
		ck_assert_int_eq(reopen_fd(p, O_RDONLY, dirfd_, name, 0), -1);
		ck_assert_int_eq(errno, EPERM);
		errno = 0;
		ck_assert_int_eq(reopen_fd_via(NO_PROC, p, O_RDONLY, dirfd_,
		    name, 0), -1);
		ck_assert_int_eq(errno, EPERM);
		node_assert_unopened(in, name);
		close(p);
	}
}
END_TEST

static Suite *
reopen_suite(void)
{
	Suite *s = suite_create("common/reopen");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, through_proc);
	tcase_add_test(tc, proc_opens_the_inode_not_the_name);
	tcase_add_test(tc, fallback_same_inode);
	tcase_add_test(tc, fallback_refuses_another_file);
	tcase_add_test(tc, special_nodes_never_opened);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(reopen_suite)
