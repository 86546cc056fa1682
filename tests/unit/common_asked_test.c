#include <string.h>

#include "common/asked.h"
#include "tests/unit/check_main.h"

START_TEST(line_round_trip)
{
	struct asked_table t;
	struct asked_entry e;
	char line[ASKED_LINE_LEN];
	size_t slot;

	memset(&t, 0, sizeof(t));
	slot = asked_note(&t, "abcd1234", "dc-a6-32-01-36-c2", 1765000000,
	    line);
	ck_assert_uint_eq(slot, 0);
	ck_assert_int_eq(memcmp(line,
	    "abcd1234 dc-a6-32-01-36-c2   1765000000          1\n",
	    ASKED_LINE_LEN), 0);
	ck_assert_int_eq(asked_parse_line(line, sizeof(line), &e), 0);
	ck_assert_str_eq(e.serial, "abcd1234");
	ck_assert_str_eq(e.mac, "dc-a6-32-01-36-c2");
	ck_assert_int_eq(e.last, 1765000000);
	ck_assert_uint_eq(e.count, 1);
	/* The same machine again: its slot, counted, serial kept. */
	slot = asked_note(&t, "", "dc-a6-32-01-36-c2", 1765000009, line);
	ck_assert_uint_eq(slot, 0);
	ck_assert_int_eq(asked_parse_line(line, sizeof(line), &e), 0);
	ck_assert_str_eq(e.serial, "abcd1234");
	ck_assert_uint_eq(e.count, 2);
	/* A machine without a serial. */
	slot = asked_note(&t, NULL, "52-54-00-12-34-56", 1765000010, line);
	ck_assert_uint_eq(slot, 1);
	ck_assert_int_eq(memcmp(line, "-------- 52-54-00", 17), 0);
	ck_assert_int_eq(asked_parse_line(line, sizeof(line), &e), 0);
	ck_assert_str_eq(e.serial, "");
}
END_TEST

START_TEST(bounded)
{
	struct asked_table t;
	char line[ASKED_LINE_LEN], mac[MAC_NAME_LEN + 1];
	size_t slot;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < ASKED_SLOTS; i++) {
		snprintf(mac, sizeof(mac), "02-00-00-00-%02x-%02x", i >> 8,
		    i & 0xff);
		ck_assert_uint_eq(asked_note(&t, NULL, mac, 1000 + i, line),
		    (size_t)i);
	}
	/* Refresh the oldest, so the second oldest makes room. */
	ck_assert_uint_eq(asked_note(&t, NULL, "02-00-00-00-00-00", 5000,
	    line), 0);
	slot = asked_note(&t, "abcd1234", "dc-a6-32-01-36-c2", 5001, line);
	ck_assert_uint_eq(slot, 1);
}
END_TEST

START_TEST(load_skips_garbage)
{
	struct asked_table t;
	char buf[3 * ASKED_LINE_LEN];
	struct asked_entry e = { .used = 1, .serial = "abcd1234",
	    .mac = "dc-a6-32-01-36-c2", .last = 42, .count = 7 };

	memset(buf, 'x', sizeof(buf));
	asked_format(&e, buf + ASKED_LINE_LEN);
	asked_load(&t, buf, sizeof(buf));
	ck_assert_int_eq(t.slot[0].used, 0);
	ck_assert_int_eq(t.slot[1].used, 1);
	ck_assert_uint_eq(t.slot[1].count, 7);
	ck_assert_int_eq(t.slot[2].used, 0);
	/* A short tail is no record. */
	asked_load(&t, buf, ASKED_LINE_LEN + 10);
	ck_assert_int_eq(t.slot[1].used, 0);
}
END_TEST

START_TEST(parse_rejects)
{
	struct asked_entry e;
	const char *bad[] = {
		"ABCD1234 dc-a6-32-01-36-c2   1765000000          1\n",
		"abcd1234 dc:a6:32:01:36:c2   1765000000          1\n",
		"abcd1234 dc-a6-32-01-36-c2   17650000x0          1\n",
		"abcd1234 dc-a6-32-01-36-c2   1765000000 99999999999\n",
		"abcd1234 dc-a6-32-01-36-c2                       1\n",
		"abcd1234 dc-a6-32-01-36-c2 1765000000 1\n",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(asked_parse_line(bad[i], strlen(bad[i]), &e) == -1,
		    "accepted: %s", bad[i]);
}
END_TEST

static Suite *
asked_suite(void)
{
	Suite *s = suite_create("asked");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, line_round_trip);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, load_skips_garbage);
	tcase_add_test(tc, parse_rejects);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(asked_suite)
