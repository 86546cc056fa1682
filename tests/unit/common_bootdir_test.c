#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "tests/unit/check_main.h"
#include "tests/unit/special_nodes.h"

static char tmpl[64];
static int rootfd = -1;

/* A boot directory with every kind of entry:
 *   abcd1234 -> img/os.img        (image through a symlink)
 *   dc-a6-32-01-36-c2/            (directory)
 *   bootcode.bin                  (plain file)
 *   part -> img/os.img#2          (image, partition 2)
 *   badpart -> img/os.img#999     (no such partition number: dangling)
 *   dangling -> nowhere           (broken)
 *   fifo                          (broken, never opened)
 *   hashfile -> img/x#3           (a file literally named x#3 wins) */
static void
setup(void)
{
	char path[PATH_MAX];

	strlcpy(tmpl, "/tmp/bootdir-test.XXXXXX", sizeof(tmpl));
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	rootfd = open(tmpl, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(rootfd, 0);
	ck_assert_int_eq(mkdirat(rootfd, "img", 0755), 0);
	ck_assert_int_eq(mkdirat(rootfd, "dc-a6-32-01-36-c2", 0755), 0);
	close(openat(rootfd, "img/os.img", O_CREAT | O_WRONLY, 0644));
	close(openat(rootfd, "img/x#3", O_CREAT | O_WRONLY, 0644));
	close(openat(rootfd, "bootcode.bin", O_CREAT | O_WRONLY, 0644));
	ck_assert_int_eq(symlinkat("img/os.img", rootfd, "abcd1234"), 0);
	ck_assert_int_eq(symlinkat("img/os.img#2", rootfd, "part"), 0);
	ck_assert_int_eq(symlinkat("img/os.img#999", rootfd, "badpart"), 0);
	ck_assert_int_eq(symlinkat("img/x#3", rootfd, "hashfile"), 0);
	ck_assert_int_eq(symlinkat("nowhere", rootfd, "dangling"), 0);
	snprintf(path, sizeof(path), "%s/fifo", tmpl);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
}

static void
teardown(void)
{
	char cmd[PATH_MAX];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	ck_assert_int_eq(system(cmd), 0);
}

static char why[1024];

/* bootdir_open, with what must hold whatever the answer: a descriptor for
 * DIR and FILE only, a reason for BROKEN only, and the same type from a
 * look wherever opening cannot fail. */
static enum boot_entry_type
lookup(const char *name, int *part)
{
	char lwhy[sizeof(why)];
	int fd;
	enum boot_entry_type t = bootdir_open(rootfd, name, strlen(name), &fd,
	    part, why, sizeof(why));

	ck_assert_int_eq(t == BOOT_ENTRY_DIR || t == BOOT_ENTRY_FILE,
	    fd != -1);
	ck_assert_int_eq(t == BOOT_ENTRY_BROKEN, why[0] != '\0');
	if (fd != -1)
		close(fd);
	ck_assert_int_eq(bootdir_look(rootfd, name, lwhy, sizeof(lwhy)), t);
	ck_assert_str_eq(lwhy, why);
	return t;
}

START_TEST(kinds)
{
	int part = -1;

	ck_assert_int_eq(lookup("abcd1234", &part), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 0);
	ck_assert_int_eq(lookup("dc-a6-32-01-36-c2", NULL), BOOT_ENTRY_DIR);
	ck_assert_int_eq(lookup("bootcode.bin", NULL), BOOT_ENTRY_FILE);
	ck_assert_int_eq(lookup("missing", NULL), BOOT_ENTRY_NONE);
	ck_assert_str_eq(why, "");
	/* There, but nothing boots from it: broken, never "missing". */
	ck_assert_int_eq(lookup("dangling", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "dangling -> nowhere: No such file or directory");
	ck_assert_int_eq(lookup("fifo", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "fifo: a FIFO, socket or character device: "
	    "never opened");
}
END_TEST

START_TEST(partition_suffix)
{
	int part = -1;

	ck_assert_int_eq(lookup("part", &part), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 2);
	ck_assert_int_eq(lookup("badpart", &part), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "badpart -> img/os.img#999: No such file or "
	    "directory");
	ck_assert_int_eq(part, 0);
	ck_assert_int_eq(lookup("hashfile", &part), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 0);
}
END_TEST

/* Names that are not plain (bootname.h) are never looked up. */
START_TEST(bad_names)
{
	int fd;

	/* An embedded NUL must not truncate "abcd1234\0/x" to a valid name. */
	ck_assert_int_eq(bootdir_open(rootfd, "abcd1234\0x", 10, &fd, NULL,
	    why, sizeof(why)), BOOT_ENTRY_NONE);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(bootdir_open(rootfd, "img/os.img", 10, &fd, NULL,
	    why, sizeof(why)), BOOT_ENTRY_NONE);
	ck_assert_int_eq(bootdir_open(rootfd, "..", 2, &fd, NULL, why,
	    sizeof(why)), BOOT_ENTRY_NONE);
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(repointed_link)
{
	int fd;

	ck_assert_int_eq(lookup("abcd1234", NULL), BOOT_ENTRY_FILE);
	ck_assert_int_eq(unlinkat(rootfd, "abcd1234", 0), 0);
	ck_assert_int_eq(symlinkat("dc-a6-32-01-36-c2", rootfd, "abcd1234"),
	    0);
	ck_assert_int_eq(bootdir_open(rootfd, "abcd1234", 8, &fd, NULL, why,
	    sizeof(why)), BOOT_ENTRY_DIR);
	close(fd);
	/* Re-pointed at nothing: broken from the next lookup. */
	ck_assert_int_eq(unlinkat(rootfd, "abcd1234", 0), 0);
	ck_assert_int_eq(symlinkat("../nosuch.img", rootfd, "abcd1234"), 0);
	ck_assert_int_eq(lookup("abcd1234", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "abcd1234 -> ../nosuch.img: No such file or "
	    "directory");
}
END_TEST

/* The ways an entry is there and broken, each named with its target and
 * the reason; and a reason is printable whatever the target holds. */
START_TEST(broken_entries_say_why)
{
	char small[12];
	int fd;

	ck_assert_int_eq(symlinkat("loop", rootfd, "loop"), 0);
	ck_assert_int_eq(lookup("loop", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "loop -> loop: Too many levels of symbolic "
	    "links");
	/* "Points the wrong way": relative to the link, not to the shell's
	 * directory when it was made. */
	ck_assert_int_eq(symlinkat("os.img", rootfd, "aaaa0005"), 0);
	ck_assert_int_eq(lookup("aaaa0005", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "aaaa0005 -> os.img: No such file or directory");
	/* Through a file, as if it were a directory. */
	ck_assert_int_eq(symlinkat("bootcode.bin/x", rootfd, "notdir"), 0);
	ck_assert_int_eq(lookup("notdir", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "notdir -> bootcode.bin/x: Not a directory");
	ck_assert_int_eq(symlinkat("no\nsuch\x7f", rootfd, "ctl"), 0);
	ck_assert_int_eq(lookup("ctl", NULL), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "ctl -> no?such?: No such file or directory");
	/* A reason cut to the buffer is still a string. */
	ck_assert_int_eq(bootdir_open(rootfd, "dangling", 8, &fd, NULL, small,
	    sizeof(small)), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(small, "dangling ->");
}
END_TEST

/* An image the process's user may not read: a look finds it (a look
 * opens nothing), an open says it is broken and why. As root, a child
 * that runs as nobody looks. */
START_TEST(unreadable_image_is_broken)
{
	char path[PATH_MAX];
	pid_t pid;
	int status;

	ck_assert_int_eq(chmod(tmpl, 0755), 0);
	ck_assert_int_eq(fchmodat(rootfd, "img", 0755, 0), 0);
	snprintf(path, sizeof(path), "%s/img/os.img", tmpl);
	ck_assert_int_eq(chmod(path, 0600), 0);
	if ((pid = fork()) == 0) {
		enum boot_entry_type t;
		int fd;

		if (geteuid() == 0 && setresuid(65534, 65534, 65534) == -1)
			_exit(10);
		if (bootdir_look(rootfd, "abcd1234", why, sizeof(why)) !=
		    BOOT_ENTRY_FILE || why[0] != '\0')
			_exit(11);
		t = bootdir_open(rootfd, "abcd1234", 8, &fd, NULL, why,
		    sizeof(why));
		if (t != BOOT_ENTRY_BROKEN || fd != -1)
			_exit(12);
		if (strcmp(why, "abcd1234 -> img/os.img: Permission denied "
		    "(netboot(7), OWNERSHIP)") != 0) {
			fprintf(stderr, "why: %s\n", why);
			_exit(13);
		}
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* FIFOs, sockets and character devices, in the root, behind an entry's
 * symlink and behind a link to "NODE#2": not an entry, and never opened
 * (opening a FIFO blocks; opening a device runs its driver). */
START_TEST(special_nodes_never_opened)
{
	char path[PATH_MAX], name[64], target[64];
	int usable, part, fd;

	snprintf(path, sizeof(path), "%s/probe", tmpl);
	usable = node_watch_usable(path);
	ck_assert_int_eq(mkdirat(rootfd, "spec", 0755), 0);
	for (int k = NODE_FIFO; k <= NODE_CHR; k++) {
		const char *kind = node_kind_name[k];
		int in;

		snprintf(path, sizeof(path), "%s/spec/%s", tmpl, kind);
		if (node_make(path, (enum node_kind)k) == -1) {
			fprintf(stderr, "note: cannot make a %s node: %s\n",
			    kind, strerror(errno));
			continue;
		}
		snprintf(name, sizeof(name), "in-root-%s", kind);
		snprintf(path, sizeof(path), "%s/%s", tmpl, name);
		ck_assert_int_eq(node_make(path, (enum node_kind)k), 0);
		in = node_watch(path, usable);
		ck_assert_int_eq(lookup(name, &part), BOOT_ENTRY_BROKEN);
		node_assert_unopened(in, name);

		snprintf(path, sizeof(path), "%s/spec/%s", tmpl, kind);
		in = node_watch(path, usable);
		snprintf(name, sizeof(name), "link-%s", kind);
		snprintf(target, sizeof(target), "spec/%s", kind);
		ck_assert_int_eq(symlinkat(target, rootfd, name), 0);
		ck_assert_int_eq(lookup(name, &part), BOOT_ENTRY_BROKEN);
		snprintf(name, sizeof(name), "part-%s", kind);
		snprintf(target, sizeof(target), "spec/%s#2", kind);
		ck_assert_int_eq(symlinkat(target, rootfd, name), 0);
		ck_assert_int_eq(lookup(name, &part), BOOT_ENTRY_BROKEN);
		ck_assert_int_eq(bootdir_open(rootfd, name, strlen(name), &fd,
		    &part, why, sizeof(why)), BOOT_ENTRY_BROKEN);
		ck_assert_int_eq(fd, -1);
		ck_assert_int_eq(part, 0);
		node_assert_unopened(in, target);
	}
	/* A partition of a directory is nothing either. */
	ck_assert_int_eq(symlinkat("dc-a6-32-01-36-c2#1", rootfd, "dirpart"),
	    0);
	ck_assert_int_eq(lookup("dirpart", &part), BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(why, "dirpart -> dc-a6-32-01-36-c2#1: a directory: "
	    "#N picks a partition of an image");
}
END_TEST

/* The descriptor handed out reads the entry and is not left
 * non-blocking; a directory entry's is a directory. */
START_TEST(descriptor_is_usable)
{
	int fd, fd2, part;

	ck_assert_int_ne(fd = openat(rootfd, "img/os.img", O_WRONLY), -1);
	ck_assert_int_eq(pwrite(fd, "OS", 2, 0), 2);
	close(fd);
	ck_assert_int_eq(bootdir_open(rootfd, "abcd1234", 8, &fd, &part, why,
	    sizeof(why)), BOOT_ENTRY_FILE);
	char buf[2];
	ck_assert_int_eq(pread(fd, buf, 2, 0), 2);
	ck_assert(memcmp(buf, "OS", 2) == 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE),
	    O_RDONLY);
	close(fd);
	ck_assert_int_eq(bootdir_open(rootfd, "dc-a6-32-01-36-c2", 17, &fd,
	    NULL, why, sizeof(why)), BOOT_ENTRY_DIR);
	ck_assert_int_ne(fd2 = openat(fd, ".", O_RDONLY | O_DIRECTORY), -1);
	close(fd2);
	close(fd);
}
END_TEST

struct flipper {
	volatile int stop;
	int flips;
};

/* Re-points "race" between a plain file and a character device, each
 * time atomically (a new link renamed over the old one). */
static void *
flip(void *arg)
{
	struct flipper *f = arg;

	while (!f->stop) {
		const char *target = f->flips++ % 2 ? "spec/chr" : "bootcode.bin";
		(void)unlinkat(rootfd, "race.new", 0);
		if (symlinkat(target, rootfd, "race.new") == 0)
			(void)renameat(rootfd, "race.new", rootfd, "race");
	}
	return NULL;
}

/* An entry re-pointed at a device between the look and the open: the
 * device is never opened (the type is checked on the inode that is then
 * opened). Run for a while; a look-then-open-the-name lookup fails it
 * within a few thousand flips. */
START_TEST(repointed_at_a_device_while_opening)
{
	struct flipper f = { 0, 0 };
	char path[PATH_MAX];
	pthread_t th;
	int usable, in, files = 0, part;

	snprintf(path, sizeof(path), "%s/probe", tmpl);
	usable = node_watch_usable(path);
	ck_assert_int_eq(mkdirat(rootfd, "spec", 0755), 0);
	snprintf(path, sizeof(path), "%s/spec/chr", tmpl);
	if (node_make(path, NODE_CHR) == -1 || !usable) {
		fprintf(stderr, "note: no character device node or no usable "
		    "watch here; race not tested\n");
		return;
	}
	in = node_watch(path, usable);
	ck_assert_int_eq(pthread_create(&th, NULL, flip, &f), 0);
	for (int i = 0; i < 20000; i++) {
		int fd;
		enum boot_entry_type t = bootdir_open(rootfd, "race", 4, &fd,
		    &part, why, sizeof(why));

		ck_assert(t == BOOT_ENTRY_NONE || t == BOOT_ENTRY_BROKEN ||
		    t == BOOT_ENTRY_FILE);
		if (fd != -1)
			close(fd);
		files += t == BOOT_ENTRY_FILE;
	}
	f.stop = 1;
	pthread_join(th, NULL);
	ck_assert_int_gt(files, 0);
	ck_assert_int_gt(f.flips, 100);
	node_assert_unopened(in, "the device behind the re-pointed entry");
}
END_TEST

/* Entries that lead to an image in Ceph: the chain of links is followed
 * from each link's own directory, and the rbd: name is never a path.
 *   lab.img -> rbd:rbd/lab@v2      (in the parent: ../lab.img)
 *   boot/aaaa0001 -> ../lab.img    (through the parent)
 *   boot/aaaa0002 -> '../lab.img#2'
 *   boot/aaaa0003 -> rbd:rbd/pi3   (directly)
 *   boot/aaaa0004 -> rbd:rbd/pi4#3
 *   boot/aaaa0005 -> chain -> ../lab.img
 *   boot/aaaa0006 -> rbd:nopool    (no image named: broken)
 *   boot/aaaa0007 -> ../gone.img   (dangling elsewhere: broken) */
START_TEST(rbd_entries)
{
	struct rbd_target t;
	char rwhy[512];
	int bfd, fd, part;

	ck_assert_int_eq(symlinkat("rbd:rbd/lab@v2", rootfd, "lab.img"), 0);
	ck_assert_int_eq(mkdirat(rootfd, "boot", 0755), 0);
	bfd = openat(rootfd, "boot", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(symlinkat("../lab.img", bfd, "aaaa0001"), 0);
	ck_assert_int_eq(symlinkat("../lab.img#2", bfd, "aaaa0002"), 0);
	ck_assert_int_eq(symlinkat("rbd:rbd/pi3", bfd, "aaaa0003"), 0);
	ck_assert_int_eq(symlinkat("rbd:rbd/pi4#3", bfd, "aaaa0004"), 0);
	ck_assert_int_eq(symlinkat("../lab.img", bfd, "chain"), 0);
	ck_assert_int_eq(symlinkat("chain", bfd, "aaaa0005"), 0);
	ck_assert_int_eq(symlinkat("rbd:nopool", bfd, "aaaa0006"), 0);
	ck_assert_int_eq(symlinkat("../gone.img", bfd, "aaaa0007"), 0);

	part = -1;
	ck_assert_int_eq(bootdir_open(bfd, "aaaa0001", 8, &fd, &part, why,
	    sizeof(why)), BOOT_ENTRY_RBD);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(part, 0);
	ck_assert_int_eq(bootdir_rbd(bfd, "aaaa0001", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_RBD);
	ck_assert_str_eq(t.pool, "rbd");
	ck_assert_str_eq(t.image, "lab");
	ck_assert_str_eq(t.snap, "v2");
	ck_assert_int_eq(bootdir_rbd(bfd, "aaaa0002", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_RBD);
	ck_assert_int_eq(part, 2);
	ck_assert_str_eq(t.image, "lab");
	ck_assert_int_eq(bootdir_rbd(bfd, "aaaa0003", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_RBD);
	ck_assert_str_eq(t.image, "pi3");
	ck_assert_int_eq(part, 0);
	ck_assert_int_eq(bootdir_rbd(bfd, "aaaa0004", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_RBD);
	ck_assert_str_eq(t.image, "pi4");
	ck_assert_int_eq(part, 3);
	ck_assert_int_eq(bootdir_rbd(bfd, "aaaa0005", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_RBD);
	ck_assert_str_eq(t.snap, "v2");
	ck_assert_int_eq(bootdir_look(bfd, "aaaa0005", rwhy, sizeof(rwhy)),
	    BOOT_ENTRY_RBD);
	ck_assert_int_eq(bootdir_look(bfd, "aaaa0006", rwhy, sizeof(rwhy)),
	    BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(rwhy, "aaaa0006 -> rbd:nopool: leads to rbd:nopool, "
	    "not rbd:POOL/IMAGE[@SNAP]: no '/' between pool and image "
	    "(rbd:POOL/IMAGE)");
	ck_assert_int_eq(bootdir_look(bfd, "aaaa0007", rwhy, sizeof(rwhy)),
	    BOOT_ENTRY_BROKEN);
	ck_assert_str_eq(rwhy, "aaaa0007 -> ../gone.img: No such file or "
	    "directory");
	/* An image file is what it always was. */
	ck_assert_int_eq(bootdir_rbd(rootfd, "abcd1234", 8, &t, &part, rwhy,
	    sizeof(rwhy)), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 0);
	close(bfd);
}
END_TEST

static Suite *
bootdir_suite(void)
{
	Suite *s = suite_create("common/bootdir");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds);
	tcase_add_test(tc, partition_suffix);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, repointed_link);
	tcase_add_test(tc, broken_entries_say_why);
	tcase_add_test(tc, unreadable_image_is_broken);
	tcase_add_test(tc, special_nodes_never_opened);
	tcase_add_test(tc, descriptor_is_usable);
	tcase_add_test(tc, repointed_at_a_device_while_opening);
	tcase_add_test(tc, rbd_entries);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bootdir_suite)
