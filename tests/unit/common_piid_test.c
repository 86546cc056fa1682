#include <string.h>

#include "common/piid.h"
#include "tests/unit/check_main.h"

START_TEST(serial_from_cpuinfo)
{
	char s[SERIAL_LEN + 1];

	ck_assert_int_eq(serial_normalise("10000000ABCD1234", s), 0);
	ck_assert_str_eq(s, "abcd1234");
	ck_assert_int_eq(serial_normalise("abcd1234", s), 0);
	ck_assert_str_eq(s, "abcd1234");
	ck_assert_int_eq(serial_normalise("00000000DeadBeef", s), 0);
	ck_assert_str_eq(s, "deadbeef");
}
END_TEST

START_TEST(serial_bad)
{
	char s[SERIAL_LEN + 1] = "unset";

	ck_assert_int_eq(serial_normalise("", s), -1);
	ck_assert_int_eq(serial_normalise("abcd123", s), -1);	/* short */
	ck_assert_int_eq(serial_normalise("100000000abcd1234", s), -1);
	ck_assert_int_eq(serial_normalise("abcd123g", s), -1);
	ck_assert_int_eq(serial_normalise("abcd 1234", s), -1);
	ck_assert_int_eq(serial_normalise("../../etc", s), -1);
	ck_assert_int_eq(serial_normalise("0xabcd1234", s), -1);
	ck_assert_str_eq(s, "unset");	/* untouched on error */
}
END_TEST

START_TEST(mac_names)
{
	const uint8_t mac[6] = { 0xdc, 0xa6, 0x32, 0x01, 0x36, 0xc2 };
	char n[MAC_NAME_LEN + 1];

	mac_entry_name(mac, n);
	ck_assert_str_eq(n, "dc-a6-32-01-36-c2");
	mac_colon(mac, n);
	ck_assert_str_eq(n, "dc:a6:32:01:36:c2");
}
END_TEST

START_TEST(machine_names)
{
	static const char *const yes[] = { "abcd1234", "ABCD1234",
	    "00000000", "dc-a6-32-01-36-c2", "DC-A6-32-01-36-C2" };
	static const char *const no[] = { "", "abcd123", "abcd12345",
	    "abcd123g", "default", "admin", "jammy", "dc:a6:32:01:36:c2",
	    "dc-a6-32-01-36-c", "dc-a6-32-01-36-c2-", "dca6-32-01-36-c2x",
	    "dc-a6-32-01-3g-c2", "-----------------", "abcd 234" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(piid_names_machine(yes[i], strlen(yes[i])),
		    "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!piid_names_machine(no[i], strlen(no[i])),
		    "%s", no[i]);
	/* Only len bytes count. */
	ck_assert(piid_names_machine("abcd1234-laptop", 8));
	{
		static const char nul[8] = { 'a', 'b', 'c', 'd', 0, '2', '3',
		    '4' };

		ck_assert(!piid_names_machine(nul, sizeof(nul)));
	}
}
END_TEST

START_TEST(opt97_new_form)
{
	/* type 0, "RPi4", revision 0x00c03111, MAC low 32:01:36:c2,
	 * serial 0xabcd1234, all little-endian. */
	const uint8_t v[OPT97_LEN] = { 0, 'R', 'P', 'i', '4',
		0x11, 0x31, 0xc0, 0x00, 0x32, 0x01, 0x36, 0xc2,
		0x34, 0x12, 0xcd, 0xab };
	struct pi_opt97 o;

	ck_assert_int_eq(opt97_decode(v, sizeof(v), &o), 0);
	ck_assert_int_eq(o.form, OPT97_FORM_NEW);
	ck_assert_int_eq(o.fourcc_rpi4, 1);
	ck_assert_uint_eq(o.revision, 0x00c03111);
	ck_assert_uint_eq(o.serial, 0xabcd1234);
	ck_assert_str_eq(o.serial_str, "abcd1234");
	ck_assert_mem_eq(o.mac_low, "\x32\x01\x36\xc2", 4);
}
END_TEST

START_TEST(opt97_new_form_other_prefix)
{
	/* EEPROM DHCP_OPTION97 replaced the fourcc: still the new layout. */
	const uint8_t v[OPT97_LEN] = { 0, 'A', 'B', 'C', 'D',
		1, 2, 3, 4, 5, 6, 7, 8, 0x78, 0x56, 0x34, 0x12 };
	struct pi_opt97 o;

	ck_assert_int_eq(opt97_decode(v, sizeof(v), &o), 0);
	ck_assert_int_eq(o.form, OPT97_FORM_NEW);
	ck_assert_int_eq(o.fourcc_rpi4, 0);
	ck_assert_str_eq(o.serial_str, "12345678");
}
END_TEST

START_TEST(opt97_old_form)
{
	const uint8_t v[OPT97_LEN] = { 0, 0x34, 0x12, 0xcd, 0xab,
		0x34, 0x12, 0xcd, 0xab, 0x34, 0x12, 0xcd, 0xab,
		0x34, 0x12, 0xcd, 0xab };
	struct pi_opt97 o;

	ck_assert_int_eq(opt97_decode(v, sizeof(v), &o), 0);
	ck_assert_int_eq(o.form, OPT97_FORM_OLD);
	ck_assert_str_eq(o.serial_str, "abcd1234");
}
END_TEST

START_TEST(opt97_bad)
{
	uint8_t v[255];
	struct pi_opt97 o;

	memset(v, 0, sizeof(v));
	ck_assert_int_eq(opt97_decode(v, 0, &o), -1);
	ck_assert_int_eq(opt97_decode(v, 16, &o), -1);
	ck_assert_int_eq(opt97_decode(v, 18, &o), -1);
	ck_assert_int_eq(opt97_decode(v, 255, &o), -1);
	/* type 0 and a nil UUID: no serial, not serial 00000000 */
	ck_assert_int_eq(opt97_decode(v, OPT97_LEN, &o), -1);
	v[16] = 1;
	ck_assert_int_eq(opt97_decode(v, OPT97_LEN, &o), 0);
	v[0] = 1;	/* type must be 0 */
	ck_assert_int_eq(opt97_decode(v, OPT97_LEN, &o), -1);
}
END_TEST

static Suite *
piid_suite(void)
{
	Suite *s = suite_create("common/piid");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, serial_from_cpuinfo);
	tcase_add_test(tc, serial_bad);
	tcase_add_test(tc, mac_names);
	tcase_add_test(tc, machine_names);
	tcase_add_test(tc, opt97_new_form);
	tcase_add_test(tc, opt97_new_form_other_prefix);
	tcase_add_test(tc, opt97_old_form);
	tcase_add_test(tc, opt97_bad);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(piid_suite)
