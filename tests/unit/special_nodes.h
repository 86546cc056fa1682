/* FIFOs, sockets and device nodes for the unit tests that must prove a
 * daemon never opens them (tftpd_resolve, common_bootdir, common_reopen),
 * and an inotify watch that sees whether anything did. Making device
 * nodes needs root (mknod): without it those cases are skipped with a
 * note. Nothing here opens a node: a block device node 7,0 (a loop
 * device) needs no loop device to exist, and 1,3 is /dev/null's. */
#ifndef TESTS_UNIT_SPECIAL_NODES_H
#define TESTS_UNIT_SPECIAL_NODES_H

#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SN_MAYBE __attribute__((unused))

enum node_kind { NODE_FIFO, NODE_SOCK, NODE_CHR, NODE_BLK, NODE_KINDS };

static const char *const node_kind_name[NODE_KINDS] = {
	"fifo", "sock", "chr", "blk",
};

/* Makes a node of kind at path. Returns 0, or -1 when it cannot be made
 * here (a device node without root). */
static SN_MAYBE int
node_make(const char *path, enum node_kind kind)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s;

	switch (kind) {
	case NODE_FIFO:
		ck_assert_msg(mkfifo(path, 0644) == 0, "mkfifo %s: %s", path,
		    strerror(errno));
		return 0;
	case NODE_SOCK:
		ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
		strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
		ck_assert_int_ne(s = socket(AF_UNIX, SOCK_STREAM, 0), -1);
		ck_assert_msg(bind(s, (struct sockaddr *)&sun, sizeof(sun)) == 0,
		    "bind %s: %s", path, strerror(errno));
		close(s);
		return 0;
	case NODE_CHR:
		return mknod(path, S_IFCHR | 0644, makedev(1, 3));
	case NODE_BLK:
	default:
		return mknod(path, S_IFBLK | 0644, makedev(7, 0));
	}
}

/* Whether an O_PATH open shows up as IN_OPEN here: kernels before 5.13
 * reported it, and the watch could then not tell a look from an open. */
static SN_MAYBE int
node_watch_usable(const char *scratch)
{
	char buf[4096];
	int in, fd, usable;

	ck_assert_int_ne(in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), -1);
	ck_assert_int_ne(fd = open(scratch, O_CREAT | O_WRONLY, 0644), -1);
	close(fd);
	ck_assert_int_ne(inotify_add_watch(in, scratch, IN_OPEN), -1);
	ck_assert_int_ne(fd = open(scratch, O_PATH), -1);
	close(fd);
	usable = read(in, buf, sizeof(buf)) == -1 && errno == EAGAIN;
	close(in);
	unlink(scratch);
	if (!usable)
		fprintf(stderr, "note: this kernel reports O_PATH opens to "
		    "inotify; not checking that nodes stay unopened\n");
	return usable;
}

/* A watch for opens of path; -1 when watches are not usable. */
static SN_MAYBE int
node_watch(const char *path, int usable)
{
	int in;

	if (!usable)
		return -1;
	ck_assert_int_ne(in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), -1);
	ck_assert_msg(inotify_add_watch(in, path, IN_OPEN | IN_ACCESS) != -1,
	    "watch %s: %s", path, strerror(errno));
	return in;
}

/* Fails unless nothing opened the watched node; closes the watch. */
static SN_MAYBE void
node_assert_unopened(int in, const char *what)
{
	char buf[4096];
	ssize_t n;

	if (in == -1)
		return;
	n = read(in, buf, sizeof(buf));
	ck_assert_msg(n == -1 && errno == EAGAIN, "%s was opened", what);
	close(in);
}

#endif
