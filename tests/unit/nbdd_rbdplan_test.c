/* The decisions of transmission over an image in Ceph: how many requests
 * go to librbd at once, how WRITE ZEROES is done, which of librbd's
 * errors answer the client and which cut it off unanswered (never a
 * change acknowledged that Ceph refused), and BLOCK_STATUS built from the
 * extents librbd reports. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "nbdd/proto.h"
#include "nbdd/rbdplan.h"
#include "tests/unit/check_main.h"

#define HZ	(NBD_STATE_HOLE | NBD_STATE_ZERO)

START_TEST(submitting)
{
	/* One is always allowed when nothing is in flight, however big. */
	ck_assert(rbdp_may_submit(0, 0, 32u << 20));
	ck_assert(rbdp_may_submit(0, RBDP_SMALL_BYTES_MAX, RBDP_SMALL_MAX));
	ck_assert(rbdp_may_submit(1, 0, 4096));
	ck_assert(rbdp_may_submit(RBDP_INFLIGHT_MAX - 1, 0, 4096));
	ck_assert(!rbdp_may_submit(RBDP_INFLIGHT_MAX, 0, 0));
	ck_assert(!rbdp_may_submit(RBDP_INFLIGHT_MAX + 1, 0, 4096));
	/* Small buffers are bounded in bytes... */
	ck_assert(rbdp_may_submit(3, RBDP_SMALL_BYTES_MAX - 4096, 4096));
	ck_assert(!rbdp_may_submit(3, RBDP_SMALL_BYTES_MAX - 4095, 4096));
	ck_assert(!rbdp_may_submit(3, RBDP_SMALL_BYTES_MAX, RBDP_SMALL_MAX));
	/* ... large ones by the payload budget, not here; requests with
	 * no buffer only by the slots. */
	ck_assert(rbdp_may_submit(3, RBDP_SMALL_BYTES_MAX, RBDP_SMALL_MAX +
	    1));
	ck_assert(rbdp_may_submit(3, RBDP_SMALL_BYTES_MAX, 0));
}
END_TEST

/* A WRITE waits in the input buffer only when its request and payload
 * fit there together: the largest small WRITE does not fit a buffer of
 * its own size. */
START_TEST(writes_in_input)
{
	const size_t in = 256u * 1024;

	ck_assert_int_eq(rbdp_write_waits_in_input(4096, in), 1);
	ck_assert_int_eq(rbdp_write_waits_in_input(0, in), 1);
	ck_assert_int_eq(rbdp_write_waits_in_input((uint32_t)in - 28, in), 1);
	ck_assert_int_eq(rbdp_write_waits_in_input((uint32_t)in - 27, in), 0);
	ck_assert_int_eq(rbdp_write_waits_in_input((uint32_t)in, in), 0);
	ck_assert_int_eq(rbdp_write_waits_in_input(RBDP_SMALL_MAX + 1,
	    4u << 20), 0);
	ck_assert_int_eq(rbdp_write_waits_in_input(4096, 27), 0);
}
END_TEST

START_TEST(zeroes)
{
	ck_assert_int_eq(rbdp_zero_how(0, 0), RBDP_ZERO_DISCARD);
	ck_assert_int_eq(rbdp_zero_how(0, 1), RBDP_ZERO_DISCARD);
	ck_assert_int_eq(rbdp_zero_how(1, 0), RBDP_ZERO_THICK);
	/* Allocating writes: FAST_ZERO says fail instead. */
	ck_assert_int_eq(rbdp_zero_how(1, 1), RBDP_ZERO_REFUSE);
}
END_TEST

START_TEST(verdicts)
{
	static const uint16_t changes[] = { NBD_CMD_WRITE, NBD_CMD_FLUSH,
	    NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES };
	int err = -1;

	ck_assert_int_eq(rbdp_verdict(NBD_CMD_READ, 0, &err), RBDP_OK);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_WRITE, 4096, &err), RBDP_OK);
	/* Blocklisted: cut off whatever the command, never answered. */
	err = -1;
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_READ, -ESHUTDOWN, &err),
	    RBDP_CUT_OFF);
	ck_assert_int_eq(err, 0);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		ck_assert_int_eq(rbdp_verdict(changes[i], -ESHUTDOWN, &err),
		    RBDP_CUT_OFF);
		/* The lock gone to another server: a change is refused,
		 * and the client must go there, unanswered here. */
		ck_assert_int_eq(rbdp_verdict(changes[i], -EROFS, &err),
		    RBDP_CUT_OFF);
		/* Other failures are the request's error. */
		ck_assert_int_eq(rbdp_verdict(changes[i], -EIO, &err),
		    RBDP_ERROR);
		ck_assert_int_eq(err, EIO);
	}
	/* Reading needs no lock: EROFS there is an error like any. */
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_READ, -EROFS, &err),
	    RBDP_ERROR);
	ck_assert_int_eq(err, EROFS);
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_BLOCK_STATUS, -EROFS, &err),
	    RBDP_ERROR);
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_WRITE, -ETIMEDOUT, &err),
	    RBDP_ERROR);
	ck_assert_int_eq(err, ETIMEDOUT);
	ck_assert_int_eq(rbdp_verdict(NBD_CMD_WRITE, -ENOSPC, &err),
	    RBDP_ERROR);
	ck_assert_int_eq(err, ENOSPC);
}
END_TEST

/* The extents of [off, off + len) from librbd's reports, n of them, each
 * { off, len, exists }, into at most max; returns how many. */
static int
extents(uint64_t off, uint32_t len, const uint64_t (*rep)[3], int n,
    struct blk_extent *out, int max)
{
	struct rbdp_extents b;

	rbdp_extents_init(&b, off, len, out, max);
	for (int i = 0; i < n; i++)
		if (rbdp_extents_add(&b, rep[i][0], rep[i][1],
		    (int)rep[i][2]) == -1)
			break;
	return rbdp_extents_finish(&b);
}

#define M	(1u << 20)
#define OBJ	(4u * M)

/* The log line of a failed request names the cluster as the cause when
 * librbd's error says the cluster did not answer, and adds nothing when
 * the error says all there is. */
START_TEST(failure_causes)
{
	ck_assert_ptr_nonnull(strstr(rbdp_failure_cause(ETIMEDOUT),
	    "did not answer"));
	ck_assert_ptr_nonnull(strstr(rbdp_failure_cause(ENOTCONN),
	    "no connection"));
	ck_assert_str_eq(rbdp_failure_cause(EIO), "");
	ck_assert_str_eq(rbdp_failure_cause(ENOSPC), "");
	ck_assert_str_eq(rbdp_failure_cause(0), "");
}
END_TEST

START_TEST(nothing_allocated)
{
	struct blk_extent e[8];

	ck_assert_int_eq(extents(0, 8 * M, NULL, 0, e, 8), 1);
	ck_assert_uint_eq(e[0].len, 8 * M);
	ck_assert_uint_eq(e[0].flags, HZ);
	/* Reports of nothing there (exists 0) are holes too. */
	{
		const uint64_t rep[][3] = { { 0, OBJ, 0 } };

		ck_assert_int_eq(extents(0, 8 * M, rep, 1, e, 8), 1);
		ck_assert_uint_eq(e[0].flags, HZ);
	}
	/* A request of no length still gets one extent. */
	ck_assert_int_eq(extents(4096, 0, NULL, 0, e, 8), 1);
	ck_assert_uint_eq(e[0].len, 0);
}
END_TEST

START_TEST(data_and_holes)
{
	/* Whole objects: data in the 2nd and 3rd (merged) and the 5th. */
	const uint64_t rep[][3] = { { OBJ, OBJ, 1 }, { 2 * OBJ, OBJ, 1 },
	    { 4 * OBJ, OBJ, 1 } };
	struct blk_extent e[8];

	ck_assert_int_eq(extents(0, 6 * OBJ, rep, 3, e, 8), 5);
	ck_assert_uint_eq(e[0].len, OBJ);
	ck_assert_uint_eq(e[0].flags, HZ);
	ck_assert_uint_eq(e[1].len, 2 * OBJ);
	ck_assert_uint_eq(e[1].flags, 0);
	ck_assert_uint_eq(e[2].len, OBJ);
	ck_assert_uint_eq(e[2].flags, HZ);
	ck_assert_uint_eq(e[3].len, OBJ);
	ck_assert_uint_eq(e[3].flags, 0);
	/* The hole after the last data, to the end. */
	ck_assert_uint_eq(e[4].len, OBJ);
	ck_assert_uint_eq(e[4].flags, HZ);
	/* Cover the request exactly: what it did not ask is not told. */
	ck_assert_int_eq(extents(M, 2 * OBJ, rep, 3, e, 8), 2);
	ck_assert_uint_eq(e[0].len, OBJ - M);
	ck_assert_uint_eq(e[0].flags, HZ);
	ck_assert_uint_eq(e[1].len, OBJ + M);
	ck_assert_uint_eq(e[1].flags, 0);
}
END_TEST

START_TEST(clipped)
{
	/* librbd reports the whole object; the request begins inside it
	 * and ends inside the next. */
	const uint64_t rep[][3] = { { 0, OBJ, 1 }, { OBJ, OBJ, 1 } };
	struct blk_extent e[8];

	ck_assert_int_eq(extents(M, OBJ, rep, 2, e, 8), 1);
	ck_assert_uint_eq(e[0].len, OBJ);
	ck_assert_uint_eq(e[0].flags, 0);
	/* A report wholly before or after the request changes nothing. */
	{
		const uint64_t far[][3] = { { 0, M, 1 }, { 10 * OBJ, OBJ,
		    1 } };

		ck_assert_int_eq(extents(2 * M, M, far, 2, e, 8), 1);
		ck_assert_uint_eq(e[0].len, M);
		ck_assert_uint_eq(e[0].flags, HZ);
	}
}
END_TEST

START_TEST(full)
{
	/* Data, hole, data, hole, ... more than fit. */
	const uint64_t rep[][3] = { { 0, M, 1 }, { 2 * M, M, 1 },
	    { 4 * M, M, 1 }, { 6 * M, M, 1 } };
	struct blk_extent e[8];
	uint64_t sum = 0;
	int n;

	/* Two fit: data, then hole; the data after it does not, so the
	 * answer ends with the hole, never one stretched over data. */
	n = extents(0, 8 * M, rep, 4, e, 2);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(e[0].len, M);
	ck_assert_uint_eq(e[0].flags, 0);
	ck_assert_uint_eq(e[1].len, M);
	ck_assert_uint_eq(e[1].flags, HZ);
	/* Three fit: ends with data. */
	n = extents(0, 8 * M, rep, 4, e, 3);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(e[2].len, M);
	ck_assert_uint_eq(e[2].flags, 0);
	/* REQ_ONE: one extent, the first. */
	n = extents(0, 8 * M, rep, 4, e, 1);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(e[0].len, M);
	ck_assert_uint_eq(e[0].flags, 0);
	/* ... a hole first when the data begins later. */
	n = extents(0, 8 * M, rep + 1, 3, e, 1);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(e[0].len, 2 * M);
	ck_assert_uint_eq(e[0].flags, HZ);
	/* With room, all of it, adding up to the request. */
	n = extents(0, 8 * M, rep, 4, e, 8);
	ck_assert_int_eq(n, 8);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].flags, i % 2 ? HZ : 0);
		sum += e[i].len;
	}
	ck_assert_uint_eq(sum, 8 * M);
}
END_TEST

START_TEST(done_early)
{
	/* Once the request is covered, librbd is told to stop. */
	struct blk_extent e[4];
	struct rbdp_extents b;

	rbdp_extents_init(&b, 0, M, e, 4);
	ck_assert_int_eq(rbdp_extents_add(&b, 0, OBJ, 1), -1);
	ck_assert_int_eq(rbdp_extents_finish(&b), 1);
	ck_assert_uint_eq(e[0].len, M);
	ck_assert_uint_eq(e[0].flags, 0);
	rbdp_extents_init(&b, 0, 2 * M, e, 4);
	ck_assert_int_eq(rbdp_extents_add(&b, 0, M, 1), 0);
	ck_assert_int_eq(rbdp_extents_add(&b, M, M, 0), 0);
	ck_assert_int_eq(rbdp_extents_finish(&b), 2);
	ck_assert_uint_eq(e[1].len, M);
	ck_assert_uint_eq(e[1].flags, HZ);
}
END_TEST

START_TEST(parts_in_any_order)
{
	struct rbdp_parts p;

	/* Nothing from the base: the issuer's own part is the last. */
	rbdp_parts_init(&p);
	ck_assert(rbdp_parts_done(&p, 0, 0));
	ck_assert_int_eq(p.rc, 0);

	/* Parts that finish before all are issued never end it early. */
	rbdp_parts_init(&p);
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, 4096, 4096));
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, 0, 0));	/* the issuer, done */
	ck_assert(rbdp_parts_done(&p, 8192, 8192));
	ck_assert_int_eq(p.rc, 0);
}
END_TEST

START_TEST(parts_fail)
{
	struct rbdp_parts p;

	/* The first failure is the answer, whatever finishes later. */
	rbdp_parts_init(&p);
	rbdp_parts_add(&p);
	rbdp_parts_add(&p);
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, -ETIMEDOUT, 4096));
	ck_assert(!rbdp_parts_done(&p, -ESHUTDOWN, 4096));
	ck_assert(!rbdp_parts_done(&p, 4096, 4096));
	ck_assert(rbdp_parts_done(&p, 0, 0));
	ck_assert_int_eq(p.rc, -ETIMEDOUT);

	/* Fewer bytes than asked: never a reply padded with what was not
	 * read. */
	rbdp_parts_init(&p);
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, 0, 0));
	ck_assert(rbdp_parts_done(&p, 4095, 4096));
	ck_assert_int_eq(p.rc, -EIO);
	rbdp_parts_init(&p);
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, 0, 4096));
	ck_assert(rbdp_parts_done(&p, -EIO, 0));
	ck_assert_int_eq(p.rc, -EIO);

	/* The issuer's own failure (a pread of the overlay) counts too. */
	rbdp_parts_init(&p);
	rbdp_parts_add(&p);
	ck_assert(!rbdp_parts_done(&p, -EIO, 0));
	ck_assert(rbdp_parts_done(&p, 65536, 65536));
	ck_assert_int_eq(p.rc, -EIO);
}
END_TEST

static Suite *
rbdplan_suite(void)
{
	Suite *s = suite_create("nbdd_rbdplan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, submitting);
	tcase_add_test(tc, writes_in_input);
	tcase_add_test(tc, zeroes);
	tcase_add_test(tc, verdicts);
	tcase_add_test(tc, failure_causes);
	tcase_add_test(tc, nothing_allocated);
	tcase_add_test(tc, data_and_holes);
	tcase_add_test(tc, clipped);
	tcase_add_test(tc, full);
	tcase_add_test(tc, done_early);
	tcase_add_test(tc, parts_in_any_order);
	tcase_add_test(tc, parts_fail);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rbdplan_suite)
