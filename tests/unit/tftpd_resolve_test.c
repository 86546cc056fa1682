/* The layout's path rules on a real directory tree: plain files of the
 * root, files beneath a directory entry, every traversal form, symlinks
 * leaving the target, FIFOs, re-pointed entries, and netascii. */
#include <sys/stat.h>
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tftpd/resolve.h"
#include "tests/unit/check_main.h"

static char top[PATH_MAX];
static int rootfd = -1;

static void
put(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(content, f);
	fclose(f);
}

static void
mk(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void
link_(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	unlink(p);
	ck_assert_int_eq(symlink(target, p), 0);
}

/* root/: bootcode.bin, abcd1234 -> ../mnt/pi, dir1/; mnt/pi holds the
 * boot files and hostile links; secret lies outside everything. */
static void
setup(void)
{
	char p[PATH_MAX * 2];

	strlcpy(top, "/tmp/tftpd-resolve.XXXXXX", sizeof(top));
	ck_assert_ptr_nonnull(mkdtemp(top));
	mk("root");
	mk("mnt");
	mk("mnt/pi");
	mk("mnt/pi/overlays");
	mk("mnt/other");
	mk("root/dir1");
	put("secret", "secret\n");
	put("root/bootcode.bin", "bootcode\n");
	put("mnt/pi/start4.elf", "start4\n");
	put("mnt/pi/overlays/vc4.dtbo", "overlay\n");
	put("mnt/other/start4.elf", "other start4\n");
	put("root/dir1/file", "dir1 file\n");
	link_("../mnt/pi", "root/abcd1234");
	snprintf(p, sizeof(p), "%s/secret", top);
	link_(p, "mnt/pi/abs-evil");
	link_("../../secret", "mnt/pi/rel-evil");
	link_("/etc/passwd", "mnt/pi/passwd");
	link_("start4.elf", "mnt/pi/inside-link");
	link_("overlays", "mnt/pi/ovl");
	snprintf(p, sizeof(p), "%s/mnt/pi/fifo", top);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/root", top);
	ck_assert_int_ne(rootfd = open(p, O_PATH | O_DIRECTORY), -1);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

static enum source_status
get(const char *name, char *out, size_t outsz)
{
	struct source *src = NULL;
	enum source_status st;
	ssize_t n;

	out[0] = '\0';
	st = resolve_open(rootfd, name, strlen(name), &src);
	if (st != SOURCE_OK) {
		ck_assert_ptr_null(src);
		return st;
	}
	n = source_read(src, out, outsz - 1, 0);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_eq((uint64_t)n, src->size);
	out[n] = '\0';
	source_close(src);
	return st;
}

#define ASSERT_GET(name, want) do {					\
	char b_[256];							\
	ck_assert_int_eq(get(name, b_, sizeof(b_)), SOURCE_OK);	\
	ck_assert_str_eq(b_, want);					\
} while (0)

#define ASSERT_REFUSED(name) do {					\
	char b_[256];							\
	enum source_status s_ = get(name, b_, sizeof(b_));		\
	ck_assert_msg(s_ == SOURCE_NOT_FOUND || s_ == SOURCE_DENIED,	\
	    "%s: status %d, read \"%s\"", name, s_, b_);		\
	ck_assert(strstr(b_, "secret") == NULL);			\
} while (0)

START_TEST(serves_the_layout)
{
	ASSERT_GET("bootcode.bin", "bootcode\n");
	ASSERT_GET("/bootcode.bin", "bootcode\n");
	ASSERT_GET("//bootcode.bin", "bootcode\n");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	ASSERT_GET("/abcd1234/start4.elf", "start4\n");
	ASSERT_GET("abcd1234//start4.elf", "start4\n");
	ASSERT_GET("abcd1234/overlays/vc4.dtbo", "overlay\n");
	ASSERT_GET("abcd1234/overlays/../start4.elf", "start4\n");
	ASSERT_GET("abcd1234/./start4.elf", "start4\n");
	/* Links that stay inside the target are fine. */
	ASSERT_GET("abcd1234/inside-link", "start4\n");
	ASSERT_GET("abcd1234/ovl/vc4.dtbo", "overlay\n");
	ASSERT_GET("dir1/file", "dir1 file\n");
}
END_TEST

START_TEST(not_found_is_not_found)
{
	char b[64];

	ck_assert_int_eq(get("nothere", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/nothere", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("nothere/start4.elf", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	/* Directories are not files. */
	ck_assert_int_eq(get("abcd1234", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/overlays", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("/", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/start4.elf/x", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
}
END_TEST

START_TEST(traversal_refused)
{
	ASSERT_REFUSED("../secret");
	ASSERT_REFUSED("..");
	ASSERT_REFUSED("./../secret");
	ASSERT_REFUSED("/../secret");
	ASSERT_REFUSED("a/../../b");
	ASSERT_REFUSED("dir1/../../secret");
	ASSERT_REFUSED("abcd1234/../../secret");
	ASSERT_REFUSED("abcd1234/../../../etc/passwd");
	ASSERT_REFUSED("abcd1234/../../etc/passwd");
	ASSERT_REFUSED("abcd1234/overlays/../../secret");
	ASSERT_REFUSED("/etc/passwd");
	ASSERT_REFUSED("etc/passwd");
	ASSERT_REFUSED("abcd1234//etc/passwd");
	ASSERT_REFUSED("abcd1234/%2e%2e/secret");
	ASSERT_REFUSED("abcd1234/..\\..\\secret");
}
END_TEST

START_TEST(symlinks_out_of_target_refused)
{
	char b[64];

	ck_assert_int_eq(get("abcd1234/abs-evil", b, sizeof(b)),
	    SOURCE_DENIED);
	ck_assert_int_eq(get("abcd1234/rel-evil", b, sizeof(b)),
	    SOURCE_DENIED);
	ck_assert_int_eq(get("abcd1234/passwd", b, sizeof(b)),
	    SOURCE_DENIED);
}
END_TEST

START_TEST(fifo_neither_opened_nor_hangs)
{
	char b[64];

	ck_assert_int_eq(get("abcd1234/fifo", b, sizeof(b)), SOURCE_DENIED);
}
END_TEST

START_TEST(repointing_takes_effect)
{
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	link_("../mnt/other", "root/abcd1234");
	ASSERT_GET("abcd1234/start4.elf", "other start4\n");
	link_("../mnt/pi", "root/abcd1234");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	/* A dangling entry is simply not there. */
	link_("../mnt/gone", "root/abcd1234");
	ASSERT_REFUSED("abcd1234/start4.elf");
}
END_TEST

START_TEST(long_and_odd_names)
{
	char name[1001], b[64];

	memset(name, 'a', 1000);
	name[1000] = '\0';
	ck_assert_int_eq(get(name, b, sizeof(b)), SOURCE_NOT_FOUND);
	memcpy(name, "abcd1234/", 9);
	ck_assert_int_eq(get(name, b, sizeof(b)), SOURCE_NOT_FOUND);
	/* An embedded NUL in the name as received. */
	ck_assert_int_eq(resolve_open(rootfd, "bootcode.bin\0x", 14,
	    &(struct source *){ NULL }), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("boot\ncode.bin", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
}
END_TEST

static void
read_netascii(const char *content, const char *want, size_t wantlen,
    size_t step)
{
	struct source *src, *na;
	char out[256];
	size_t got = 0;
	ssize_t n;

	put("root/text", content);
	ck_assert_int_eq(resolve_open(rootfd, "text", 4, &src), SOURCE_OK);
	ck_assert_int_eq(netascii_wrap(src, &na), SOURCE_OK);
	while ((n = source_read(na, out + got, step, got)) > 0)
		got += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(got, wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	/* Reading again from the start rewinds. */
	n = source_read(na, out, sizeof(out), 0);
	ck_assert_int_eq(n, (ssize_t)wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	/* And from the middle. */
	if (wantlen >= 3) {
		n = source_read(na, out, sizeof(out), 3);
		ck_assert_int_eq(n, (ssize_t)wantlen - 3);
		ck_assert_mem_eq(out, want + 3, wantlen - 3);
	}
	source_close(na);
}

START_TEST(default_entry)
{
	/* No entry for 1234beef: a Pi without one gets nothing... */
	ASSERT_REFUSED("1234beef/start4.elf");
	link_("../mnt/other", "root/default");
	/* ...until there is a default entry, for serials and MACs alike. */
	ASSERT_GET("1234beef/start4.elf", "other start4\n");
	ASSERT_GET("dc-a6-32-01-36-c2/start4.elf", "other start4\n");
	/* A Pi with its own entry keeps it. */
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	/* Names that are not a machine's do not fall through to default. */
	ASSERT_REFUSED("notaserial/start4.elf");
	ASSERT_REFUSED("1234beeg/start4.elf");
	ASSERT_REFUSED("dc-a6-32-01-36/start4.elf");
	ASSERT_REFUSED("1234beef");
	/* The default entry's own path rules still hold. */
	ASSERT_REFUSED("1234beef/../../secret");
}
END_TEST

START_TEST(netascii_conversion)
{
	static const char want[] = "a\r\nb\r\0c\r\n\r\n";

	for (size_t step = 1; step < 8; step++)
		read_netascii("a\nb\rc\n\n", want, sizeof(want) - 1, step);
	read_netascii("", "", 0, 4);
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("tftpd_resolve");
	TCase *tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, serves_the_layout);
	tcase_add_test(tc, not_found_is_not_found);
	tcase_add_test(tc, traversal_refused);
	tcase_add_test(tc, symlinks_out_of_target_refused);
	tcase_add_test(tc, fifo_neither_opened_nor_hangs);
	tcase_add_test(tc, repointing_takes_effect);
	tcase_add_test(tc, long_and_odd_names);
	tcase_add_test(tc, default_entry);
	tcase_add_test(tc, netascii_conversion);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(resolve_suite)
