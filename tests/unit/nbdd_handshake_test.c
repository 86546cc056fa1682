/* The handshake parsers and builders with good and bad input. */
#include <check.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"

static size_t
opt_hdr(uint8_t *b, uint64_t magic, uint32_t opt, uint32_t len)
{
	put64(b, magic);
	put32(b + 8, opt);
	put32(b + 12, len);
	return 16;
}

/* An INFO/GO payload: name, then n info requests. */
static size_t
info_payload(uint8_t *b, const char *name, size_t namelen, uint16_t n)
{
	put32(b, (uint32_t)namelen);
	memcpy(b + 4, name, namelen);
	put16(b + 4 + namelen, n);
	for (uint16_t i = 0; i < n; i++)
		put16(b + 6 + namelen + 2 * i, NBD_INFO_BLOCK_SIZE);
	return 6 + namelen + 2 * (size_t)n;
}

START_TEST(greeting)
{
	uint8_t b[HS_GREETING_SIZE];

	ck_assert_uint_eq(hs_greeting(b), 18);
	ck_assert_uint_eq(get64(b), NBD_MAGIC);
	ck_assert_uint_eq(get64(b + 8), NBD_IHAVEOPT);
	ck_assert_uint_eq(get16(b + 16),
	    NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
}
END_TEST

START_TEST(client_flags)
{
	uint8_t b[4];
	uint32_t f;

	put32(b, NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
	ck_assert_int_eq(hs_parse_client_flags(b, &f), 0);
	ck_assert_uint_eq(f, 3);
	put32(b, 0);
	ck_assert_int_eq(hs_parse_client_flags(b, &f), 0);
	put32(b, 1u << 7);
	ck_assert_int_eq(hs_parse_client_flags(b, &f), -1);
	put32(b, 0xffffffffu);
	ck_assert_int_eq(hs_parse_client_flags(b, &f), -1);
}
END_TEST

START_TEST(option_header)
{
	uint8_t b[16];
	struct hs_option o;

	opt_hdr(b, NBD_IHAVEOPT, NBD_OPT_GO, 12);
	ck_assert_int_eq(hs_parse_option(b, &o), 0);
	ck_assert_uint_eq(o.opt, NBD_OPT_GO);
	ck_assert_uint_eq(o.len, 12);
	/* An oversized length is parsed as claimed: the caller refuses it
	 * without allocating. */
	opt_hdr(b, NBD_IHAVEOPT, NBD_OPT_GO, 0xffffffffu);
	ck_assert_int_eq(hs_parse_option(b, &o), 0);
	ck_assert_uint_gt(o.len, NBDD_MAX_OPTION);
	opt_hdr(b, NBD_MAGIC, NBD_OPT_GO, 0);
	ck_assert_int_eq(hs_parse_option(b, &o), -1);
	opt_hdr(b, NBD_OLDSTYLE_MAGIC, 1, 0);
	ck_assert_int_eq(hs_parse_option(b, &o), -1);
}
END_TEST

START_TEST(info_good)
{
	uint8_t b[64];
	struct hs_info_req r;
	size_t n = info_payload(b, "pi4", 3, 2);

	ck_assert_int_eq(hs_parse_info(b, n, &r), 0);
	ck_assert_uint_eq(r.namelen, 3);
	ck_assert(memcmp(r.name, "pi4", 3) == 0);
	ck_assert_uint_eq(r.nreqs, 2);
	ck_assert_uint_eq(get16(r.reqs), NBD_INFO_BLOCK_SIZE);
	n = info_payload(b, "", 0, 0);
	ck_assert_int_eq(hs_parse_info(b, n, &r), 0);
	ck_assert_uint_eq(r.namelen, 0);
}
END_TEST

START_TEST(info_bad)
{
	uint8_t b[64];
	struct hs_info_req r;
	size_t n = info_payload(b, "pi4", 3, 2);

	/* Truncated anywhere. */
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(hs_parse_info(b, i, &r), -1);
	/* Trailing garbage. */
	ck_assert_int_eq(hs_parse_info(b, n + 1, &r), -1);
	/* A name length past the payload, and one that would wrap. */
	put32(b, 1000);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
	put32(b, 0xffffffffu);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
	put32(b, 0xfffffffau);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
	/* Request count promising more than was sent. */
	n = info_payload(b, "pi4", 3, 2);
	put16(b + 7, 3);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
	/* A NUL inside the name. */
	n = info_payload(b, "p\0i", 3, 0);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
}
END_TEST

START_TEST(info_long_name)
{
	static uint8_t b[NBDD_MAX_OPTION];
	static char name[NBDD_MAX_STRING + 1];
	struct hs_info_req r;
	size_t n;

	memset(name, 'a', sizeof(name));
	n = info_payload(b, name, NBDD_MAX_STRING, 0);
	ck_assert_int_eq(hs_parse_info(b, n, &r), 0);
	n = info_payload(b, name, NBDD_MAX_STRING + 1, 0);
	ck_assert_int_eq(hs_parse_info(b, n, &r), -1);
}
END_TEST

static size_t
meta_payload(uint8_t *b, const char *name, uint32_t nq, const char **q)
{
	size_t p = 0, nl = strlen(name);

	put32(b, (uint32_t)nl);
	memcpy(b + 4, name, nl);
	put32(b + 4 + nl, nq);
	p = 8 + nl;
	for (uint32_t i = 0; i < nq; i++) {
		size_t ql = strlen(q[i]);
		put32(b + p, (uint32_t)ql);
		memcpy(b + p + 4, q[i], ql);
		p += 4 + ql;
	}
	return p;
}

START_TEST(meta_good)
{
	const char *q[] = { "qemu:dirty-bitmap:x", "base:allocation" };
	uint8_t b[128];
	struct hs_meta_req r;
	const char *s;
	uint32_t sl;
	size_t pos = 0, n = meta_payload(b, "pi4", 2, q);
	int found = 0, count = 0;

	ck_assert_int_eq(hs_parse_meta(b, n, &r), 0);
	ck_assert_uint_eq(r.nqueries, 2);
	while (hs_meta_next(&r, &pos, &s, &sl)) {
		count++;
		found |= hs_meta_matches(s, sl, 0);
	}
	ck_assert_int_eq(count, 2);
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(hs_meta_matches("base:", 5, 1), 1);
	ck_assert_int_eq(hs_meta_matches("base:", 5, 0), 0);
	ck_assert_int_eq(hs_meta_matches("base:allocationX", 16, 0), 0);
	ck_assert_int_eq(hs_meta_matches("base:allocatio", 14, 0), 0);
}
END_TEST

START_TEST(meta_bad)
{
	const char *q[] = { "base:allocation" };
	uint8_t b[128];
	struct hs_meta_req r;
	size_t n = meta_payload(b, "pi4", 1, q);

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(hs_parse_meta(b, i, &r), -1);
	ck_assert_int_eq(hs_parse_meta(b, n + 1, &r), -1);
	/* More queries promised than sent. */
	put32(b + 7, 2);
	ck_assert_int_eq(hs_parse_meta(b, n, &r), -1);
	put32(b + 7, 0xffffffffu);
	ck_assert_int_eq(hs_parse_meta(b, n, &r), -1);
	/* A query length past the end. */
	n = meta_payload(b, "pi4", 1, q);
	put32(b + 11, 0xfffffff0u);
	ck_assert_int_eq(hs_parse_meta(b, n, &r), -1);
	/* Name length past the end. */
	n = meta_payload(b, "pi4", 1, q);
	put32(b, 200);
	ck_assert_int_eq(hs_parse_meta(b, n, &r), -1);
}
END_TEST

START_TEST(replies)
{
	uint8_t b[256];
	size_t n;

	n = hs_reply(b, sizeof(b), NBD_OPT_GO, NBD_REP_ERR_POLICY, "busy", 4);
	ck_assert_uint_eq(n, 24);
	ck_assert_uint_eq(get64(b), NBD_REP_MAGIC);
	ck_assert_uint_eq(get32(b + 8), NBD_OPT_GO);
	ck_assert_uint_eq(get32(b + 12), NBD_REP_ERR_POLICY);
	ck_assert_uint_eq(get32(b + 16), 4);
	ck_assert(memcmp(b + 20, "busy", 4) == 0);
	/* Too small a buffer: nothing written, 0 returned. */
	ck_assert_uint_eq(hs_reply(b, 23, NBD_OPT_GO, 1, "busy", 4), 0);
	ck_assert_uint_eq(hs_reply(b, 10, NBD_OPT_GO, 1, NULL, 0), 0);

	n = hs_reply_info_export(b, sizeof(b), NBD_OPT_GO, 1ULL << 33,
	    NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY);
	ck_assert_uint_eq(n, 32);
	ck_assert_uint_eq(get32(b + 16), 12);
	ck_assert_uint_eq(get16(b + 20), NBD_INFO_EXPORT);
	ck_assert_uint_eq(get64(b + 22), 1ULL << 33);
	ck_assert_uint_eq(get16(b + 30), 3);

	n = hs_reply_info_block_size(b, sizeof(b), NBD_OPT_INFO, 1, 4096,
	    NBDD_MAX_PAYLOAD);
	ck_assert_uint_eq(n, 34);
	ck_assert_uint_eq(get16(b + 20), NBD_INFO_BLOCK_SIZE);
	ck_assert_uint_eq(get32(b + 30), NBDD_MAX_PAYLOAD);

	n = hs_reply_server(b, sizeof(b), NBD_OPT_LIST, "pi4", 3);
	ck_assert_uint_eq(n, 27);
	ck_assert_uint_eq(get32(b + 12), NBD_REP_SERVER);
	ck_assert_uint_eq(get32(b + 20), 3);

	n = hs_reply_meta_context(b, sizeof(b), NBD_OPT_SET_META_CONTEXT, 1,
	    NBDD_META_BASE_ALLOCATION);
	ck_assert_uint_eq(n, 20 + 4 + 15);
	ck_assert_uint_eq(get32(b + 20), 1);

	n = hs_reply_info_string(b, sizeof(b), NBD_OPT_GO, NBD_INFO_NAME,
	    "pi4", 3);
	ck_assert_uint_eq(n, 25);
}
END_TEST

START_TEST(export_name_reply)
{
	uint8_t b[HS_EXPORT_NAME_REPLY];

	memset(b, 0xaa, sizeof(b));
	ck_assert_uint_eq(hs_export_name_reply(b, 4096, 0x1ff, 0), 134);
	ck_assert_uint_eq(get64(b), 4096);
	ck_assert_uint_eq(get16(b + 8), 0x1ff);
	for (int i = 10; i < 134; i++)
		ck_assert_uint_eq(b[i], 0);
	ck_assert_uint_eq(hs_export_name_reply(b, 4096, 1, 1), 10);
}
END_TEST

START_TEST(option_names)
{
	ck_assert_str_eq(hs_option_name(NBD_OPT_GO), "GO");
	ck_assert_str_eq(hs_option_name(0x12345), "unknown");
}
END_TEST

static Suite *
handshake_suite(void)
{
	Suite *s = suite_create("nbdd_handshake");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, greeting);
	tcase_add_test(tc, client_flags);
	tcase_add_test(tc, option_header);
	tcase_add_test(tc, info_good);
	tcase_add_test(tc, info_bad);
	tcase_add_test(tc, info_long_name);
	tcase_add_test(tc, meta_good);
	tcase_add_test(tc, meta_bad);
	tcase_add_test(tc, replies);
	tcase_add_test(tc, export_name_reply);
	tcase_add_test(tc, option_names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(handshake_suite)
