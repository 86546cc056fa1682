/* The conversation with a host outside -A: the greeting, the reason to
 * each of its first options whatever they ask, payloads skipped unread
 * however the bytes are cut, and the ends: EXPORT_NAME, ABORT, bad flags
 * or magic, an option too long, one too many. */
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/proto.h"
#include "nbdd/refusal.h"
#include "tests/unit/check_main.h"

#define WHY	"host 10.9.8.7 is not in the networks this server allows " \
		"(nbdd -A)"

static struct refusal r;
/* What the host sent, and what it got. */
static uint8_t sent[65536];
static size_t nsent;
static uint8_t got[16384];
static size_t ngot;
static int replies;

static void
start(uint32_t cflags)
{
	refusal_init(&r, "10.9.8.7");
	nsent = ngot = 0;
	replies = 0;
	put32(sent, cflags);
	nsent = 4;
}

static void
option(uint32_t opt, const void *payload, uint32_t len)
{
	put64(sent + nsent, NBD_IHAVEOPT);
	put32(sent + nsent + 8, opt);
	put32(sent + nsent + 12, len);
	if (len > 0)
		memcpy(sent + nsent + 16, payload, len);
	nsent += 16 + len;
}

/* Feeds what was sent in pieces of at most step bytes; returns how many
 * bytes were used before the end. */
static size_t
feed(size_t step)
{
	uint8_t out[REFUSAL_REPLY_MAX];
	size_t pos = 0, n, outlen;

	while (pos < nsent && !refusal_over(&r)) {
		size_t len = nsent - pos < step ? nsent - pos : step;

		n = refusal_feed(&r, sent + pos, len, out, &outlen);
		ck_assert_uint_le(n, len);
		ck_assert(n > 0 || outlen > 0 || refusal_over(&r));
		if (outlen > 0) {
			ck_assert_uint_le(outlen, REFUSAL_REPLY_MAX);
			memcpy(got + ngot, out, outlen);
			ngot += outlen;
			replies++;
		}
		pos += n;
	}
	return pos;
}

/* The i-th reply answers opt with the reason. */
static void
refused(int i, uint32_t opt)
{
	size_t pos = 0, len = strlen(WHY);

	for (int k = 0; k < i; k++)
		pos += HS_REPLY_HDR_SIZE + get32(got + pos + 16);
	ck_assert_uint_le(pos + HS_REPLY_HDR_SIZE + len, ngot);
	ck_assert_uint_eq(get64(got + pos), NBD_REP_MAGIC);
	ck_assert_uint_eq(get32(got + pos + 8), opt);
	ck_assert_uint_eq(get32(got + pos + 12), NBD_REP_ERR_POLICY);
	ck_assert_uint_eq(get32(got + pos + 16), len);
	ck_assert(memcmp(got + pos + HS_REPLY_HDR_SIZE, WHY, len) == 0);
}

START_TEST(greeting)
{
	uint8_t g[HS_GREETING_SIZE];

	ck_assert_uint_eq(refusal_greeting(g), HS_GREETING_SIZE);
	ck_assert_uint_eq(get64(g), NBD_MAGIC);
	ck_assert_uint_eq(get64(g + 8), NBD_IHAVEOPT);
}
END_TEST

/* Every option gets the reason, its payload skipped, cut anywhere. */
START_TEST(every_option_refused)
{
	static const uint32_t opts[] = { NBD_OPT_STRUCTURED_REPLY,
	    NBD_OPT_SET_META_CONTEXT, NBD_OPT_GO, NBD_OPT_INFO, NBD_OPT_LIST,
	    NBD_OPT_STARTTLS, 0x7777 };
	static const size_t steps[] = { 1, 3, 16, 17, 1000, 65536 };
	uint8_t payload[300];
	size_t n = sizeof(opts) / sizeof(opts[0]);

	memset(payload, 0xa5, sizeof(payload));
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		start(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
		for (size_t i = 0; i < n; i++)
			option(opts[i], payload, (uint32_t)(i * 37));
		ck_assert_uint_eq(feed(steps[s]), nsent);
		ck_assert(!refusal_over(&r));
		ck_assert_int_eq(replies, (int)n);
		for (size_t i = 0; i < n; i++)
			refused((int)i, opts[i]);
	}
	/* A client without fixed newstyle is refused all the same. */
	start(0);
	option(NBD_OPT_GO, payload, 10);
	feed(64);
	ck_assert_int_eq(replies, 1);
	refused(0, NBD_OPT_GO);
}
END_TEST

/* A payload that looks like options is skipped, never parsed. */
START_TEST(payload_not_parsed)
{
	uint8_t inner[16];

	put64(inner, NBD_IHAVEOPT);
	put32(inner + 8, NBD_OPT_ABORT);
	put32(inner + 12, 0);
	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	option(NBD_OPT_GO, inner, sizeof(inner));
	option(NBD_OPT_INFO, NULL, 0);
	feed(5);
	ck_assert(!refusal_over(&r));
	ck_assert_int_eq(replies, 2);
	refused(1, NBD_OPT_INFO);
}
END_TEST

START_TEST(ends)
{
	uint8_t big[NBDD_MAX_OPTION + 1];

	/* EXPORT_NAME cannot carry an error; ABORT is a goodbye. */
	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	option(NBD_OPT_GO, NULL, 0);
	option(NBD_OPT_EXPORT_NAME, "pi", 2);
	option(NBD_OPT_LIST, NULL, 0);
	feed(7);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, 1);

	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	option(NBD_OPT_ABORT, NULL, 0);
	feed(100);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, 0);

	/* Unknown client flags, and a bad magic. */
	start(0x80);
	option(NBD_OPT_GO, NULL, 0);
	feed(100);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, 0);

	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	option(NBD_OPT_GO, NULL, 0);
	sent[4] ^= 1;
	feed(100);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, 0);

	/* Longer than any option a served host may send: not read. */
	memset(big, 0, sizeof(big));
	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	option(NBD_OPT_GO, big, NBDD_MAX_OPTION);
	option(NBD_OPT_GO, big, NBDD_MAX_OPTION + 1);
	ck_assert_uint_eq(feed(65536), nsent - NBDD_MAX_OPTION - 1);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, 1);
}
END_TEST

START_TEST(a_few_options_only)
{
	start(NBD_FLAG_C_FIXED_NEWSTYLE);
	for (int i = 0; i < REFUSAL_OPTIONS_MAX + 3; i++)
		option(NBD_OPT_GO, NULL, 0);
	feed(1);
	ck_assert(refusal_over(&r));
	ck_assert_int_eq(replies, REFUSAL_OPTIONS_MAX);
}
END_TEST

/* A host's address as long as any fits the reply. */
START_TEST(long_host)
{
	uint8_t out[REFUSAL_REPLY_MAX], in[20];
	char host[CLAIM_HOST_MAX];
	size_t outlen;

	memset(host, 'f', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	refusal_init(&r, host);
	put32(in, NBD_FLAG_C_FIXED_NEWSTYLE);
	put64(in + 4, NBD_IHAVEOPT);
	put32(in + 12, NBD_OPT_GO);
	put32(in + 16, 0);
	ck_assert_uint_eq(refusal_feed(&r, in, sizeof(in), out, &outlen), 20);
	ck_assert_uint_gt(outlen, HS_REPLY_HDR_SIZE + sizeof(host) - 1);
	ck_assert(memmem(out, outlen, host, sizeof(host) - 1) != NULL);
}
END_TEST

static Suite *
refusal_suite(void)
{
	Suite *s = suite_create("nbdd_refusal");
	TCase *tc = tcase_create("refusal");

	tcase_add_test(tc, greeting);
	tcase_add_test(tc, every_option_refused);
	tcase_add_test(tc, payload_not_parsed);
	tcase_add_test(tc, ends);
	tcase_add_test(tc, a_few_options_only);
	tcase_add_test(tc, long_host);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(refusal_suite)
