/* Request parsing and checking: ranges, lengths, flags, commands. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/proto.h"
#include "nbdd/request.h"
#include "tests/unit/check_main.h"

#define SIZE (64ULL * 1024 * 1024)

static const struct req_export rw = { SIZE, 0, 0, 0 };
static const struct req_export ro = { SIZE, 1, 0, 0 };
static const struct req_export sr = { SIZE, 0, 1, 1 };

static struct nbd_request
req(uint16_t type, uint16_t flags, uint64_t off, uint32_t len)
{
	return (struct nbd_request){ flags, type, 7, off, len };
}

START_TEST(parse)
{
	uint8_t b[28];
	struct nbd_request r;

	put32(b, NBD_REQUEST_MAGIC);
	put16(b + 4, NBD_CMD_FLAG_FUA);
	put16(b + 6, NBD_CMD_WRITE);
	put64(b + 8, 0x1122334455667788ULL);
	put64(b + 16, 4096);
	put32(b + 24, 512);
	ck_assert_int_eq(req_parse(b, &r), 0);
	ck_assert_uint_eq(r.flags, NBD_CMD_FLAG_FUA);
	ck_assert_uint_eq(r.type, NBD_CMD_WRITE);
	ck_assert_uint_eq(r.handle, 0x1122334455667788ULL);
	ck_assert_uint_eq(r.offset, 4096);
	ck_assert_uint_eq(r.len, 512);
	ck_assert_uint_eq(req_payload_len(&r), 512);
	put32(b, NBD_SIMPLE_REPLY_MAGIC);
	ck_assert_int_eq(req_parse(b, &r), -1);
}
END_TEST

START_TEST(good_requests)
{
	struct nbd_request r;

	r = req(NBD_CMD_READ, 0, 0, 4096);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_READ, 0, SIZE - 1, 1);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 0, NBDD_MAX_PAYLOAD);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_TRIM, 0, 0, (uint32_t)SIZE);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_NO_HOLE |
	    NBD_CMD_FLAG_FAST_ZERO | NBD_CMD_FLAG_FUA, 4096, 4096);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_CACHE, 0, 0, 1 << 20);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	r = req(NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, 0, 1 << 20);
	ck_assert_uint_eq(req_check(&r, &sr), 0);
	r = req(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 4096);
	ck_assert_uint_eq(req_check(&r, &sr), 0);
	r = req(NBD_CMD_DISC, 0, 0, 0);
	ck_assert_uint_eq(req_check(&r, &rw), 0);
	ck_assert_uint_eq(req_payload_len(&r), 0);
}
END_TEST

START_TEST(out_of_range)
{
	struct nbd_request r;

	r = req(NBD_CMD_READ, 0, SIZE, 1);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_READ, 0, SIZE - 1, 2);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	/* offset + len wraps around 2^64. */
	r = req(NBD_CMD_READ, 0, UINT64_MAX - 10, 4096);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_TRIM, 0, SIZE - 4096, 8192);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_CACHE, 0, UINT64_MAX, 1);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	/* proto.md: ENOSPC for writes past the end. */
	r = req(NBD_CMD_WRITE, 0, SIZE, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_ENOSPC);
	r = req(NBD_CMD_WRITE_ZEROES, 0, UINT64_MAX - 1, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_ENOSPC);
}
END_TEST

START_TEST(lengths)
{
	struct nbd_request r;
	static const uint16_t cmds[] = { NBD_CMD_READ, NBD_CMD_WRITE,
		NBD_CMD_TRIM, NBD_CMD_CACHE, NBD_CMD_WRITE_ZEROES };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		r = req(cmds[i], 0, 0, 0);
		ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	}
	r = req(NBD_CMD_BLOCK_STATUS, 0, 0, 0);
	ck_assert_uint_eq(req_check(&r, &sr), NBD_EINVAL);
	/* Over the advertised maximum, even inside a big export. */
	struct req_export huge = { 1ULL << 40, 0, 0, 0 };
	r = req(NBD_CMD_READ, 0, 0, NBDD_MAX_PAYLOAD + 1);
	ck_assert_uint_eq(req_check(&r, &huge), NBD_EINVAL);
	r = req(NBD_CMD_WRITE, 0, 0, 0xffffffffu);
	ck_assert_uint_eq(req_check(&r, &huge), NBD_EINVAL);
	/* ... but its payload must still be skipped to stay in step. */
	ck_assert_uint_eq(req_payload_len(&r), 0xffffffffu);
	/* TRIM carries no payload: not bound by the maximum. */
	r = req(NBD_CMD_TRIM, 0, 0, 0xffffffffu);
	ck_assert_uint_eq(req_check(&r, &huge), 0);
	/* FLUSH takes no range. */
	r = req(NBD_CMD_FLUSH, 0, 0, 1);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_FLUSH, 0, 1, 0);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
}
END_TEST

START_TEST(unknown_and_flags)
{
	struct nbd_request r;

	for (uint32_t t = 8; t < 0x10000; t += 97) {
		r = req((uint16_t)t, 0, 0, 512);
		ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
		ck_assert_uint_eq(req_payload_len(&r), 0);
	}
	r = req(NBD_CMD_READ, NBD_CMD_FLAG_DF, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);	/* no SR */
	r = req(NBD_CMD_READ, NBD_CMD_FLAG_NO_HOLE, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_WRITE, NBD_CMD_FLAG_FAST_ZERO, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_WRITE, NBD_CMD_FLAG_PAYLOAD_LEN, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_WRITE, 0x8000, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	r = req(NBD_CMD_FLUSH, NBD_CMD_FLAG_FUA, 0, 0);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
	/* BLOCK_STATUS without base:allocation negotiated. */
	r = req(NBD_CMD_BLOCK_STATUS, 0, 0, 512);
	ck_assert_uint_eq(req_check(&r, &rw), NBD_EINVAL);
}
END_TEST

START_TEST(read_only)
{
	struct nbd_request r;

	r = req(NBD_CMD_WRITE, 0, 0, 512);
	ck_assert_uint_eq(req_check(&r, &ro), NBD_EPERM);
	r = req(NBD_CMD_TRIM, 0, 0, 512);
	ck_assert_uint_eq(req_check(&r, &ro), NBD_EPERM);
	r = req(NBD_CMD_WRITE_ZEROES, 0, 0, 512);
	ck_assert_uint_eq(req_check(&r, &ro), NBD_EPERM);
	r = req(NBD_CMD_READ, 0, 0, 512);
	ck_assert_uint_eq(req_check(&r, &ro), 0);
	r = req(NBD_CMD_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(req_check(&r, &ro), 0);
}
END_TEST

START_TEST(reply_builders)
{
	uint8_t b[128];

	ck_assert_uint_eq(req_simple_reply(b, NBD_EPERM, 42), 16);
	ck_assert_uint_eq(get32(b), NBD_SIMPLE_REPLY_MAGIC);
	ck_assert_uint_eq(get32(b + 4), NBD_EPERM);
	ck_assert_uint_eq(get64(b + 8), 42);

	ck_assert_uint_eq(req_read_chunk(b, 9, 4096, 512), 28);
	ck_assert_uint_eq(get32(b), NBD_STRUCTURED_REPLY_MAGIC);
	ck_assert_uint_eq(get16(b + 4), NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_OFFSET_DATA);
	ck_assert_uint_eq(get32(b + 16), 520);
	ck_assert_uint_eq(get64(b + 20), 4096);

	size_t n = req_error_chunk(b, sizeof(b), 9, NBD_EIO, "disk on fire");
	ck_assert_uint_eq(n, 20 + 6 + 12);
	ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_ERROR);
	ck_assert_uint_eq(get32(b + 16), 18);
	ck_assert_uint_eq(get32(b + 20), NBD_EIO);
	ck_assert_uint_eq(get16(b + 24), 12);
	/* Truncated to fit, never past cap. */
	n = req_error_chunk(b, 30, 9, NBD_EIO, "disk on fire");
	ck_assert_uint_eq(n, 30);
	ck_assert_uint_eq(get16(b + 24), 4);
	ck_assert_uint_eq(req_error_chunk(b, 10, 9, NBD_EIO, "x"), 0);

	ck_assert_uint_eq(req_extents_header(b, 9, 1, 2), 24);
	ck_assert_uint_eq(get16(b + 6), NBD_REPLY_TYPE_BLOCK_STATUS);
	ck_assert_uint_eq(get32(b + 16), 4 + 16);
	ck_assert_uint_eq(req_extent(b, 4096, NBD_STATE_HOLE), 8);
	ck_assert_uint_eq(get32(b), 4096);
}
END_TEST

/* A request of type t with flags f, for the errno mapping. */
static struct nbd_request
rq(uint16_t t, uint16_t f)
{
	struct nbd_request r = { .type = t, .flags = f, .len = 4096 };

	return r;
}

START_TEST(errnos)
{
	struct nbd_request rd = rq(NBD_CMD_READ, 0);
	struct nbd_request wr = rq(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA);
	struct nbd_request tr = rq(NBD_CMD_TRIM, 0);
	struct nbd_request wz = rq(NBD_CMD_WRITE_ZEROES, 0);
	struct nbd_request fz = rq(NBD_CMD_WRITE_ZEROES,
	    NBD_CMD_FLAG_FAST_ZERO);
	struct nbd_request df = rq(NBD_CMD_READ, NBD_CMD_FLAG_DF);
	const struct nbd_request *all[] = { &rd, &wr, &tr, &wz, &fz, &df };

	/* The errnos with one meaning whatever the command. */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_uint_eq(req_errno(all[i], 0), NBD_SUCCESS);
		ck_assert_uint_eq(req_errno(all[i], EPERM), NBD_EPERM);
		ck_assert_uint_eq(req_errno(all[i], EACCES), NBD_EPERM);
		ck_assert_uint_eq(req_errno(all[i], EROFS), NBD_EPERM);
		ck_assert_uint_eq(req_errno(all[i], ENOMEM), NBD_ENOMEM);
		ck_assert_uint_eq(req_errno(all[i], EINVAL), NBD_EINVAL);
		ck_assert_uint_eq(req_errno(all[i], ENOSPC), NBD_ENOSPC);
		ck_assert_uint_eq(req_errno(all[i], EDQUOT), NBD_ENOSPC);
		ck_assert_uint_eq(req_errno(all[i], EFBIG), NBD_ENOSPC);
		ck_assert_uint_eq(req_errno(all[i], ESHUTDOWN), NBD_ESHUTDOWN);
		ck_assert_uint_eq(req_errno(all[i], EIO), NBD_EIO);
		ck_assert_uint_eq(req_errno(all[i], EBADF), NBD_EIO);
		ck_assert_uint_eq(req_errno(all[i], ENXIO), NBD_EIO);
		ck_assert_uint_eq(req_errno(all[i], ETIMEDOUT), NBD_EIO);
	}
	/* doc/proto.md: ENOTSUP only for WRITE_ZEROES with FAST_ZERO,
	 * EOVERFLOW only for READ with DF; EINVAL everywhere else. */
	ck_assert_uint_eq(req_errno(&fz, EOPNOTSUPP), NBD_ENOTSUP);
	ck_assert_uint_eq(req_errno(&wz, EOPNOTSUPP), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&wr, EOPNOTSUPP), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&tr, EOPNOTSUPP), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&rd, EOPNOTSUPP), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&df, EOPNOTSUPP), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&df, EOVERFLOW), NBD_EOVERFLOW);
	ck_assert_uint_eq(req_errno(&rd, EOVERFLOW), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&wr, EOVERFLOW), NBD_EINVAL);
	ck_assert_uint_eq(req_errno(&fz, EOVERFLOW), NBD_EINVAL);
	ck_assert_str_eq(req_cmd_name(NBD_CMD_TRIM), "TRIM");
	ck_assert_str_eq(req_cmd_name(999), "unknown");
}
END_TEST

static Suite *
request_suite(void)
{
	Suite *s = suite_create("nbdd_request");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse);
	tcase_add_test(tc, good_requests);
	tcase_add_test(tc, out_of_range);
	tcase_add_test(tc, lengths);
	tcase_add_test(tc, unknown_and_flags);
	tcase_add_test(tc, read_only);
	tcase_add_test(tc, reply_builders);
	tcase_add_test(tc, errnos);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(request_suite)
