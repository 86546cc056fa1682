/* The names netboot-prep is given: images, --pi serials and MACs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/names.h"
#include "tests/unit/check_main.h"

START_TEST(names)
{
	char e[MAC_NAME_LEN + 1];
	uint64_t v;

	ck_assert_ptr_null(prep_name_check("lab"));
	ck_assert_ptr_null(prep_name_check("pi-01_bookworm.2"));
	ck_assert_ptr_nonnull(prep_name_check(""));
	ck_assert_ptr_nonnull(prep_name_check(".hidden"));
	ck_assert_ptr_nonnull(prep_name_check("-x"));
	ck_assert_ptr_nonnull(prep_name_check("a/b"));
	ck_assert_ptr_nonnull(prep_name_check("a b"));
	ck_assert_ptr_nonnull(prep_name_check("a..b"));
	ck_assert_ptr_nonnull(prep_name_check("lab.img"));
	ck_assert_ptr_null(pi_entry_name("10000000ABCD1234", e));
	ck_assert_str_eq(e, "abcd1234");
	ck_assert_ptr_null(pi_entry_name("DC:A6:32:01:36:C2", e));
	ck_assert_str_eq(e, "dc-a6-32-01-36-c2");
	ck_assert_ptr_null(pi_entry_name("dc-a6-32-01-36-c2", e));
	ck_assert_str_eq(e, "dc-a6-32-01-36-c2");
	ck_assert_ptr_nonnull(pi_entry_name("abcd123", e));
	ck_assert_ptr_nonnull(pi_entry_name("abcd123g", e));
	ck_assert_ptr_nonnull(pi_entry_name("../../etc", e));
	ck_assert_ptr_nonnull(pi_entry_name("dc:a6-32:01:36:c2", e));
	ck_assert_ptr_nonnull(pi_entry_name("dc:a6:32:01:36:cg", e));
	ck_assert_int_eq(prep_size_parse("4G", &v), 0);
	ck_assert_uint_eq(v, 4ull << 30);
	ck_assert_int_eq(prep_size_parse("8000MiB", &v), 0);
	ck_assert_uint_eq(v, 8000ull << 20);
	ck_assert_int_eq(prep_size_parse("1048576", &v), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(prep_size_parse("4X", &v), -1);
	ck_assert_int_eq(prep_size_parse("G", &v), -1);
	ck_assert_int_eq(prep_size_parse("99999999999T", &v), -1);
}
END_TEST

static Suite *
names_suite(void)
{
	Suite *s = suite_create("netboot-prep/names");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(names_suite)
