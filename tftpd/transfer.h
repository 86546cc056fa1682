/* layer: state */
/* One read transfer's state machine: OACK, the window of DATA blocks, ACKs
 * sliding it, retransmission on timeout, the end. It owns a source and
 * buffers bounded by the negotiated window; it never touches a socket
 * and never reads a clock. The caller feeds it packets and the time (in
 * nanoseconds of a monotonic clock), calls transfer_timeout once
 * deadline_ns is reached, and sends what it lists in out[]. */
#ifndef TFTPD_TRANSFER_H
#define TFTPD_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "tftpd/packet.h"
#include "tftpd/rto.h"
#include "tftpd/source.h"

/* How long a transfer waits for its client to make progress before it
 * gives up: about what the old fixed timer's five retries at one second
 * gave. It is counted in time, not in retransmissions: at a round trip's
 * pace a count of retries would be spent in a blink, and a client
 * pausing for a moment (a busy switch, a Pi writing its screen) would
 * lose its transfer. A client that asks for the timeout option gets its
 * own timer and TFTPD_RETRIES instead. */
#define TFTPD_PATIENCE_NS	(6 * NS_PER_SEC)
/* The OACK's timer never drops below this. Its answer costs the client
 * more than a round trip (reading the options, opening its output), and
 * unlike a block, an OACK resent early is not always harmless: atftp
 * aborts the transfer when a second one arrives. A lost OACK costs at
 * most this; there are two per file, against hundreds of blocks. */
#define TFTPD_OACK_WAIT_MIN_NS	(200 * NS_PER_MS)

enum transfer_state {
	XFER_OACK_SENT,		/* waiting for ACK 0 */
	XFER_SENDING,		/* a window of DATA is out */
	XFER_HELD,		/* the next window is ready, not sent: the
				 * scheduler holds it (sched.h); no timer */
	XFER_DONE,
};

/* What the caller does next. */
enum transfer_result {
	XFER_IDLE,		/* nothing to send */
	XFER_SEND,		/* send out[0..nout) to the client */
	XFER_FINISHED,		/* the last block was acknowledged */
	XFER_PROBE,		/* client's ERROR right after our OACK: the
				 * Pi's existence probe; not a failure */
	XFER_ABORTED,		/* client's ERROR during the data */
	XFER_FAILED,		/* gave up (why); send out[] if nout > 0 */
};

/* One datagram: a header and an optional payload, sent as two iovecs so
 * the data is never copied. */
struct transfer_pkt {
	const void *hdr;
	size_t hdr_len;
	const void *data;
	size_t data_len;
};

struct transfer {
	struct source *src;
	struct tftp_params params;
	enum transfer_state state;
	uint64_t window_first;	/* block number (from 1, never wraps) of
				 * the window's first block */
	unsigned window_count;	/* blocks of the window, as last sent */
	uint64_t last_block;	/* the short final block, 0 until read */
	int eof;		/* the file's end is in the buffer */
	/* Read-ahead buffer: the window's blocks and those after it, read
	 * in one go so a lock-step transfer needs no read per block. */
	uint8_t *data;
	size_t data_cap;	/* a whole number of blocks, >= the window */
	size_t data_off;	/* where window_first's block starts */
	size_t data_len;	/* valid bytes from data_off on */
	uint8_t (*hdrs)[TFTP_HDR_LEN];	/* one DATA header per block */
	uint8_t ctl[512];	/* OACK or ERROR */
	size_t ctl_len;
	struct transfer_pkt *out;	/* windowsize entries */
	unsigned nout;
	/* The retransmission timer. An exchange is the OACK or one window
	 * and the ACK that answers it. */
	struct rto rto;
	uint64_t sent_ns;	/* the exchange was first sent */
	int resent;		/* ... and sent again since: no RTT sample */
	int retries;		/* timeouts of the exchange so far */
	int sampled;		/* rto holds at least one sample of this
				 * transfer's own */
	uint64_t wait_ns;	/* length of the timer now armed */
	uint64_t deadline_ns;	/* when to call transfer_timeout */
	uint64_t retransmissions;	/* of an OACK or a window, in all */
	uint64_t bytes_acked;	/* file bytes the client confirmed */
	/* Holding (transfer_hold): the next window waits instead of going
	 * out, until transfer_resume. */
	int hold;		/* hold at the next window */
	enum transfer_state resume_state;	/* XFER_HELD resumes to it */
	int impatient;		/* the client sent its last ACK again while
				 * held: it has a timer of its own */
	uint64_t held_since;	/* XFER_HELD since then */
	uint64_t held_ns;	/* time held before that, in all */
	char why[160];		/* client's error text, or our reason */
};

/* Starts a transfer of src (whose ownership passes to t, even on failure)
 * with the negotiated parameters. tsize_known says src->size may be sent
 * as tsize. seed is what tftpd remembers of this client's round trip, or
 * NULL. Returns XFER_SEND (an OACK, or the first window) or XFER_FAILED. */
enum transfer_result transfer_start(struct transfer *t, struct source *src,
    const struct tftp_params *p, int tsize_known,
    const struct rto_estimate *seed, uint64_t now);

/* A packet from the client's address and port. */
enum transfer_result transfer_input(struct transfer *t, const uint8_t *buf,
    size_t len, uint64_t now);

/* deadline_ns is reached: retransmit what out[] lists, or give up (after
 * TFTPD_PATIENCE_NS without progress, or TFTPD_RETRIES timeouts of the
 * client's own timeout option). */
enum transfer_result transfer_timeout(struct transfer *t, uint64_t now);

/* Holds the transfer: once the window out now is acknowledged, the next
 * one is read but not sent, and no timer runs (deadline_ns is 0) until
 * transfer_resume. The client sees a server that is slow to answer. */
void transfer_hold(struct transfer *t);

/* Holds a transfer that has just started (transfer_start said
 * XFER_SEND) before its first packet, its OACK or first window, went
 * out: the client waits for an answer to its request. The hold goes on
 * at its first window when the OACK is let go (transfer_resume). */
void transfer_hold_first(struct transfer *t, uint64_t now);

/* Ends a hold: XFER_SEND with the packets that waited (the caller sends
 * out[] and arms the timer), or XFER_IDLE when none waited yet. */
enum transfer_result transfer_resume(struct transfer *t, uint64_t now);

/* Time spent held, up to now. */
uint64_t transfer_held_ns(const struct transfer *t, uint64_t now);

/* Frees buffers and closes the source. */
void transfer_free(struct transfer *t);

#endif
