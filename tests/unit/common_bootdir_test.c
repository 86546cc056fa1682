#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "tests/unit/check_main.h"

static char tmpl[64];
static int rootfd = -1;

/* A boot directory with every kind of entry:
 *   abcd1234 -> img/os.img        (image through a symlink)
 *   dc-a6-32-01-36-c2/            (directory)
 *   bootcode.bin                  (plain file)
 *   part -> img/os.img#2          (image, partition 2)
 *   dangling -> nowhere
 *   fifo                          (never opened)
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

static enum boot_entry_type
lookup(const char *name, int *part)
{
	int fd;
	enum boot_entry_type t = bootdir_open(rootfd, name, strlen(name), &fd,
	    part);

	ck_assert_int_eq(t == BOOT_ENTRY_NONE, fd == -1);
	if (fd != -1)
		close(fd);
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
	ck_assert_int_eq(lookup("dangling", NULL), BOOT_ENTRY_NONE);
	ck_assert_int_eq(lookup("fifo", NULL), BOOT_ENTRY_NONE);
	ck_assert(bootdir_has(rootfd, "abcd1234"));
	ck_assert(!bootdir_has(rootfd, "missing"));
}
END_TEST

START_TEST(partition_suffix)
{
	int part = -1;

	ck_assert_int_eq(lookup("part", &part), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 2);
	ck_assert_int_eq(lookup("badpart", &part), BOOT_ENTRY_NONE);
	ck_assert_int_eq(lookup("hashfile", &part), BOOT_ENTRY_FILE);
	ck_assert_int_eq(part, 0);
}
END_TEST

START_TEST(bad_names)
{
	char longname[NAME_MAX + 2];
	int fd;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert(!plain_name_valid("", 0));
	ck_assert(!plain_name_valid(".", 1));
	ck_assert(!plain_name_valid("..", 2));
	ck_assert(!plain_name_valid("img/os.img", 10));
	ck_assert(!plain_name_valid("/etc", 4));
	ck_assert(!plain_name_valid("a\0b", 3));
	ck_assert(!plain_name_valid("a\nb", 3));
	ck_assert(!plain_name_valid("a\x7f", 2));
	ck_assert(!plain_name_valid(longname, strlen(longname)));
	ck_assert(plain_name_valid("...", 3));
	ck_assert(plain_name_valid("abcd1234", 8));
	/* An embedded NUL must not truncate "abcd1234\0/x" to a valid name. */
	ck_assert_int_eq(bootdir_open(rootfd, "abcd1234\0x", 10, &fd, NULL),
	    BOOT_ENTRY_NONE);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(bootdir_open(rootfd, "img/os.img", 10, &fd, NULL),
	    BOOT_ENTRY_NONE);
	ck_assert_int_eq(bootdir_open(rootfd, "..", 2, &fd, NULL),
	    BOOT_ENTRY_NONE);
}
END_TEST

START_TEST(repointed_link)
{
	int fd;

	ck_assert_int_eq(lookup("abcd1234", NULL), BOOT_ENTRY_FILE);
	ck_assert_int_eq(unlinkat(rootfd, "abcd1234", 0), 0);
	ck_assert_int_eq(symlinkat("dc-a6-32-01-36-c2", rootfd, "abcd1234"),
	    0);
	ck_assert_int_eq(bootdir_open(rootfd, "abcd1234", 8, &fd, NULL),
	    BOOT_ENTRY_DIR);
	close(fd);
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
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bootdir_suite)
