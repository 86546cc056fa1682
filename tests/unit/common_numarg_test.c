#include <stdint.h>

#include "common/numarg.h"
#include "tests/unit/check_main.h"

START_TEST(counts)
{
	long long v = -1;

	ck_assert_ptr_null(cmdline_count("0", 0, 65535, &v));
	ck_assert_int_eq(v, 0);
	ck_assert_ptr_null(cmdline_count("65535", 0, 65535, &v));
	ck_assert_int_eq(v, 65535);
	ck_assert_str_eq(cmdline_count("65536", 0, 65535, &v), "too large");
	ck_assert_str_eq(cmdline_count("0", 1, 10, &v), "too small");
	ck_assert_str_eq(cmdline_count("12x", 1, 100, &v), "not a number");
	ck_assert_str_eq(cmdline_count("", 1, 100, &v), "not a number");
}
END_TEST

START_TEST(ports)
{
	uint16_t port = 0;

	ck_assert_ptr_null(cmdline_port("69", &port));
	ck_assert_int_eq(port, 69);
	ck_assert_ptr_null(cmdline_port("65535", &port));
	ck_assert_int_eq(port, 65535);
	ck_assert_str_eq(cmdline_port("0", &port), "out of range 1-65535");
	ck_assert_str_eq(cmdline_port("65536", &port), "out of range 1-65535");
	ck_assert_str_eq(cmdline_port("tftp", &port), "not a number");
	ck_assert_int_eq(port, 65535);
}
END_TEST

static Suite *
numarg_suite(void)
{
	Suite *s = suite_create("common/numarg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, counts);
	tcase_add_test(tc, ports);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(numarg_suite)
