/* The transmission decisions: the plan for every command with every
 * flag, range, read-only and structured or simple export, and the reply
 * shape for each outcome. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/plan.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"

#define SIZE	(64ULL * 1024 * 1024)
#define HANDLE	0x0102030405060708ULL

static struct nbd_request
req(uint16_t type, uint16_t flags, uint64_t off, uint32_t len)
{
	return (struct nbd_request){ flags, type, HANDLE, off, len };
}

static struct req_export
caps(int read_only, int structured, int meta)
{
	return (struct req_export){ SIZE, read_only, structured, meta };
}

#define FUA	1u
#define NO_HOLE	2u
#define FAST	4u
#define ONE	8u

/* Explicit expectations, one request at a time. */
static const struct {
	const char *what;
	uint16_t type, flags;
	uint64_t off;
	uint32_t len;
	int ro, sr, meta;
	enum plan_action action;
	uint32_t error, discard;
	unsigned set;		/* what the plan sets: FUA, NO_HOLE, ... */
} cases[] = {
	{ "read", NBD_CMD_READ, 0, 0, 4096, 0, 0, 0, PLAN_READ, 0, 0, 0 },
	{ "read last byte", NBD_CMD_READ, 0, SIZE - 1, 1, 1, 0, 0,
	    PLAN_READ, 0, 0, 0 },
	{ "read DF", NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, 0, 1, 0,
	    PLAN_READ, 0, 0, 0 },
	{ "read DF simple", NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "read FUA", NBD_CMD_READ, NBD_CMD_FLAG_FUA, 0, 512, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "read past end", NBD_CMD_READ, 0, SIZE - 512, 1024, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "read wrapping", NBD_CMD_READ, 0, UINT64_MAX - 511, 1024, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "read empty", NBD_CMD_READ, 0, 0, 0, 0, 0, 0, PLAN_ERROR,
	    NBD_EINVAL, 0, 0 },
	{ "read max", NBD_CMD_READ, 0, 0, NBDD_MAX_PAYLOAD, 0, 0, 0,
	    PLAN_READ, 0, 0, 0 },
	{ "read over max", NBD_CMD_READ, 0, 0, NBDD_MAX_PAYLOAD + 1, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "write", NBD_CMD_WRITE, 0, 4096, 512, 0, 0, 0, PLAN_WRITE, 0, 0, 0 },
	{ "write FUA", NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, 512, 0, 1, 0,
	    PLAN_WRITE, 0, 0, FUA },
	{ "write max", NBD_CMD_WRITE, 0, 0, NBDD_MAX_PAYLOAD, 0, 0, 0,
	    PLAN_WRITE, 0, 0, 0 },
	/* Refused writes within the limit: the payload is read and
	 * thrown away, then the error. */
	{ "write read-only", NBD_CMD_WRITE, 0, 0, 512, 1, 0, 0, PLAN_ERROR,
	    NBD_EPERM, 512, 0 },
	{ "write past end", NBD_CMD_WRITE, 0, SIZE, 512, 0, 0, 0, PLAN_ERROR,
	    NBD_ENOSPC, 512, 0 },
	{ "write max past end", NBD_CMD_WRITE, 0, SIZE, NBDD_MAX_PAYLOAD, 0,
	    0, 0, PLAN_ERROR, NBD_ENOSPC, NBDD_MAX_PAYLOAD, 0 },
	{ "write DF", NBD_CMD_WRITE, NBD_CMD_FLAG_DF, 0, 512, 0, 1, 0,
	    PLAN_ERROR, NBD_EINVAL, 512, 0 },
	{ "write empty", NBD_CMD_WRITE, 0, 0, 0, 0, 0, 0, PLAN_ERROR,
	    NBD_EINVAL, 0, 0 },
	/* Beyond the limit: never read, the client is dropped. */
	{ "write over max", NBD_CMD_WRITE, 0, 0, NBDD_MAX_PAYLOAD + 1, 0, 0,
	    0, PLAN_DROP, NBD_EINVAL, 0, 0 },
	{ "write 4 GiB read-only", NBD_CMD_WRITE, 0, SIZE, 0xffffffffu, 1,
	    0, 0, PLAN_DROP, NBD_EPERM, 0, 0 },
	{ "flush", NBD_CMD_FLUSH, 0, 0, 0, 1, 0, 0, PLAN_FLUSH, 0, 0, 0 },
	{ "flush FUA", NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA, 0, 0, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "flush range", NBD_CMD_FLUSH, 0, 0, 512, 0, 0, 0, PLAN_ERROR,
	    NBD_EINVAL, 0, 0 },
	{ "flush offset", NBD_CMD_FLUSH, 0, 512, 0, 0, 0, 0, PLAN_ERROR,
	    NBD_EINVAL, 0, 0 },
	{ "trim", NBD_CMD_TRIM, 0, 0, (uint32_t)SIZE, 0, 0, 0, PLAN_TRIM,
	    0, 0, 0 },
	{ "trim FUA", NBD_CMD_TRIM, NBD_CMD_FLAG_FUA, 4096, 4096, 0, 0, 0,
	    PLAN_TRIM, 0, 0, FUA },
	{ "trim read-only", NBD_CMD_TRIM, 0, 0, 512, 1, 0, 0, PLAN_ERROR,
	    NBD_EPERM, 0, 0 },
	{ "trim past end", NBD_CMD_TRIM, 0, SIZE - 4096, 8192, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "trim NO_HOLE", NBD_CMD_TRIM, NBD_CMD_FLAG_NO_HOLE, 0, 512, 0, 0,
	    0, PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "zero", NBD_CMD_WRITE_ZEROES, 0, 0, 4096, 0, 0, 0, PLAN_ZERO, 0,
	    0, 0 },
	{ "zero all flags", NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FUA |
	    NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO, 0, 4096, 0, 1, 0,
	    PLAN_ZERO, 0, 0, FUA | NO_HOLE | FAST },
	{ "zero NO_HOLE", NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE, 0,
	    4096, 0, 0, 0, PLAN_ZERO, 0, 0, NO_HOLE },
	{ "zero FAST", NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 0,
	    4096, 0, 0, 0, PLAN_ZERO, 0, 0, FAST },
	{ "zero read-only", NBD_CMD_WRITE_ZEROES, 0, 0, 512, 1, 0, 0,
	    PLAN_ERROR, NBD_EPERM, 0, 0 },
	{ "zero past end", NBD_CMD_WRITE_ZEROES, 0, SIZE, 512, 0, 0, 0,
	    PLAN_ERROR, NBD_ENOSPC, 0, 0 },
	{ "zero DF", NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_DF, 0, 512, 0, 1, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "cache", NBD_CMD_CACHE, 0, 0, 1 << 20, 1, 0, 0, PLAN_CACHE, 0, 0, 0 },
	{ "cache FUA", NBD_CMD_CACHE, NBD_CMD_FLAG_FUA, 0, 512, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "cache past end", NBD_CMD_CACHE, 0, UINT64_MAX, 1, 0, 0, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "block status", NBD_CMD_BLOCK_STATUS, 0, 0, 1 << 20, 1, 1, 1,
	    PLAN_BLOCK_STATUS, 0, 0, 0 },
	{ "block status REQ_ONE", NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE,
	    0, 1 << 20, 0, 1, 1, PLAN_BLOCK_STATUS, 0, 0, ONE },
	{ "block status no meta", NBD_CMD_BLOCK_STATUS, 0, 0, 512, 0, 1, 0,
	    PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "block status past end", NBD_CMD_BLOCK_STATUS, 0, SIZE, 512, 0, 1,
	    1, PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "disc", NBD_CMD_DISC, 0, 0, 0, 0, 0, 0, PLAN_DISC, 0, 0, 0 },
	/* DISC ends the connection whatever it carries. */
	{ "disc with junk", NBD_CMD_DISC, 0xffff, 7, 9, 1, 1, 1, PLAN_DISC,
	    0, 0, 0 },
	{ "unknown", 42, 0, 0, 512, 0, 0, 0, PLAN_ERROR, NBD_EINVAL, 0, 0 },
	{ "resize", 8, 0, 0, 512, 0, 1, 1, PLAN_ERROR, NBD_EINVAL, 0, 0 },
};

START_TEST(explicit_plans)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nbd_request r = req(cases[i].type, cases[i].flags,
		    cases[i].off, cases[i].len);
		struct req_export e = caps(cases[i].ro, cases[i].sr,
		    cases[i].meta);
		struct plan p;

		plan_request(&r, &e, &p);
		ck_assert_msg(p.action == cases[i].action, "%s: action %d",
		    cases[i].what, p.action);
		ck_assert_msg(p.error == cases[i].error, "%s: error %u",
		    cases[i].what, p.error);
		ck_assert_msg(p.discard == cases[i].discard, "%s: discard %u",
		    cases[i].what, p.discard);
		ck_assert_msg(p.drop == (p.action == PLAN_DROP ?
		    PLAN_DROP_PAYLOAD_TOO_BIG : PLAN_DROP_NONE), "%s: drop",
		    cases[i].what);
		if (p.action == PLAN_ERROR || p.action == PLAN_DROP ||
		    p.action == PLAN_DISC)
			continue;
		ck_assert_msg(p.offset == cases[i].off && p.len ==
		    cases[i].len, "%s: range", cases[i].what);
		ck_assert_msg(p.fua == !!(cases[i].set & FUA), "%s: fua",
		    cases[i].what);
		ck_assert_msg(p.no_hole == !!(cases[i].set & NO_HOLE),
		    "%s: no_hole", cases[i].what);
		ck_assert_msg(p.fast_zero == !!(cases[i].set & FAST),
		    "%s: fast", cases[i].what);
		ck_assert_msg(p.one_extent == !!(cases[i].set & ONE),
		    "%s: one extent", cases[i].what);
	}
}
END_TEST

/* Every command, every flag combination, ranges in and out, read-only or
 * not, structured or not, meta or not: the plan agrees with the request
 * checker, never touches bytes outside the export, never reads a
 * payload beyond the maximum, and keeps the stream in step. */
/* (Checked without Check's per-assertion bookkeeping: there are many.) */
#define EXPECT(cond) do {						\
	if (!(cond))							\
		ck_abort_msg("%s: type %u flags %#x offset %llu length %u " \
		    "ro %d sr %d meta %d: action %d error %u", #cond,	\
		    r.type, r.flags, (unsigned long long)r.offset, r.len, \
		    e.read_only, e.structured, e.meta_allocation,	\
		    p.action, p.error);					\
} while (0)

START_TEST(every_combination)
{
	static const uint16_t types[] = { NBD_CMD_READ, NBD_CMD_WRITE,
	    NBD_CMD_DISC, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_CACHE,
	    NBD_CMD_WRITE_ZEROES, NBD_CMD_BLOCK_STATUS, 8, 0xffff };
	static const struct { uint64_t off; uint32_t len; } ranges[] = {
		{ 0, 0 }, { 0, 1 }, { 0, 4096 }, { SIZE - 1, 1 },
		{ SIZE - 1, 2 }, { SIZE, 1 }, { SIZE, 0 }, { UINT64_MAX, 1 },
		{ UINT64_MAX - 4095, 4096 }, { 0, NBDD_MAX_PAYLOAD },
		{ 0, NBDD_MAX_PAYLOAD + 1 }, { 0, 0xffffffffu },
		{ SIZE, NBDD_MAX_PAYLOAD },
	};
	long n = 0, accepted = 0;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
	for (uint32_t f = 0; f < 0x80; f++)
	for (size_t g = 0; g < sizeof(ranges) / sizeof(ranges[0]); g++)
	for (int k = 0; k < 8; k++) {
		uint16_t flags = (uint16_t)(f == 0x7f ? 0x8000 : f);
		struct nbd_request r = req(types[t], flags, ranges[g].off,
		    ranges[g].len);
		struct req_export e = caps(k & 1, (k >> 1) & 1, (k >> 2) & 1);
		uint32_t err = req_check(&r, &e);
		struct plan p;

		plan_request(&r, &e, &p);
		n++;
		if (r.type == NBD_CMD_DISC) {
			EXPECT(p.action == PLAN_DISC);
			continue;
		}
		EXPECT(p.error == err);
		if (err != NBD_SUCCESS) {
			if (r.type == NBD_CMD_WRITE &&
			    r.len > NBDD_MAX_PAYLOAD) {
				EXPECT(p.action == PLAN_DROP);
				continue;
			}
			EXPECT(p.action == PLAN_ERROR);
			EXPECT(p.discard == (r.type == NBD_CMD_WRITE ?
			    r.len : 0));
			continue;
		}
		accepted++;
		EXPECT(p.action != PLAN_ERROR && p.action != PLAN_DROP);
		EXPECT(p.discard == 0);
		if (p.action == PLAN_FLUSH) {
			EXPECT(p.len == 0);
			continue;
		}
		/* Inside the export, never empty. */
		EXPECT(p.len > 0 && p.offset <= SIZE &&
		    p.len <= SIZE - p.offset);
		if (p.action == PLAN_READ || p.action == PLAN_WRITE)
			EXPECT(p.len <= NBDD_MAX_PAYLOAD);
		/* Nothing changes a read-only export. */
		if (e.read_only)
			EXPECT(p.action != PLAN_WRITE &&
			    p.action != PLAN_TRIM && p.action != PLAN_ZERO);
		if (p.action == PLAN_BLOCK_STATUS)
			EXPECT(e.meta_allocation);
		if (r.flags & NBD_CMD_FLAG_DF)
			EXPECT(e.structured && p.action == PLAN_READ);
		EXPECT(p.fast_zero == (p.action == PLAN_ZERO &&
		    (r.flags & NBD_CMD_FLAG_FAST_ZERO) != 0));
		EXPECT(p.one_extent == (p.action == PLAN_BLOCK_STATUS &&
		    (r.flags & NBD_CMD_FLAG_REQ_ONE) != 0));
	}
	ck_assert_int_gt(n, 100000);
	ck_assert_int_gt(accepted, 300);
}
END_TEST

static void
is_simple(const uint8_t *b, size_t n, uint32_t error)
{
	ck_assert_uint_eq(n, NBD_SIMPLE_REPLY_SIZE);
	ck_assert_uint_eq(get32(b), NBD_SIMPLE_REPLY_MAGIC);
	ck_assert_uint_eq(get32(b + 4), error);
	ck_assert_uint_eq(get64(b + 8), HANDLE);
}

START_TEST(reply_shapes)
{
	static const uint16_t types[] = { NBD_CMD_READ, NBD_CMD_WRITE,
	    NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_CACHE, NBD_CMD_WRITE_ZEROES,
	    NBD_CMD_BLOCK_STATUS, 42 };
	struct req_export simple = caps(0, 0, 0), sr = caps(0, 1, 1);
	uint8_t b[PLAN_REPLY_MAX + 16];
	size_t n;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct nbd_request r = req(types[t], 0, 0, 512);

		/* Simple: the error in the header, no message. */
		memset(b, 0xee, sizeof(b));
		is_simple(b, plan_reply(b, &r, &simple, 0, NULL), 0);
		is_simple(b, plan_reply(b, &r, &simple, NBD_EIO, "x"),
		    NBD_EIO);
		/* Structured: errors are error chunks with the message ... */
		n = plan_reply(b, &r, &sr, NBD_EPERM, PLAN_REFUSED_MSG);
		ck_assert_uint_eq(n, NBD_STRUCTURED_HDR_SIZE + 6 +
		    strlen(PLAN_REFUSED_MSG));
		ck_assert_uint_eq(get32(b), NBD_STRUCTURED_REPLY_MAGIC);
		ck_assert_uint_eq(get16(b + 4), NBD_REPLY_FLAG_DONE);
		ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_ERROR);
		ck_assert_uint_eq(get64(b + 8), HANDLE);
		ck_assert_uint_eq(get32(b + 16), n - NBD_STRUCTURED_HDR_SIZE);
		ck_assert_uint_eq(get32(b + 20), NBD_EPERM);
		ck_assert_uint_eq(get16(b + 24), strlen(PLAN_REFUSED_MSG));
		ck_assert(memcmp(b + 26, PLAN_REFUSED_MSG, 15) == 0);
		/* ... a READ never gets a simple reply, even without data
		 * ... */
		memset(b, 0xee, sizeof(b));
		n = plan_reply(b, &r, &sr, 0, NULL);
		if (r.type == NBD_CMD_READ) {
			ck_assert_uint_eq(n, NBD_STRUCTURED_HDR_SIZE);
			ck_assert_uint_eq(get32(b), NBD_STRUCTURED_REPLY_MAGIC);
			ck_assert_uint_eq(get16(b + 4), NBD_REPLY_FLAG_DONE);
			ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_NONE);
			ck_assert_uint_eq(get32(b + 16), 0);
		} else
			/* ... and the rest succeed with a simple reply. */
			is_simple(b, n, 0);
		ck_assert_uint_eq(b[n], 0xee);
	}
}
END_TEST

START_TEST(error_message_bounded)
{
	struct nbd_request r = req(NBD_CMD_WRITE, 0, 0, 512);
	struct req_export sr = caps(0, 1, 0);
	uint8_t b[PLAN_REPLY_MAX + 1];
	char msg[1000];

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	b[PLAN_REPLY_MAX] = 0xee;
	ck_assert_uint_eq(plan_reply(b, &r, &sr, NBD_EIO, msg),
	    PLAN_REPLY_MAX);
	ck_assert_uint_eq(get16(b + 24), 128);
	ck_assert_uint_eq(b[PLAN_REPLY_MAX], 0xee);
	ck_assert_uint_eq(plan_reply(b, &r, &sr, NBD_EIO, NULL),
	    NBD_STRUCTURED_HDR_SIZE + 6);
}
END_TEST

START_TEST(read_headers)
{
	struct nbd_request r = req(NBD_CMD_READ, NBD_CMD_FLAG_DF, 8192, 4096);
	struct req_export simple = caps(1, 0, 0), sr = caps(1, 1, 0);
	uint8_t b[REQ_READ_CHUNK_SIZE];

	ck_assert_uint_eq(plan_read_header_len(&simple), 16);
	is_simple(b, plan_read_header(b, &r, &simple), 0);
	ck_assert_uint_eq(plan_read_header_len(&sr), 28);
	ck_assert_uint_eq(plan_read_header(b, &r, &sr), 28);
	ck_assert_uint_eq(get32(b), NBD_STRUCTURED_REPLY_MAGIC);
	ck_assert_uint_eq(get16(b + 4), NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_OFFSET_DATA);
	ck_assert_uint_eq(get64(b + 8), HANDLE);
	ck_assert_uint_eq(get32(b + 16), 8 + 4096);
	ck_assert_uint_eq(get64(b + 20), 8192);
}
END_TEST

/* An error from the image: mapped by req_errno, the right shape, and
 * logged unless it is the answer FAST_ZERO asked for. */
START_TEST(image_errors)
{
	struct nbd_request rd = req(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512);
	struct nbd_request fz = req(NBD_CMD_WRITE_ZEROES,
	    NBD_CMD_FLAG_FAST_ZERO, 0, 512);
	struct nbd_request wz = req(NBD_CMD_WRITE_ZEROES, 0, 0, 512);
	struct nbd_request wr = req(NBD_CMD_WRITE, 0, 0, 512);
	struct req_export simple = caps(0, 0, 0), sr = caps(0, 1, 0);
	uint8_t b[PLAN_REPLY_MAX];

	is_simple(b, plan_reply(b, &wr, &simple, req_errno(&wr, ENOSPC),
	    "No space left on device"), NBD_ENOSPC);
	is_simple(b, plan_reply(b, &fz, &simple, req_errno(&fz, EOPNOTSUPP),
	    NULL), NBD_ENOTSUP);
	plan_reply(b, &rd, &sr, req_errno(&rd, EOVERFLOW), "too big");
	ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_ERROR);
	ck_assert_uint_eq(get32(b + 20), NBD_EOVERFLOW);
	plan_reply(b, &rd, &sr, req_errno(&rd, EIO), "Input/output error");
	ck_assert_uint_eq(get32(b + 20), NBD_EIO);

	ck_assert_int_eq(plan_failure_logged(&fz, EOPNOTSUPP), 0);
	ck_assert_int_eq(plan_failure_logged(&wz, EOPNOTSUPP), 0);
	ck_assert_int_eq(plan_failure_logged(&fz, EIO), 1);
	ck_assert_int_eq(plan_failure_logged(&wr, EOPNOTSUPP), 1);
	ck_assert_int_eq(plan_failure_logged(&rd, EIO), 1);
	ck_assert_int_eq(plan_failure_logged(&rd, 0), 0);
	ck_assert_int_eq(plan_failure_logged(&wz, 0), 0);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("nbdd_plan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, explicit_plans);
	tcase_add_test(tc, every_combination);
	tcase_add_test(tc, reply_shapes);
	tcase_add_test(tc, error_message_bounded);
	tcase_add_test(tc, read_headers);
	tcase_add_test(tc, image_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(plan_suite)
