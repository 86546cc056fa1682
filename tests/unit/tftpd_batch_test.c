/* The turn's batched socket calls, over io_uring and without it (the
 * fallback a kernel without io_uring gets): datagrams sent in a batch
 * arrive whole and in order, more than the ring holds included; a queued
 * send whose msghdr is rewritten before the flush sends the newer bytes
 * once; receives report each socket's datagram, or -EAGAIN for an empty
 * one, without waiting; a truncated datagram says so. */
#include <sys/socket.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tftpd/batch.h"
#include "tests/unit/check_main.h"

#define NSOCK	6

static int tx[NSOCK], rx[NSOCK];

static void
setup(void)
{
	int sv[2];

	for (int i = 0; i < NSOCK; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK,
		    0, sv), 0);
		tx[i] = sv[0];
		rx[i] = sv[1];
	}
}

static void
teardown(void)
{
	for (int i = 0; i < NSOCK; i++) {
		close(tx[i]);
		close(rx[i]);
	}
}

/* The ring (_i 0) or the fallback (_i 1). */
static void
start(struct batch *b, int no_ring)
{
	batch_init(b, 4);
	if (no_ring) {
		batch_fini(b);
		ck_assert_ptr_null(b->ring);
	}
}

static struct msghdr
msg(struct iovec *iov, const void *hdr, size_t hlen, const void *data,
    size_t dlen)
{
	iov[0] = (struct iovec){ (void *)hdr, hlen };
	iov[1] = (struct iovec){ (void *)data, dlen };
	return (struct msghdr){ .msg_iov = iov, .msg_iovlen = 2 };
}

START_TEST(sends_arrive_in_order)
{
	struct batch b;
	struct iovec iov[20][2];
	struct msghdr mh[20];
	char hdr[20][16], data[20][24], got[64];
	enum batch_send_status r;

	start(&b, _i);
	/* 20 sends through a ring of 4: it is submitted whenever full. */
	for (unsigned i = 0; i < 20; i++) {
		snprintf(hdr[i], sizeof(hdr[i]), "%03u", i);
		snprintf(data[i], sizeof(data[i]), "-payload-%02u", i);
		mh[i] = msg(iov[i], hdr[i], 3, data[i], strlen(data[i]));
		r = batch_send(&b, tx[i % 2], &mh[i]);
		ck_assert_int_eq(r, _i ? BATCH_SEND_OK : BATCH_SEND_QUEUED);
	}
	batch_flush(&b);
	for (unsigned i = 0; i < 20; i++) {
		char want[32];
		ssize_t n = recv(rx[i % 2], got, sizeof(got), MSG_DONTWAIT);

		snprintf(want, sizeof(want), "%03u-payload-%02u", i, i);
		ck_assert_int_eq(n, (ssize_t)strlen(want));
		ck_assert_mem_eq(got, want, (size_t)n);
	}
	ck_assert_int_eq(recv(rx[0], got, sizeof(got), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	batch_fini(&b);
}
END_TEST

START_TEST(rewritten_before_flush_sends_the_new_bytes)
{
	struct batch b;
	struct iovec iov[2];
	struct msghdr mh;
	unsigned long long gen;
	char got[64];

	batch_init(&b, 4);
	if (b.ring == NULL) {
		batch_fini(&b);
		return;		/* nothing is queued without a ring */
	}
	gen = b.gen;
	mh = msg(iov, "old", 3, "-block", 6);
	ck_assert_int_eq(batch_send(&b, tx[0], &mh), BATCH_SEND_QUEUED);
	ck_assert(b.gen == gen);	/* still waiting */
	mh = msg(iov, "new", 3, "-block!", 7);
	batch_flush(&b);
	ck_assert(b.gen != gen);
	ck_assert_int_eq(recv(rx[0], got, sizeof(got), MSG_DONTWAIT), 10);
	ck_assert_mem_eq(got, "new-block!", 10);
	ck_assert_int_eq(recv(rx[0], got, sizeof(got), MSG_DONTWAIT), -1);
	batch_fini(&b);
}
END_TEST

START_TEST(receives_each_socket_without_waiting)
{
	struct batch b;
	int fds[NSOCK];
	struct msghdr mhs[NSOCK];
	struct iovec iov[NSOCK];
	char buf[NSOCK][8], big[32];
	struct batch_result res[NSOCK];

	start(&b, _i);
	memset(big, 'x', sizeof(big));
	/* Sockets 0, 2 and 4 have a datagram; 4's is longer than its
	 * buffer; 1, 3 and 5 have none. */
	ck_assert_int_eq(send(tx[0], "ack0", 4, 0), 4);
	ck_assert_int_eq(send(tx[2], "ack2!", 5, 0), 5);
	ck_assert_int_eq(send(tx[4], big, sizeof(big), 0), (ssize_t)sizeof(big));
	for (int i = 0; i < NSOCK; i++) {
		fds[i] = rx[i];
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		mhs[i] = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	/* NSOCK receives through a ring of 4. */
	batch_recv(&b, NSOCK, fds, mhs, res);
	ck_assert_int_eq(res[0].len, 4);
	ck_assert_int_eq(res[0].err, 0);
	ck_assert_mem_eq(buf[0], "ack0", 4);
	ck_assert_int_eq(res[2].len, 5);
	ck_assert_mem_eq(buf[2], "ack2!", 5);
	ck_assert_int_eq(res[4].len, (ssize_t)sizeof(buf[4]));
	ck_assert(mhs[4].msg_flags & MSG_TRUNC);
	ck_assert(!(mhs[0].msg_flags & MSG_TRUNC));
	for (int i = 1; i < NSOCK; i += 2) {
		ck_assert_int_eq(res[i].len, -1);
		ck_assert_int_eq(res[i].err, EAGAIN);
	}
	/* Each datagram was read once. */
	batch_recv(&b, NSOCK, fds, mhs, res);
	for (int i = 0; i < NSOCK; i++) {
		ck_assert_int_eq(res[i].len, -1);
		ck_assert_int_eq(res[i].err, EAGAIN);
	}
	batch_fini(&b);
}
END_TEST

START_TEST(a_failed_send_is_not_fatal)
{
	struct batch b;
	struct iovec iov[2];
	struct msghdr mh;
	char got[16];

	start(&b, _i);
	/* The peer is gone: the send fails (ECONNREFUSED or EPIPE), and
	 * the batch goes on. */
	close(rx[5]);
	rx[5] = -1;
	mh = msg(iov, "x", 1, "y", 1);
	ck_assert_int_eq(batch_send(&b, tx[5], &mh),
	    _i ? BATCH_SEND_FAILED : BATCH_SEND_QUEUED);
	ck_assert_int_ne(batch_send(&b, tx[1], &mh), BATCH_SEND_FAILED);
	batch_flush(&b);
	ck_assert_int_eq(recv(rx[1], got, sizeof(got), MSG_DONTWAIT), 2);
	batch_fini(&b);
}
END_TEST

static Suite *
batch_suite(void)
{
	Suite *s = suite_create("tftpd_batch");
	TCase *tc = tcase_create("batch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, sends_arrive_in_order, 0, 2);
	tcase_add_test(tc, rewritten_before_flush_sends_the_new_bytes);
	tcase_add_loop_test(tc, receives_each_socket_without_waiting, 0, 2);
	tcase_add_loop_test(tc, a_failed_send_is_not_fatal, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(batch_suite)
