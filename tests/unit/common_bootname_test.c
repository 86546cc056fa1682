#include <limits.h>
#include <string.h>

#include "common/bootname.h"
#include "tests/unit/check_main.h"

START_TEST(not_plain)
{
	char longname[NAME_MAX + 2];

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
}
END_TEST

START_TEST(plain)
{
	char longest[NAME_MAX + 1];

	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ck_assert(plain_name_valid("...", 3));
	ck_assert(plain_name_valid("abcd1234", 8));
	ck_assert(plain_name_valid(".hidden", 7));
	ck_assert(plain_name_valid(longest, strlen(longest)));
}
END_TEST

static Suite *
bootname_suite(void)
{
	Suite *s = suite_create("common/bootname");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, not_plain);
	tcase_add_test(tc, plain);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bootname_suite)
