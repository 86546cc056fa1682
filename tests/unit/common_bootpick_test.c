/* The one rule for which entry a machine boots by: the first name that is
 * there decides, a broken entry included, which never falls through to a
 * later name (default). */
#include <check.h>
#include <string.h>

#include "common/bootpick.h"
#include "tests/unit/check_main.h"

/* A boot directory as a list of "name=type" facts; the names asked, in
 * order. */
struct fake {
	const char *const *facts;
	char asked[8][32];
	int nasked;
};

static enum boot_entry_type
fake_look(void *ctx, const char *name)
{
	struct fake *f = ctx;
	size_t len = strlen(name);

	ck_assert_int_lt(f->nasked, 8);
	strlcpy(f->asked[f->nasked++], name, sizeof(f->asked[0]));
	for (const char *const *p = f->facts; *p != NULL; p++) {
		if (strncmp(*p, name, len) != 0 || (*p)[len] != '=')
			continue;
		switch ((*p)[len + 1]) {
		case 'd': return BOOT_ENTRY_DIR;
		case 'f': return BOOT_ENTRY_FILE;
		case 'b': return BOOT_ENTRY_BROKEN;
		}
	}
	return BOOT_ENTRY_NONE;
}

static const char *const pi_names[] = {
	"abcd1234", "dc-a6-32-01-36-c2", BOOTPICK_DEFAULT,
};

static enum boot_entry_type
pick(const char *const *facts, struct fake *f, size_t *picked)
{
	memset(f, 0, sizeof(*f));
	f->facts = facts;
	return bootpick(pi_names, 3, fake_look, f, picked);
}

START_TEST(first_there_decides)
{
	static const char *const own[] = { "abcd1234=file",
	    "dc-a6-32-01-36-c2=dir", "default=dir", NULL };
	static const char *const by_mac[] = { "dc-a6-32-01-36-c2=dir",
	    "default=file", NULL };
	static const char *const by_default[] = { "default=file", NULL };
	static const char *const nothing[] = { "other=dir", NULL };
	struct fake f;
	size_t picked;

	ck_assert_int_eq(pick(own, &f, &picked), BOOT_ENTRY_FILE);
	ck_assert_uint_eq(picked, 0);
	/* Nothing after the name that decides is asked for. */
	ck_assert_int_eq(f.nasked, 1);
	ck_assert_int_eq(pick(by_mac, &f, &picked), BOOT_ENTRY_DIR);
	ck_assert_uint_eq(picked, 1);
	ck_assert_int_eq(f.nasked, 2);
	ck_assert_int_eq(pick(by_default, &f, &picked), BOOT_ENTRY_FILE);
	ck_assert_uint_eq(picked, 2);
	ck_assert_str_eq(f.asked[0], "abcd1234");
	ck_assert_str_eq(f.asked[1], "dc-a6-32-01-36-c2");
	ck_assert_str_eq(f.asked[2], "default");
	ck_assert_int_eq(pick(nothing, &f, &picked), BOOT_ENTRY_NONE);
	ck_assert_uint_eq(picked, 3);
	ck_assert_int_eq(f.nasked, 3);
}
END_TEST

START_TEST(broken_is_never_passed_over)
{
	static const char *const own_broken[] = { "abcd1234=broken",
	    "dc-a6-32-01-36-c2=dir", "default=dir", NULL };
	static const char *const mac_broken[] = {
	    "dc-a6-32-01-36-c2=broken", "default=dir", NULL };
	static const char *const default_broken[] = { "default=broken",
	    NULL };
	struct fake f;
	size_t picked;

	ck_assert_int_eq(pick(own_broken, &f, &picked), BOOT_ENTRY_BROKEN);
	ck_assert_uint_eq(picked, 0);
	ck_assert_int_eq(f.nasked, 1);
	ck_assert_int_eq(pick(mac_broken, &f, &picked), BOOT_ENTRY_BROKEN);
	ck_assert_uint_eq(picked, 1);
	ck_assert_int_eq(f.nasked, 2);
	ck_assert_int_eq(pick(default_broken, &f, &picked),
	    BOOT_ENTRY_BROKEN);
	ck_assert_uint_eq(picked, 2);
}
END_TEST

START_TEST(no_names)
{
	struct fake f;
	size_t picked = 99;

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(bootpick(pi_names, 0, fake_look, &f, &picked),
	    BOOT_ENTRY_NONE);
	ck_assert_uint_eq(picked, 0);
	ck_assert_int_eq(f.nasked, 0);
}
END_TEST

static Suite *
bootpick_suite(void)
{
	Suite *s = suite_create("common/bootpick");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, first_there_decides);
	tcase_add_test(tc, broken_is_never_passed_over);
	tcase_add_test(tc, no_names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bootpick_suite)
