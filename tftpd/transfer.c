#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/transfer.h"

/* Arms the timer for the exchange out now. A client that asked for the
 * timeout option gets exactly its timer. Otherwise the wait follows the
 * round trip (for an OACK, with a higher floor), and the last one ends
 * when patience does, so a silent client is given up on time. */
static void
arm(struct transfer *t, uint64_t now)
{
	uint64_t wait, left;

	if (t->params.timeout_asked)
		wait = (uint64_t)t->params.timeout * NS_PER_SEC;
	else {
		wait = t->state == XFER_OACK_SENT ?
		    rto_timeout_atleast(&t->rto, TFTPD_OACK_WAIT_MIN_NS) :
		    rto_timeout(&t->rto);
		/* transfer_timeout gives up before arming past patience,
		 * so left is positive. */
		left = t->sent_ns + TFTPD_PATIENCE_NS - now;
		if (wait > left)
			wait = left;
	}
	t->wait_ns = wait;
	t->deadline_ns = now + wait;
}

/* A new exchange goes out: its round trip is measured from now. */
static void
arm_new(struct transfer *t, uint64_t now)
{
	t->sent_ns = now;
	t->resent = 0;
	t->retries = 0;
	arm(t, now);
}

/* The client answered the exchange. Only an exchange sent once gives a
 * round trip (Karn): the answer to a resent one may be to either send. */
static void
answered(struct transfer *t, uint64_t now)
{
	if (t->resent)
		return;
	rto_sample(&t->rto, now - t->sent_ns);
	t->sampled = 1;
}

/* Lists the control packet (OACK or ERROR) as the one thing to send. */
static void
out_ctl(struct transfer *t)
{
	t->out[0] = (struct transfer_pkt){ t->ctl, t->ctl_len, NULL, 0 };
	t->nout = 1;
}

static enum transfer_result
fail(struct transfer *t, uint16_t code, const char *why)
{
	strlcpy(t->why, why, sizeof(t->why));
	t->state = XFER_DONE;
	t->nout = 0;
	if (code != (uint16_t)-1) {
		t->ctl_len = packet_build_error(t->ctl, sizeof(t->ctl), code,
		    why);
		out_ctl(t);
	}
	return XFER_FAILED;
}

/* Tops up the read-ahead buffer when it holds less than a window, in one
 * read, then lists every block of the window for sending: now, or, when
 * the transfer is to hold, once it is resumed. */
static enum transfer_result
fill_and_send(struct transfer *t, uint64_t now)
{
	size_t bs = t->params.blksize, avail;
	ssize_t got;

	if (!t->eof && t->data_len / bs < t->params.windowsize) {
		/* What is left is less than a window: move it to the
		 * front and read whole blocks after it. */
		memmove(t->data, t->data + t->data_off, t->data_len);
		t->data_off = 0;
		size_t want = t->data_cap - t->data_len;
		got = source_read(t->src, t->data + t->data_len, want,
		    (t->window_first - 1) * bs + t->data_len);
		if (got == -1)
			return fail(t, TFTP_EUNDEF, "read error");
		t->data_len += (size_t)got;
		/* Reads ask for whole blocks, so only the end of the file
		 * reads short; the short block (perhaps empty) is last. */
		if ((size_t)got < want)
			t->eof = 1;
	}
	avail = t->data_len / bs + (t->eof ? 1 : 0);
	if (t->eof)
		t->last_block = t->window_first + avail - 1;
	t->window_count = avail < t->params.windowsize ? (unsigned)avail :
	    t->params.windowsize;
	for (unsigned i = 0; i < t->window_count; i++) {
		size_t off = (size_t)i * bs;
		size_t len = t->data_len - off < bs ? t->data_len - off : bs;

		packet_data_header(t->hdrs[i],
		    (uint16_t)(t->window_first + i));
		t->out[i] = (struct transfer_pkt){ t->hdrs[i], TFTP_HDR_LEN,
		    t->data + t->data_off + off, len };
	}
	t->nout = t->window_count;
	if (t->hold) {
		t->resume_state = XFER_SENDING;
		t->state = XFER_HELD;
		t->held_since = now;
		t->deadline_ns = 0;
		return XFER_IDLE;
	}
	arm_new(t, now);
	return XFER_SEND;
}

enum transfer_result
transfer_start(struct transfer *t, struct source *src,
    const struct tftp_params *p, int tsize_known,
    const struct rto_estimate *seed, uint64_t now)
{
	memset(t, 0, sizeof(*t));
	t->src = src;
	t->params = *p;
	rto_init(&t->rto, seed);
	t->window_first = 1;
	/* At least a window, and at least the read-ahead, in blocks. */
	t->data_cap = (size_t)p->windowsize * p->blksize;
	if (t->data_cap < TFTPD_READAHEAD_BYTES)
		t->data_cap = (TFTPD_READAHEAD_BYTES + p->blksize - 1) /
		    p->blksize * p->blksize;
	t->data = malloc(t->data_cap);
	t->hdrs = calloc(p->windowsize, sizeof(*t->hdrs));
	t->out = calloc(p->windowsize, sizeof(*t->out));
	if (t->data == NULL || t->hdrs == NULL || t->out == NULL) {
		/* The caller logs the failure, with why. out may be the
		 * allocation that failed: send nothing. */
		if (t->out == NULL)
			return fail(t, (uint16_t)-1, "out of memory");
		return fail(t, TFTP_EUNDEF, "out of memory");
	}
	t->ctl_len = packet_build_oack(t->ctl, sizeof(t->ctl), p, tsize_known,
	    src->size);
	if (t->ctl_len > 2) {
		t->state = XFER_OACK_SENT;
		out_ctl(t);
		arm_new(t, now);
		return XFER_SEND;
	}
	/* No option to answer: RFC 1350 starts with DATA 1. */
	t->state = XFER_SENDING;
	return fill_and_send(t, now);
}

/* An ACK for the wire block number w. */
static enum transfer_result
on_ack(struct transfer *t, uint16_t w, uint64_t now)
{
	size_t bs = t->params.blksize, drop;
	unsigned d;

	if (t->state == XFER_OACK_SENT) {
		if (w != 0)
			return XFER_IDLE;
		answered(t, now);
		t->state = XFER_SENDING;
		return fill_and_send(t, now);
	}
	/* How far past the last acknowledged block w is. 0 is a duplicate
	 * of an ACK already acted on: answering it would double every
	 * later block (the Sorcerer's Apprentice), so only the timer
	 * resends. Beyond the window it names a block never sent. */
	d = (uint16_t)(w - (uint16_t)(t->window_first - 1));
	if (d == 0 || d > t->window_count)
		return XFER_IDLE;
	/* An ACK inside the window answers the client's loss handling
	 * (a gap, or its own timer), not the send: no round trip from it. */
	if (d == t->window_count)
		answered(t, now);
	if (t->window_first - 1 + d == t->last_block) {
		t->bytes_acked += t->data_len;
		t->state = XFER_DONE;
		t->nout = 0;
		return XFER_FINISHED;
	}
	/* Slide: the window restarts right after the last block
	 * acknowledged (RFC 7440); those blocks are full ones. */
	drop = (size_t)d * bs;
	t->bytes_acked += drop;
	t->data_off += drop;
	t->data_len -= drop;
	t->window_first += d;
	return fill_and_send(t, now);
}

enum transfer_result
transfer_input(struct transfer *t, const uint8_t *buf, size_t len,
    uint64_t now)
{
	uint16_t block, code;

	if (t->state == XFER_DONE)
		return XFER_IDLE;
	switch (packet_opcode(buf, len)) {
	case TFTP_ACK:
		if (packet_parse_ack(buf, len, &block) != PKT_OK)
			return XFER_IDLE;
		if (t->state == XFER_HELD) {
			/* Its last ACK again: the client's own timer ran
			 * out while it waited. Nothing else is due yet. */
			if (block == (uint16_t)(t->window_first - 1))
				t->impatient = 1;
			return XFER_IDLE;
		}
		return on_ack(t, block, now);
	case TFTP_ERROR:
		if (packet_parse_error(buf, len, &code, t->why,
		    sizeof(t->why)) != PKT_OK)
			return XFER_IDLE;
		t->nout = 0;
		if (t->state == XFER_OACK_SENT) {
			/* The Pi's probe answers the OACK at once: the
			 * first round trip its next transfers start from. */
			answered(t, now);
			t->state = XFER_DONE;
			return XFER_PROBE;
		}
		t->state = XFER_DONE;
		return XFER_ABORTED;
	default:
		/* Anything else from the client is noise: drop it. */
		return XFER_IDLE;
	}
}

enum transfer_result
transfer_timeout(struct transfer *t, uint64_t now)
{
	char why[64];

	if (t->state == XFER_DONE || t->state == XFER_HELD)
		return XFER_IDLE;
	if (t->params.timeout_asked) {
		if (t->retries >= TFTPD_RETRIES) {
			snprintf(why, sizeof(why), "no answer after %d "
			    "retries", TFTPD_RETRIES);
			return fail(t, (uint16_t)-1, why);
		}
	} else if (time_reached(now, t->sent_ns + TFTPD_PATIENCE_NS)) {
		snprintf(why, sizeof(why), "no answer for %llu s",
		    (unsigned long long)(TFTPD_PATIENCE_NS / NS_PER_SEC));
		return fail(t, (uint16_t)-1, why);
	}
	t->retries++;
	t->retransmissions++;
	t->resent = 1;
	rto_backoff(&t->rto);
	/* out[] still lists the OACK or the window as last sent. */
	arm(t, now);
	return t->nout > 0 ? XFER_SEND : XFER_IDLE;
}

void
transfer_hold(struct transfer *t)
{
	if (t->state != XFER_DONE)
		t->hold = 1;
}

void
transfer_hold_first(struct transfer *t, uint64_t now)
{
	if (t->state != XFER_OACK_SENT && t->state != XFER_SENDING)
		return;
	t->resume_state = t->state;
	t->state = XFER_HELD;
	t->hold = 1;
	t->held_since = now;
	t->deadline_ns = 0;
}

enum transfer_result
transfer_resume(struct transfer *t, uint64_t now)
{
	if (t->state != XFER_HELD) {
		t->hold = 0;
		return XFER_IDLE;
	}
	t->held_ns += now - t->held_since;
	t->state = t->resume_state;
	/* An OACK let go: its first window waits for a word of its own. */
	t->hold = t->state == XFER_OACK_SENT;
	arm_new(t, now);
	return XFER_SEND;
}

uint64_t
transfer_held_ns(const struct transfer *t, uint64_t now)
{
	return t->held_ns + (t->state == XFER_HELD ? now - t->held_since : 0);
}

void
transfer_free(struct transfer *t)
{
	if (t->src != NULL)
		source_close(t->src);
	free(t->data);
	free(t->hdrs);
	free(t->out);
	memset(t, 0, sizeof(*t));
}
