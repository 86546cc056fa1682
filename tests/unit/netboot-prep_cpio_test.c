/* newc archives read and written, and the named gzip member. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/cpio.h"
#include "tests/unit/check_main.h"

START_TEST(cpio_round_trip)
{
	struct cpio_out o = { 0 };
	struct cpio_entry *e = malloc(sizeof(*e));
	size_t off = 0;

	cpio_add(&o, "/scripts", 040755, 0, NULL, 0);
	cpio_add(&o, "scripts/local-top/nbd", 0100755, 0, "#!/bin/sh\n", 10);
	cpio_finish(&o);
	ck_assert_int_eq(o.failed, 0);
	ck_assert(cpio_is_header(o.buf, o.len, 0));
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_OK);
	ck_assert_str_eq(e->name, "scripts");
	ck_assert_uint_eq(e->mode, 040755);
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_OK);
	ck_assert_str_eq(e->name, "scripts/local-top/nbd");
	ck_assert_uint_eq(e->size, 10);
	ck_assert_int_eq(memcmp(e->data, "#!/bin/sh\n", 10), 0);
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_END);
	ck_assert_uint_eq(off, o.len);
	/* Cut anywhere: never read past the end. */
	for (size_t cut = 0; cut < o.len - 4; cut++) {
		size_t k = 0;
		enum cpio_result r;

		while ((r = cpio_next(o.buf, cut, &k, e)) == CPIO_OK)
			ck_assert_uint_le(k, cut);
		ck_assert_int_eq(r, CPIO_BAD);
	}
	cpio_free(&o);
	free(e);
}
END_TEST

START_TEST(gzip_name)
{
	/* gzip -n's header for an empty input, and its trailer. */
	const uint8_t plain[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 3, 0,
	    0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t out[64], big[200];
	size_t n;

	n = gzip_named(plain, sizeof(plain), "x.cpio", out, sizeof(out));
	ck_assert_uint_eq(n, sizeof(plain) + 7);
	ck_assert_uint_eq(out[3], 8);
	ck_assert_str_eq((char *)out + 10, "x.cpio");
	memset(big, 0x1f, sizeof(big));
	memcpy(big + 100, out, n);
	ck_assert_uint_eq(gzip_find_named(big, 100 + n, "x.cpio"), 100);
	ck_assert_uint_eq(gzip_find_named(big, 100 + n, "y.cpio"), 100 + n);
	ck_assert_uint_eq(gzip_named(out, n, "x", big, sizeof(big)), 0);
	ck_assert_str_eq(compression_name(plain, sizeof(plain)), "gzip");
	ck_assert_str_eq(compression_name((const uint8_t *)"\x28\xb5\x2f\xfd",
	    4), "zstd");
	ck_assert_ptr_null(compression_name((const uint8_t *)"070701", 6));
}
END_TEST

static Suite *
cpio_suite(void)
{
	Suite *s = suite_create("netboot-prep/cpio");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cpio_round_trip);
	tcase_add_test(tc, gzip_name);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cpio_suite)
