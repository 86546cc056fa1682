#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tftpd/transfer.h"

static void
arm(struct transfer *t, uint64_t now_ms)
{
	t->deadline_ms = now_ms + (uint64_t)t->params.timeout * 1000;
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

/* Reads the blocks the window still lacks, in one read, then lists every
 * block of the window for sending. */
static enum transfer_result
fill_and_send(struct transfer *t, uint64_t now_ms)
{
	size_t bs = t->params.blksize;
	unsigned want = t->params.windowsize - t->window_count;
	ssize_t got;

	if (t->last_block == 0 && want > 0) {
		got = source_read(t->src, t->data + t->data_len,
		    (size_t)want * bs,
		    (t->window_first - 1 + t->window_count) * bs);
		if (got == -1)
			return fail(t, TFTP_EUNDEF, "read error");
		t->data_len += (size_t)got;
		t->window_count += (unsigned)((size_t)got / bs);
		if ((size_t)got < (size_t)want * bs) {
			/* The short block (perhaps empty) ends the file. */
			t->window_count++;
			t->last_block = t->window_first + t->window_count - 1;
		}
	}
	for (unsigned i = 0; i < t->window_count; i++) {
		size_t off = (size_t)i * bs;
		size_t len = t->data_len - off < bs ? t->data_len - off : bs;

		packet_data_header(t->hdrs[i],
		    (uint16_t)(t->window_first + i));
		t->out[i] = (struct transfer_pkt){ t->hdrs[i], TFTP_HDR_LEN,
		    t->data + off, len };
	}
	t->nout = t->window_count;
	arm(t, now_ms);
	return XFER_SEND;
}

enum transfer_result
transfer_start(struct transfer *t, struct source *src,
    const struct tftp_params *p, int tsize_known, uint64_t now_ms)
{
	memset(t, 0, sizeof(*t));
	t->src = src;
	t->params = *p;
	t->window_first = 1;
	t->data = malloc((size_t)p->windowsize * p->blksize);
	t->hdrs = calloc(p->windowsize, sizeof(*t->hdrs));
	t->out = calloc(p->windowsize, sizeof(*t->out));
	if (t->data == NULL || t->hdrs == NULL || t->out == NULL) {
		log_err("%s: window of %u x %u bytes: %s", src->name,
		    p->windowsize, p->blksize, strerror(errno));
		/* out may be the allocation that failed: send nothing. */
		if (t->out == NULL)
			return fail(t, (uint16_t)-1, "out of memory");
		return fail(t, TFTP_EUNDEF, "out of memory");
	}
	t->ctl_len = packet_build_oack(t->ctl, sizeof(t->ctl), p, tsize_known,
	    src->size);
	if (t->ctl_len > 2) {
		t->state = XFER_OACK_SENT;
		out_ctl(t);
		arm(t, now_ms);
		return XFER_SEND;
	}
	/* No option to answer: RFC 1350 starts with DATA 1. */
	t->state = XFER_SENDING;
	return fill_and_send(t, now_ms);
}

/* An ACK for the wire block number w. */
static enum transfer_result
on_ack(struct transfer *t, uint16_t w, uint64_t now_ms)
{
	size_t bs = t->params.blksize, drop;
	unsigned d;

	if (t->state == XFER_OACK_SENT) {
		if (w != 0)
			return XFER_IDLE;
		t->state = XFER_SENDING;
		t->retries = 0;
		return fill_and_send(t, now_ms);
	}
	/* How far past the last acknowledged block w is. 0 is a duplicate
	 * of an ACK already acted on: answering it would double every
	 * later block (the Sorcerer's Apprentice), so only the timer
	 * resends. Beyond the window it names a block never sent. */
	d = (uint16_t)(w - (uint16_t)(t->window_first - 1));
	if (d == 0 || d > t->window_count)
		return XFER_IDLE;
	if (t->window_first - 1 + d == t->last_block) {
		t->bytes_acked += t->data_len;
		t->state = XFER_DONE;
		t->nout = 0;
		return XFER_FINISHED;
	}
	/* Slide: keep the blocks not yet acknowledged (RFC 7440 restarts
	 * the window right after the last block acknowledged). */
	drop = (size_t)d * bs;
	t->bytes_acked += drop;
	memmove(t->data, t->data + drop, t->data_len - drop);
	t->data_len -= drop;
	t->window_count -= d;
	t->window_first += d;
	t->retries = 0;
	return fill_and_send(t, now_ms);
}

enum transfer_result
transfer_input(struct transfer *t, const uint8_t *buf, size_t len,
    uint64_t now_ms)
{
	uint16_t block, code;

	if (t->state == XFER_DONE)
		return XFER_IDLE;
	switch (packet_opcode(buf, len)) {
	case TFTP_ACK:
		if (packet_parse_ack(buf, len, &block) != PKT_OK)
			return XFER_IDLE;
		return on_ack(t, block, now_ms);
	case TFTP_ERROR:
		if (packet_parse_error(buf, len, &code, t->why,
		    sizeof(t->why)) != PKT_OK)
			return XFER_IDLE;
		t->nout = 0;
		if (t->state == XFER_OACK_SENT) {
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
transfer_timeout(struct transfer *t, uint64_t now_ms)
{
	if (t->state == XFER_DONE)
		return XFER_IDLE;
	if (++t->retries > TFTPD_RETRIES) {
		char why[64];

		snprintf(why, sizeof(why), "no answer after %d retries",
		    TFTPD_RETRIES);
		return fail(t, (uint16_t)-1, why);
	}
	/* out[] still lists the OACK or the window as last sent. */
	arm(t, now_ms);
	return t->nout > 0 ? XFER_SEND : XFER_IDLE;
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
