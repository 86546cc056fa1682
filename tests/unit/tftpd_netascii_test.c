/* tftpd/netascii.c: the conversion, reading back after a rewind, and the
 * size the overload scheduler weighs while the real one is unknown. */
#include <check.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "tftpd/netascii.h"
#include "tftpd/source.h"

struct mem_source {
	struct source base;
	const uint8_t *bytes;
	int closed;
};

static ssize_t
mem_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	struct mem_source *m = (struct mem_source *)src;

	if (off >= m->base.size)
		return 0;
	if (len > m->base.size - off)
		len = (size_t)(m->base.size - off);
	memcpy(buf, m->bytes + off, len);
	return (ssize_t)len;
}

static void
mem_close(struct source *src)
{
	((struct mem_source *)src)->closed = 1;
}

static const struct source_ops mem_ops = { .read = mem_read,
	.close = mem_close };

static struct mem_source
mem(const char *text)
{
	struct mem_source m = { .base = { .ops = &mem_ops,
	    .size = strlen(text) }, .bytes = (const uint8_t *)text };

	strlcpy(m.base.name, "cmdline.txt", sizeof(m.base.name));
	return m;
}

START_TEST(converts_lf_and_bare_cr)
{
	struct mem_source m = mem("a\nb\rc\r\n");
	struct source *na;
	char out[32];
	ssize_t got;

	ck_assert_int_eq(netascii_wrap(&m.base, &na), SOURCE_OK);
	got = source_read(na, out, sizeof(out), 0);
	ck_assert_int_eq(got, 11);
	ck_assert_mem_eq(out, "a\r\nb\r\0c\r\0\r\n", 11);
	ck_assert_int_eq(source_read(na, out, sizeof(out), 11), 0);
	/* A block sent again: read from the start once more. */
	got = source_read(na, out, 4, 2);
	ck_assert_int_eq(got, 4);
	ck_assert_mem_eq(out, "\nb\r\0", 4);
	source_close(na);
	ck_assert_int_eq(m.closed, 1);
}
END_TEST

START_TEST(scheduler_weighs_the_file_not_the_unknown)
{
	struct mem_source m = mem("console=serial0\nroot=/dev/nbd0p2\n");
	struct source *na;

	ck_assert_int_eq(netascii_wrap(&m.base, &na), SOURCE_OK);
	/* No tsize, and no last block from the size: it is unknown. */
	ck_assert_uint_eq(na->size, SOURCE_SIZE_UNKNOWN);
	/* The overload scheduler sees the file's own size, never 2^64-1
	 * (one such request would start the waves for every Pi). */
	ck_assert_uint_eq(source_expected_size(na), m.base.size);
	ck_assert_uint_eq(source_expected_size(&m.base), m.base.size);
	source_close(na);
}
END_TEST

static Suite *
netascii_suite(void)
{
	Suite *s = suite_create("tftpd_netascii");
	TCase *tc = tcase_create("netascii");

	tcase_add_test(tc, converts_lf_and_bare_cr);
	tcase_add_test(tc, scheduler_weighs_the_file_not_the_unknown);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(netascii_suite)
