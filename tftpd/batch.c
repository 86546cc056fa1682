/* The turn's socket calls (batch.h) over io_uring. Every call carries
 * MSG_DONTWAIT, so the kernel tries it during io_uring_enter() and
 * completes it there, done or failed (a full socket buffer fails with
 * EAGAIN rather than waiting in the kernel, an empty one too): when
 * batch_flush() or batch_recv() returns, no buffer, msghdr or descriptor
 * of theirs is still in use. A failed send is recovered by its transfer's
 * retransmission timer, as after a sendmsg() that failed. */
#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tftpd/batch.h"

/* user_data: what completed. A send's carries its descriptor (for the
 * log), a receive's its index with RECV_TAG. */
#define RECV_TAG	(UINT64_C(1) << 63)

/* Whether the kernel completes a MSG_DONTWAIT receive on an empty socket
 * at once (-EAGAIN), as everything here relies on, rather than waiting
 * for a datagram as kernels before that did. Asked of the kernel itself,
 * with a socket pair of our own. */
static int
completes_at_once(struct io_uring *ring)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct msghdr mh = { 0 };
	int sv[2], ok = 0;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 0;
	if ((sqe = io_uring_get_sqe(ring)) != NULL) {
		io_uring_prep_recvmsg(sqe, sv[0], &mh, MSG_DONTWAIT);
		io_uring_sqe_set_data64(sqe, 0);
		if (io_uring_submit(ring) == 1 &&
		    io_uring_peek_cqe(ring, &cqe) == 0) {
			ok = cqe->res == -EAGAIN;
			io_uring_cqe_seen(ring, cqe);
		}
	}
	/* A receive still waiting ends with the ring, and the sockets. */
	close(sv[0]);
	close(sv[1]);
	return ok;
}

void
batch_init(struct batch *b, unsigned entries)
{
	int r;

	b->sends = 0;
	b->gen = 1;
	if ((b->ring = calloc(1, sizeof(*b->ring))) == NULL) {
		log_info("io_uring: out of memory; one system call per "
		    "packet");
		return;
	}
	if ((r = io_uring_queue_init(entries, b->ring, 0)) < 0) {
		log_info("io_uring unavailable (%s); one system call per "
		    "packet", strerror(-r));
		free(b->ring);
		b->ring = NULL;
		return;
	}
	if (!completes_at_once(b->ring)) {
		log_info("io_uring here waits on an empty socket; one system "
		    "call per packet");
		io_uring_queue_exit(b->ring);
		free(b->ring);
		b->ring = NULL;
		return;
	}
	log_debug("io_uring: a turn's datagrams in one system call");
}

void
batch_fini(struct batch *b)
{
	if (b->ring == NULL)
		return;
	batch_flush(b);
	io_uring_queue_exit(b->ring);
	free(b->ring);
	b->ring = NULL;
}

/* Takes in one completion: a receive's result goes to res. */
static void
complete(const struct io_uring_cqe *cqe, struct batch_result *res, unsigned n,
    unsigned *received)
{
	uint64_t tag = cqe->user_data;

	if (tag & RECV_TAG) {
		if ((tag & ~RECV_TAG) < n) {
			struct batch_result *r = &res[tag & ~RECV_TAG];

			r->len = cqe->res < 0 ? -1 : cqe->res;
			r->err = cqe->res < 0 ? -cqe->res : 0;
			(*received)++;
		}
	} else if (cqe->res < 0)
		log_trace("send on fd %llu: %s", (unsigned long long)tag,
		    strerror(-cqe->res));
}

/* Submits what is queued and takes in the completions: all of them are
 * there when io_uring_enter() returns, since no call waits; want more are
 * waited for all the same (receives whose results res needs). Returns
 * how many receives completed. */
static unsigned
submit(struct batch *b, struct batch_result *res, unsigned n,
    unsigned want)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen, received = 0;
	int r;

	while ((r = io_uring_submit(b->ring)) == -EINTR)
		;
	if (b->sends > 0) {
		b->sends = 0;
		b->gen++;
	}
	if (r < 0) {
		/* The kernel took none of it, and would take it later, when
		 * the msghdrs are gone: drop the ring with what is in it.
		 * The sends are lost (their timers send them again); the
		 * datagrams stay in their sockets, and epoll reports them
		 * again. */
		log_warn("io_uring_submit: %s; one system call per packet "
		    "from now on", strerror(-r));
		io_uring_queue_exit(b->ring);
		free(b->ring);
		b->ring = NULL;
		return 0;
	}
	for (;;) {
		seen = 0;
		io_uring_for_each_cqe(b->ring, head, cqe) {
			complete(cqe, res, n, &received);
			seen++;
		}
		io_uring_cq_advance(b->ring, seen);
		if (received >= want)
			return received;
		if ((r = io_uring_wait_cqe(b->ring, &cqe)) < 0 && r != -EINTR) {
			log_warn("io_uring_wait_cqe: %s", strerror(-r));
			return received;
		}
	}
}

void
batch_flush(struct batch *b)
{
	if (b->ring != NULL && b->sends > 0)
		submit(b, NULL, 0, 0);
}

/* A free submission slot, submitting what is queued if none is left;
 * NULL without a ring (or were the ring to stay full). */
static struct io_uring_sqe *
slot(struct batch *b, struct batch_result *res, unsigned n,
    unsigned *received)
{
	struct io_uring_sqe *sqe;

	if (b->ring == NULL)
		return NULL;
	if ((sqe = io_uring_get_sqe(b->ring)) == NULL) {
		*received += submit(b, res, n, 0);
		sqe = io_uring_get_sqe(b->ring);
	}
	return sqe;
}

enum batch_send_status
batch_send(struct batch *b, int fd, const struct msghdr *mh)
{
	struct io_uring_sqe *sqe;
	unsigned ignored = 0;

	if ((sqe = slot(b, NULL, 0, &ignored)) == NULL)
		return sendmsg(fd, mh, MSG_DONTWAIT) == -1 ?
		    BATCH_SEND_FAILED : BATCH_SEND_OK;
	io_uring_prep_sendmsg(sqe, fd, mh, MSG_DONTWAIT);
	io_uring_sqe_set_data64(sqe, (uint64_t)fd);
	b->sends++;
	return BATCH_SEND_QUEUED;
}

void
batch_recv(struct batch *b, unsigned n, const int *fds, struct msghdr *mhs,
    struct batch_result *res)
{
	struct io_uring_sqe *sqe;
	unsigned queued = 0, received = 0;

	for (unsigned i = 0; i < n; i++) {
		res[i] = (struct batch_result){ -1, EAGAIN };
		if ((sqe = slot(b, res, n, &received)) == NULL) {
			res[i].len = recvmsg(fds[i], &mhs[i], MSG_DONTWAIT);
			res[i].err = res[i].len == -1 ? errno : 0;
			continue;
		}
		io_uring_prep_recvmsg(sqe, fds[i], &mhs[i], MSG_DONTWAIT);
		io_uring_sqe_set_data64(sqe, RECV_TAG | i);
		queued++;
	}
	if (queued > 0)
		submit(b, res, n, queued - received);
}
