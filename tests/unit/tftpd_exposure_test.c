/* What a requested name may expose, without a file system: a table of
 * names as received (hostile ones among them) and how they split, and a
 * table of names and the facts resolve.c would find to the verdict and
 * the reason the administrator is told. */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/bootname.h"
#include "tftpd/exposure.h"
#include "tests/unit/check_main.h"

#define S(lit)	lit, sizeof(lit) - 1

/* How a name splits: refused with a status, a root file (its name, and
 * whether a '/' followed), or an entry and the path beneath it. */
static const struct split_row {
	const char *name;
	size_t len;
	enum source_status st;
	int root_file;
	const char *path;	/* root_file: the file; else the whole path */
	size_t first_len;
	int beneath;
	const char *rest;
} split_rows[] = {
	{ S(""), SOURCE_NOT_FOUND, 0, NULL, 0, 0, NULL },
	{ S("/"), SOURCE_NOT_FOUND, 0, NULL, 0, 0, NULL },
	{ S("///"), SOURCE_NOT_FOUND, 0, NULL, 0, 0, NULL },
	{ S("."), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S(".."), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S("/.."), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S("//../etc/passwd"), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S("./bootcode.bin"), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S("../x"), SOURCE_DENIED, 0, NULL, 0, 0, NULL },
	{ S("boot\0code.bin"), SOURCE_NOT_FOUND, 0, NULL, 0, 0, NULL },
	{ S("abcd1234/\0start4.elf"), SOURCE_NOT_FOUND, 0, NULL, 0, 0,
	    NULL },
	{ S("bootcode.bin"), SOURCE_OK, 1, "bootcode.bin", 12, 0, "" },
	{ S("/bootcode.bin"), SOURCE_OK, 1, "bootcode.bin", 12, 0, "" },
	{ S("bootcode.bin/"), SOURCE_OK, 1, "bootcode.bin", 12, 1, "" },
	{ S("abcd1234"), SOURCE_OK, 1, "abcd1234", 8, 0, "" },
	{ S("abcd1234/"), SOURCE_OK, 1, "abcd1234", 8, 1, "" },
	{ S("abcd1234/."), SOURCE_OK, 1, "abcd1234", 8, 1, "" },
	{ S("abcd1234//./."), SOURCE_OK, 1, "abcd1234", 8, 1, "" },
	{ S("/default/"), SOURCE_OK, 1, "default", 7, 1, "" },
	{ S("a\nb\x1b[2J"), SOURCE_OK, 1, "a\nb\x1b[2J", 7, 0, "" },
	{ S("abcd1234/start4.elf"), SOURCE_OK, 0, "abcd1234/start4.elf", 8,
	    0, "start4.elf" },
	{ S("abcd1234//start4.elf"), SOURCE_OK, 0, "abcd1234//start4.elf",
	    8, 0, "start4.elf" },
	{ S("abcd1234/../x"), SOURCE_OK, 0, "abcd1234/../x", 8, 0,
	    "../x" },
	{ S("abcd1234/./.."), SOURCE_OK, 0, "abcd1234/./..", 8, 0,
	    "./.." },
	{ S("abcd1234/.x"), SOURCE_OK, 0, "abcd1234/.x", 8, 0, ".x" },
	{ S("abcd1234/..."), SOURCE_OK, 0, "abcd1234/...", 8, 0, "..." },
	{ S("..x/y"), SOURCE_OK, 0, "..x/y", 3, 0, "y" },
};

START_TEST(splits_the_table)
{
	const struct split_row *r = &split_rows[_i];
	struct exposure_name n;
	enum source_status st;

	st = exposure_split(r->name, r->len, &n);
	ck_assert_msg(st == r->st, "row %d: status %d, want %d", _i, st,
	    r->st);
	if (st != SOURCE_OK)
		return;
	ck_assert_int_eq(n.root_file, r->root_file);
	ck_assert_str_eq(n.path, r->path);
	ck_assert_uint_eq(n.first_len, r->first_len);
	ck_assert_int_eq(n.beneath, r->beneath);
	ck_assert_str_eq(n.rest, r->rest);
	ck_assert(n.rest[0] == '\0' || (n.rest > n.path &&
	    n.rest < n.path + sizeof(n.path)));
}
END_TEST

START_TEST(refuses_names_too_long)
{
	char name[TFTPD_PATH_MAX + 2];
	struct exposure_name n;

	/* The longest accepted, with leading '/' not counted. */
	memset(name, 'a', sizeof(name));
	ck_assert_int_eq(exposure_split(name, TFTPD_PATH_MAX, &n),
	    SOURCE_OK);
	ck_assert_int_eq(n.root_file, 1);
	ck_assert_int_eq(exposure_split(name, TFTPD_PATH_MAX + 1, &n),
	    SOURCE_NOT_FOUND);
	name[0] = '/';
	ck_assert_int_eq(exposure_split(name, TFTPD_PATH_MAX + 1, &n),
	    SOURCE_OK);

	/* An entry's name longer than a file name can be. */
	memset(name, 'a', sizeof(name));
	name[NAME_MAX + 1] = '/';
	ck_assert_int_eq(exposure_split(name, NAME_MAX + 3, &n),
	    SOURCE_NOT_FOUND);
	name[NAME_MAX + 1] = 'a';
	name[NAME_MAX] = '/';
	ck_assert_int_eq(exposure_split(name, NAME_MAX + 3, &n), SOURCE_OK);
	ck_assert_int_eq(n.root_file, 0);
	ck_assert_uint_eq(n.first_len, NAME_MAX);
}
END_TEST

START_TEST(a_machine_tries_default)
{
	ck_assert_uint_eq(exposure_entry_names(S("abcd1234")), 2);
	ck_assert_uint_eq(exposure_entry_names(S("dc-a6-32-01-02-03")), 2);
	ck_assert_uint_eq(exposure_entry_names(S("ABCD1234")), 2);
	ck_assert_uint_eq(exposure_entry_names(S("abcdefgh")), 1);
	ck_assert_uint_eq(exposure_entry_names(S("abcd123")), 1);
	ck_assert_uint_eq(exposure_entry_names(S("default")), 1);
	ck_assert_uint_eq(exposure_entry_names(S("lab")), 1);
}
END_TEST

START_TEST(an_entry_found)
{
	ck_assert_int_eq(exposure_entry(BOOT_ENTRY_BROKEN), SOURCE_BROKEN);
	ck_assert_int_eq(exposure_entry(BOOT_ENTRY_NONE), SOURCE_NOT_FOUND);
	ck_assert_int_eq(exposure_entry(BOOT_ENTRY_DIR), SOURCE_OK);
	ck_assert_int_eq(exposure_entry(BOOT_ENTRY_FILE), SOURCE_OK);
	ck_assert_int_eq(exposure_entry(BOOT_ENTRY_RBD), SOURCE_OK);
}
END_TEST

/* A root file: what the lookups would find, in resolve.c's order. */
enum { MISSING = -1 };
static const struct root_row {
	const char *name;
	size_t len;
	int lookup_errno;	/* 0: found with mode */
	int default_there;
	mode_t mode;
	int open_errno;
	int is_image;
	int beneath;
	enum source_status st;
	const char *why;	/* a part of the reason, "" for none */
} root_rows[] = {
	{ S("bootcode.bin"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_OK, "" },
	{ S("bootcode.bin"), 0, 0, S_IFREG, 0, 0, 1, SOURCE_NOT_FOUND, "" },
	{ S("start4.elf"), ENOENT, 0, 0, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	{ S("start4.elf"), EACCES, 0, 0, 0, 0, 0, SOURCE_DENIED, "" },
	{ S("start4.elf"), EIO, 0, 0, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	{ S("start4.elf"), ENOTDIR, 0, 0, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	/* A machine with no entry of its own would boot default. */
	{ S("abcd1234"), ENOENT, 1, 0, 0, 0, 0, SOURCE_NOT_FOUND,
	    "default" },
	{ S("abcd1234"), ENOENT, 0, 0, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	{ S("abcd1234"), EACCES, 0, 0, 0, 0, 0, SOURCE_DENIED, "" },
	{ S("dc-a6-32-01-02-03"), ENOENT, 1, 0, 0, 0, 1, SOURCE_NOT_FOUND,
	    "default" },
	/* Entries in any spelling. */
	{ S("abcd1234"), 0, 0, S_IFLNK, 0, 0, 0, SOURCE_NOT_FOUND,
	    "names a boot entry" },
	{ S("abcd1234"), 0, 0, S_IFDIR, 0, 0, 1, SOURCE_NOT_FOUND,
	    "names a boot entry" },
	{ S("lab"), 0, 0, S_IFBLK, 0, 0, 0, SOURCE_NOT_FOUND,
	    "names a boot entry" },
	{ S("default"), 0, 0, S_IFDIR, 0, 0, 0, SOURCE_NOT_FOUND,
	    "names a boot entry" },
	/* Never opened. */
	{ S("fifo"), 0, 0, S_IFIFO, 0, 0, 0, SOURCE_NOT_FOUND, "FIFO" },
	{ S("abcd1234"), 0, 0, S_IFIFO, 0, 0, 1, SOURCE_NOT_FOUND, "FIFO" },
	{ S("sock"), 0, 0, S_IFSOCK, 0, 0, 0, SOURCE_NOT_FOUND, "FIFO" },
	{ S("null"), 0, 0, S_IFCHR, 0, 0, 0, SOURCE_NOT_FOUND, "FIFO" },
	/* A regular file named like an entry, even an image's. */
	{ S("abcd1234"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_NOT_FOUND,
	    "named like a boot entry" },
	{ S("dc-a6-32-01-02-03"), 0, 0, S_IFREG, 0, 1, 0, SOURCE_NOT_FOUND,
	    "named like a boot entry" },
	{ S("default"), 0, 0, S_IFREG, 0, 0, 1, SOURCE_NOT_FOUND,
	    "named like a boot entry" },
	{ S("ABCD1234"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_NOT_FOUND,
	    "named like a boot entry" },
	/* Not the shape of an entry: a plain file. */
	{ S("abcd123"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_OK, "" },
	{ S("abcdefgh"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_OK, "" },
	{ S("defaults"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_OK, "" },
	/* An image hard-linked into the root, in any spelling. */
	{ S("lab"), 0, 0, S_IFREG, 0, 1, 0, SOURCE_NOT_FOUND, "OS image" },
	{ S("lab"), 0, 0, S_IFREG, 0, 1, 1, SOURCE_NOT_FOUND, "OS image" },
	/* Opening it failed. */
	{ S("lab"), 0, 0, S_IFREG, EACCES, 0, 0, SOURCE_DENIED, "" },
	{ S("lab"), 0, 0, S_IFREG, EPERM, 0, 0, SOURCE_DENIED, "" },
	{ S("lab"), 0, 0, S_IFREG, ESTALE, 0, 0, SOURCE_DENIED, "" },
	{ S("lab"), 0, 0, S_IFREG, ELOOP, 0, 0, SOURCE_DENIED, "" },
	{ S("lab"), 0, 0, S_IFREG, ENOENT, 0, 0, SOURCE_ERROR, "" },
	{ S("lab"), 0, 0, S_IFREG, EIO, 0, 0, SOURCE_ERROR, "" },
	{ S("lab"), 0, 0, S_IFREG, EMFILE, 0, 0, SOURCE_ERROR, "" },
	/* Not a plain name: never looked up. */
	{ S("a\nb"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	{ S("\x1b[2J"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_NOT_FOUND, "" },
	{ S("bad\x7f"), 0, 0, S_IFREG, 0, 0, 0, SOURCE_NOT_FOUND, "" },
};

/* resolve.c's root_file_open over a row's facts instead of the file
 * system. */
static enum source_status
root_verdict(const struct root_row *r, const char **why)
{
	enum source_status st;
	int asked;

	*why = "";
	if ((st = exposure_root_name(r->name, r->len)) != SOURCE_OK)
		return st;
	if (r->lookup_errno != 0) {
		asked = exposure_root_missing_asks_default(r->name, r->len,
		    r->lookup_errno);
		return exposure_root_missing(r->lookup_errno,
		    asked && r->default_there, why);
	}
	if ((st = exposure_root_found(r->name, r->len, r->mode, why)) !=
	    SOURCE_OK)
		return st;
	if (r->open_errno != 0)
		return exposure_root_open_failed(r->open_errno);
	return exposure_root_opened(r->is_image, r->beneath, why);
}

START_TEST(root_files_by_the_table)
{
	const struct root_row *r = &root_rows[_i];
	enum source_status st;
	const char *why;

	st = root_verdict(r, &why);
	ck_assert_msg(st == r->st, "row %d (%s): status %d, want %d", _i,
	    r->name, st, r->st);
	if (r->why[0] == '\0')
		ck_assert_msg(why[0] == '\0', "row %d: reason \"%s\"", _i,
		    why);
	else
		ck_assert_msg(strstr(why, r->why) != NULL,
		    "row %d: reason \"%s\", want \"%s\"", _i, why, r->why);
}
END_TEST

START_TEST(asks_default_only_for_a_missing_machine)
{
	ck_assert(exposure_root_missing_asks_default(S("abcd1234"),
	    ENOENT));
	ck_assert(!exposure_root_missing_asks_default(S("abcd1234"),
	    EACCES));
	ck_assert(!exposure_root_missing_asks_default(S("lab"), ENOENT));
	ck_assert(!exposure_root_missing_asks_default(S("default"),
	    ENOENT));
}
END_TEST

static Suite *
exposure_suite(void)
{
	Suite *s = suite_create("tftpd_exposure");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, splits_the_table, 0,
	    sizeof(split_rows) / sizeof(split_rows[0]));
	tcase_add_test(tc, refuses_names_too_long);
	tcase_add_test(tc, a_machine_tries_default);
	tcase_add_test(tc, an_entry_found);
	tcase_add_loop_test(tc, root_files_by_the_table, 0,
	    sizeof(root_rows) / sizeof(root_rows[0]));
	tcase_add_test(tc, asks_default_only_for_a_missing_machine);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(exposure_suite)
