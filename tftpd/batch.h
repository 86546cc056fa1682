/* layer: I/O */
/* A turn of the event loop's socket calls, handed to the kernel together.
 * With many lock-step transfers running, each turn has an ACK to read and
 * a DATA packet to send for each client whose ACK came in; one
 * io_uring_enter() for all the reads and one for all the sends cost less
 * than a recvmsg() and a sendmsg() each. Without io_uring (an old kernel,
 * a seccomp filter, kernel.io_uring_disabled) each call is made on its
 * own, with the same results. */
#ifndef TFTPD_BATCH_H
#define TFTPD_BATCH_H

#include <sys/types.h>
#include <sys/socket.h>

struct io_uring;

struct batch {
	struct io_uring *ring;	/* NULL: one system call each */
	unsigned sends;		/* queued, not yet submitted */
	/* Counts submissions: a send queued while gen is unchanged is still
	 * waiting, and its msghdr may be rewritten to send newer bytes. */
	unsigned long long gen;
};

/* Sets up the ring for about entries calls a turn; without one, each call
 * is made on its own. Never fails. */
void batch_init(struct batch *b, unsigned entries);
void batch_fini(struct batch *b);

enum batch_send_status {
	BATCH_SEND_OK,		/* sent at once */
	BATCH_SEND_QUEUED,	/* goes at the next flush */
	BATCH_SEND_FAILED,	/* a send at once failed: errno says why */
};

/* Sends mh on fd now or at the next batch_flush(). mh must stay in place
 * until then, and fd open; what mh says when the flush comes is what is
 * sent. */
enum batch_send_status batch_send(struct batch *b, int fd,
    const struct msghdr *mh);

/* Sends what is queued. Before a queued packet's descriptor is closed or
 * its msghdr goes, and at the end of each turn of the loop. */
void batch_flush(struct batch *b);

/* One receive's outcome: the datagram's length, or -1 and the errno that
 * says why there is none (EAGAIN: nothing there). */
struct batch_result {
	ssize_t len;
	int err;
};

/* Reads one datagram from each fds[i] into mhs[i], none waiting, with
 * res[i] its outcome. Sends queued so far go too. */
void batch_recv(struct batch *b, unsigned n, const int *fds,
    struct msghdr *mhs, struct batch_result *res);

#endif
