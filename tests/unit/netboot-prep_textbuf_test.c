/* The buffer fstab.c and shvars.c rewrite their files into: it holds
 * what fits, NUL-terminated, and refuses the piece that does not, whole. */
#include <string.h>

#include "netboot-prep/textbuf.h"
#include "tests/unit/check_main.h"

START_TEST(appends_until_full)
{
	char out[8];
	size_t pos = 0;

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "abc", 3), 0);
	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "defg", 4), 0);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_uint_eq(pos, 7);
	/* The terminator fills the last byte: nothing more fits. */
	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "h", 1), -1);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_uint_eq(pos, 7);
}
END_TEST

START_TEST(refuses_a_piece_whole)
{
	char out[6];
	size_t pos = 0;

	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "ab", 2), 0);
	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "cdef", 4), -1);
	ck_assert_str_eq(out, "ab");
	ck_assert_uint_eq(pos, 2);
	ck_assert_int_eq(text_append(out, sizeof(out), &pos, "", 0), 0);
	ck_assert_str_eq(out, "ab");
}
END_TEST

static Suite *
textbuf_suite(void)
{
	Suite *s = suite_create("netboot-prep_textbuf");
	TCase *tc = tcase_create("text_append");

	tcase_add_test(tc, appends_until_full);
	tcase_add_test(tc, refuses_a_piece_whole);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(textbuf_suite)
