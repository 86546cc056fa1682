/* The PSK file's lines, as psktool(1) writes them and as an
 * administrator may mistype them. */
#include <check.h>
#include <string.h>

#include "nbdd/pskfile.h"
#include "tests/unit/check_main.h"

static enum psk_line
line(const char *s, struct psk_entry *e)
{
	return psk_parse_line(s, strlen(s), e);
}

START_TEST(psk_lines)
{
	struct psk_entry e;
	char longkey[2 * (PSK_KEY_MAX + 1) + 16];

	ck_assert_int_eq(line("abcd1234:61c3f60ecae75a68c0ecec58f45636d1"
	    "0efe886398ad1e497a9bcd2b0d624a4e", &e), PSK_LINE_OK);
	ck_assert_str_eq(e.user, "abcd1234");
	ck_assert_uint_eq(e.keylen, 32);
	ck_assert_uint_eq(e.key[0], 0x61);
	ck_assert_uint_eq(e.key[31], 0x4e);
	ck_assert_int_eq(line("dc-a6-32-01-36-c2:00112233445566778899AABBCC"
	    "DDEEFF", &e), PSK_LINE_OK);
	ck_assert_uint_eq(e.key[15], 0xff);
	ck_assert_int_eq(line("", &e), PSK_LINE_EMPTY);
	ck_assert_int_eq(line("abcd1234", &e), PSK_LINE_NO_COLON);
	ck_assert_int_eq(line(":00112233445566778899aabbccddeeff", &e),
	    PSK_LINE_BAD_USER);
	ck_assert_int_eq(line("a/b:00112233445566778899aabbccddeeff", &e),
	    PSK_LINE_BAD_USER);
	ck_assert_int_eq(line("..:00112233445566778899aabbccddeeff", &e),
	    PSK_LINE_BAD_USER);
	ck_assert_int_eq(line("#61626364:00112233445566778899aabbccddeeff",
	    &e), PSK_LINE_BAD_USER);
	ck_assert_int_eq(line("a\tb:00112233445566778899aabbccddeeff", &e),
	    PSK_LINE_BAD_USER);
	ck_assert_int_eq(line("pi:00112233445566778899aabbccddeef", &e),
	    PSK_LINE_BAD_HEX);
	ck_assert_int_eq(line("pi:00112233445566778899aabbccddeefg", &e),
	    PSK_LINE_BAD_HEX);
	ck_assert_int_eq(line("pi:00112233445566778899aabbccddeeff\r", &e),
	    PSK_LINE_BAD_HEX);
	ck_assert_int_eq(line("pi:00112233445566778899aabbccddee", &e),
	    PSK_LINE_SHORT_KEY);
	ck_assert_uint_eq(e.keylen, 0);
	ck_assert_uint_eq(e.key[0], 0);		/* nothing left behind */
	ck_assert_int_eq(line("pi:", &e), PSK_LINE_SHORT_KEY);
	/* The user may hold colons no more than a name may hold '/'. */
	ck_assert_int_eq(line("pi:x:00112233445566778899aabbccddeeff", &e),
	    PSK_LINE_BAD_HEX);
	memset(longkey, 'a', sizeof(longkey));
	memcpy(longkey, "pi:", 3);
	longkey[3 + 2 * (PSK_KEY_MAX + 1)] = '\0';
	ck_assert_int_eq(line(longkey, &e), PSK_LINE_LONG_KEY);
	longkey[3 + 2 * PSK_KEY_MAX] = '\0';
	ck_assert_int_eq(line(longkey, &e), PSK_LINE_OK);
	ck_assert_uint_eq(e.keylen, PSK_KEY_MAX);
	/* Not NUL-terminated: only len bytes are looked at. */
	ck_assert_int_eq(psk_parse_line("pi:00112233445566778899aabbccddeeffXX",
	    35, &e), PSK_LINE_OK);
	for (int r = PSK_LINE_NO_COLON; r <= PSK_LINE_LONG_KEY; r++)
		ck_assert_ptr_null(strstr(psk_line_error(r), "unknown"));
}
END_TEST

static Suite *
pskfile_suite(void)
{
	Suite *s = suite_create("nbdd/pskfile");
	TCase *tc = tcase_create("lines");

	tcase_add_test(tc, psk_lines);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pskfile_suite)
