/* nbdd -q SIZE: bytes, K, M, G and T; nothing else, nothing that
 * overflows. */
#include <check.h>
#include <stdint.h>

#include "nbdd/sizearg.h"
#include "tests/unit/check_main.h"

START_TEST(good)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} cases[] = {
		{ "0", 0 }, { "1", 1 }, { "4096", 4096 }, { "64K", 65536 },
		{ "64k", 65536 }, { "1M", 1 << 20 }, { "4G", 4ULL << 30 },
		{ "4g", 4ULL << 30 }, { "2T", 2ULL << 40 },
		{ "9223372036854775807", INT64_MAX },
		{ "8388607T", 8388607ULL << 40 },
	};
	uint64_t b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = 12345;
		ck_assert_msg(size_parse(cases[i].s, &b), "%s", cases[i].s);
		ck_assert_uint_eq(b, cases[i].bytes);
	}
}
END_TEST

START_TEST(bad)
{
	static const char *const cases[] = {
		"", "K", "-1", "+1", " 1", "1 ", "1KB", "1KiB", "1.5G", "1P",
		"0x10", "1e3", "9223372036854775808", "8388608T",
		"99999999999999999999999", "18446744073709551616",
	};
	uint64_t b = 777;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(!size_parse(cases[i], &b), "\"%s\" taken",
		    cases[i]);
		ck_assert_uint_eq(b, 777);
	}
}
END_TEST

/* -q and -Q: a size, or the one message for both; the value that means
 * "not given" is none a flag can set. */
START_TEST(flags)
{
	uint64_t b = 7;

	ck_assert_ptr_null(size_flag("4G", &b));
	ck_assert_uint_eq(b, 4ULL << 30);
	ck_assert_ptr_null(size_flag("0", &b));
	ck_assert_uint_eq(b, 0);
	b = 7;
	ck_assert_str_eq(size_flag("4X", &b), "not a size (bytes, or a "
	    "number with K, M, G or T)");
	ck_assert_uint_eq(b, 7);
	ck_assert_ptr_nonnull(size_flag("", &b));
	ck_assert_ptr_nonnull(size_flag("-1", &b));
	ck_assert_ptr_nonnull(size_flag("18446744073709551615", &b));
	ck_assert_ptr_nonnull(size_flag("16777216T", &b));
	ck_assert_uint_eq(b, 7);
	ck_assert_ptr_null(size_flag("9223372036854775807", &b));
	ck_assert_uint_ne(b, SIZE_UNSET);
}
END_TEST

static Suite *
sizearg_suite(void)
{
	Suite *s = suite_create("nbdd_sizearg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, good);
	tcase_add_test(tc, bad);
	tcase_add_test(tc, flags);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(sizearg_suite)
