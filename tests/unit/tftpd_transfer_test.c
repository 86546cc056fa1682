/* The transfer state machine, fed packets and times by hand over a
 * source in memory: lock-step, windows, rollover, the Pi's probe, client
 * errors, duplicate and bogus ACKs, and the retransmission timer: its
 * round-trip estimate, Karn's rule, backoff, patience, the client's
 * timeout option. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/packet.h"
#include "tftpd/proto.h"
#include "tftpd/transfer.h"
#include "tests/unit/check_main.h"

#define MS	NS_PER_MS
#define US	(NS_PER_MS / 1000)
#define S	NS_PER_SEC

struct memsource {
	struct source base;
	uint8_t *bytes;
	int fail_reads;
	int *closed;
};

static ssize_t
mem_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	struct memsource *m = (struct memsource *)src;

	if (m->fail_reads)
		return -1;
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	memcpy(buf, m->bytes + off, len);
	return (ssize_t)len;
}

static void
mem_close(struct source *src)
{
	struct memsource *m = (struct memsource *)src;

	if (m->closed)
		(*m->closed)++;
	free(m->bytes);
	free(m);
}

static const struct source_ops mem_ops = { .read = mem_read,
	.close = mem_close };

static struct memsource *
memsource(size_t size)
{
	struct memsource *m = calloc(1, sizeof(*m));

	m->base.ops = &mem_ops;
	m->base.size = size;
	strlcpy(m->base.name, "mem", sizeof(m->base.name));
	m->bytes = malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		m->bytes[i] = (uint8_t)(i * 7 + i / 251);
	return m;
}

static struct tftp_params
params(unsigned blksize, unsigned windowsize, int asked)
{
	struct tftp_params p = { .blksize = blksize,
		.windowsize = windowsize, .timeout = 1 };

	p.blksize_asked = asked;
	p.tsize_asked = asked;
	return p;
}

static enum transfer_result
ack(struct transfer *t, uint16_t block, uint64_t now)
{
	uint8_t a[4] = { 0, TFTP_ACK, (uint8_t)(block >> 8),
		(uint8_t)block };

	return transfer_input(t, a, sizeof(a), now);
}

static uint16_t
data_block(const struct transfer_pkt *p)
{
	const uint8_t *h = p->hdr;

	ck_assert_uint_eq(p->hdr_len, 4);
	ck_assert_uint_eq(h[1], TFTP_DATA);
	return (uint16_t)(h[2] << 8 | h[3]);
}

START_TEST(lockstep_no_options)
{
	struct memsource *m = memsource(1024);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	int closed = 0;

	m->closed = &closed;
	/* No option asked: DATA 1 straight away. */
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_uint_eq(t.nout, 1);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_uint_eq(t.out[0].data_len, 512);
	ck_assert_mem_eq(t.out[0].data, m->bytes, 512);
	ck_assert_int_eq(ack(&t, 1, 1), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 2);
	ck_assert_mem_eq(t.out[0].data, m->bytes + 512, 512);
	/* A file of whole blocks ends with an empty one. */
	ck_assert_int_eq(ack(&t, 2, 2), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 3);
	ck_assert_uint_eq(t.out[0].data_len, 0);
	ck_assert_int_eq(ack(&t, 3, 3), XFER_FINISHED);
	ck_assert_uint_eq(t.bytes_acked, 1024);
	transfer_free(&t);
	ck_assert_int_eq(closed, 1);
}
END_TEST

START_TEST(empty_file)
{
	struct memsource *m = memsource(0);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_uint_eq(t.out[0].data_len, 0);
	ck_assert_int_eq(ack(&t, 1, 1), XFER_FINISHED);
	transfer_free(&t);
}
END_TEST

START_TEST(oack_then_data)
{
	struct memsource *m = memsource(3000);
	struct tftp_params p = params(1468, 1, 1);
	struct transfer t;
	const uint8_t *o;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_uint_eq(t.nout, 1);
	o = t.out[0].hdr;
	ck_assert_uint_eq(o[1], TFTP_OACK);
	ck_assert(memmem(o, t.out[0].hdr_len, "tsize\0" "3000", 11) != NULL);
	/* Only ACK 0 starts the data. */
	ck_assert_int_eq(ack(&t, 1, 1), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 0, 1), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_uint_eq(t.out[0].data_len, 1468);
	/* A second ACK 0 (delayed duplicate) sends nothing. */
	ck_assert_int_eq(ack(&t, 0, 2), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 1, 2), XFER_SEND);
	ck_assert_int_eq(ack(&t, 2, 3), XFER_SEND);
	ck_assert_uint_eq(t.out[0].data_len, 3000 - 2 * 1468);
	ck_assert_int_eq(ack(&t, 3, 4), XFER_FINISHED);
	ck_assert_uint_eq(t.bytes_acked, 3000);
	transfer_free(&t);
}
END_TEST

START_TEST(pi_probe)
{
	struct memsource *m = memsource(100);
	struct tftp_params p = params(1468, 1, 1);
	struct transfer t;
	const uint8_t err[] = "\0\5\0\0Abort";

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(transfer_input(&t, err, sizeof(err), 1), XFER_PROBE);
	ck_assert_str_eq(t.why, "Abort");
	ck_assert_uint_eq(t.nout, 0);
	/* Ended: nothing more, not even on a timeout. */
	ck_assert_int_eq(transfer_timeout(&t, 5000), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 0, 5000), XFER_IDLE);
	transfer_free(&t);
}
END_TEST

START_TEST(client_error_mid_transfer)
{
	struct memsource *m = memsource(5000);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	const uint8_t err[] = { 0, 5, 0, 3 };	/* no message, no NUL */

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 1, 1), XFER_SEND);
	ck_assert_int_eq(transfer_input(&t, err, sizeof(err), 2),
	    XFER_ABORTED);
	transfer_free(&t);
}
END_TEST

START_TEST(bogus_and_duplicate_acks)
{
	struct memsource *m = memsource(5000);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	const uint8_t junk[] = { 0, 99, 1, 2, 3 };
	const uint8_t shortack[] = { 0, TFTP_ACK, 0 };

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 1, 1), XFER_SEND);
	/* Sorcerer's Apprentice: the duplicate ACK 1 sends nothing. */
	ck_assert_int_eq(ack(&t, 1, 1), XFER_IDLE);
	/* ACKs for blocks never sent, far ahead or behind. */
	ck_assert_int_eq(ack(&t, 3, 1), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 9999, 1), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 0, 1), XFER_IDLE);
	ck_assert_int_eq(transfer_input(&t, junk, sizeof(junk), 1), XFER_IDLE);
	ck_assert_int_eq(transfer_input(&t, shortack, sizeof(shortack), 1),
	    XFER_IDLE);
	ck_assert_int_eq(transfer_input(&t, junk, 0, 1), XFER_IDLE);
	ck_assert_int_eq(transfer_input(&t, junk, 1, 1), XFER_IDLE);
	/* The transfer goes on where it was. */
	ck_assert_uint_eq(data_block(&t.out[0]), 2);
	ck_assert_int_eq(ack(&t, 2, 2), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 3);
	transfer_free(&t);
}
END_TEST

/* A client that asks for the timeout option gets exactly that timer and
 * the retry count tftpd always had, whatever its round trip. */
START_TEST(client_timeout_option_honoured)
{
	struct memsource *m = memsource(5000);
	struct tftp_params p = params(512, 1, 0);
	struct rto_estimate seed = { 1 * MS, 100 * US };
	struct transfer t;
	uint64_t now = 0;

	p.timeout = 3;
	p.timeout_asked = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, &seed, now),
	    XFER_SEND);
	ck_assert_uint_eq(((const uint8_t *)t.out[0].hdr)[1], TFTP_OACK);
	ck_assert_uint_eq(t.deadline_ns, 3 * NS_PER_SEC);
	/* A quick answer is measured, and changes nothing. */
	now = 200 * US;
	ck_assert_int_eq(ack(&t, 0, now), XFER_SEND);
	ck_assert_uint_eq(t.deadline_ns, now + 3 * NS_PER_SEC);
	for (int i = 0; i < TFTPD_RETRIES; i++) {
		now = t.deadline_ns;
		ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
		ck_assert_uint_eq(t.nout, 1);
		ck_assert_uint_eq(data_block(&t.out[0]), 1);
		/* No backoff: the client's timer, every time. */
		ck_assert_uint_eq(t.deadline_ns, now + 3 * NS_PER_SEC);
	}
	ck_assert_uint_eq(t.retransmissions, TFTPD_RETRIES);
	ck_assert_int_eq(transfer_timeout(&t, t.deadline_ns), XFER_FAILED);
	ck_assert_str_eq(t.why, "no answer after 5 retries");
	ck_assert_uint_eq(t.nout, 0);
	transfer_free(&t);
}
END_TEST

/* Without the option the timer follows the round trip: a new client
 * starts from the conservative initial timer, its first answer is
 * measured, and from then on a lost block is resent at round-trip pace. */
START_TEST(timer_follows_round_trip)
{
	struct memsource *m = memsource(512 * 100);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	uint64_t now = 0;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, now),
	    XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, RTO_INITIAL_NS);
	ck_assert_uint_eq(t.deadline_ns, RTO_INITIAL_NS);
	/* A LAN's round trip: the timer drops to the floor. */
	now += 300 * US;
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	ck_assert_int_eq(t.sampled, 1);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 300 * US);
	ck_assert_uint_eq(t.wait_ns, RTO_FLOOR_NS);
	ck_assert_uint_eq(t.deadline_ns, now + RTO_FLOOR_NS);
	/* A slower client: the timer follows it up, just above it. */
	for (uint16_t b = 2; b < 60; b++) {
		now += 20 * MS;
		ck_assert_int_eq(ack(&t, b, now), XFER_SEND);
	}
	ck_assert_uint_gt(t.wait_ns, 20 * MS);
	ck_assert_uint_lt(t.wait_ns, 25 * MS);
	ck_assert_uint_eq(t.retransmissions, 0);
	transfer_free(&t);
}
END_TEST

/* DATA lost (or its ACK: the server cannot tell): resent after one
 * timer, at round-trip scale. The answer to a resent block gives no
 * sample (Karn), and the doubled timer holds until a block sent once is
 * answered. */
START_TEST(lost_block_resent_karn)
{
	struct memsource *m = memsource(512 * 10);
	struct tftp_params p = params(512, 1, 0);
	struct rto_estimate seed = { 4 * MS, 1 * MS };
	struct transfer t;
	struct rto_estimate before;
	uint64_t now = 1000, base;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, &seed, now),
	    XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, 8 * MS);
	now += 4 * MS;
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 2);
	/* RTTVAR shrank with a sample on the mark. */
	base = t.wait_ns;
	ck_assert_uint_lt(base, 8 * MS);
	ck_assert_uint_gt(base, 4 * MS);
	/* DATA 2 is lost: the timer resends it. */
	now = t.deadline_ns;
	ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
	ck_assert_uint_eq(t.nout, 1);
	ck_assert_uint_eq(data_block(&t.out[0]), 2);
	ck_assert_mem_eq(t.out[0].data, m->bytes + 512, 512);
	ck_assert_uint_eq(t.retransmissions, 1);
	ck_assert_uint_eq(t.deadline_ns, now + 2 * base);
	/* The ACK comes 1 ms after the resend, 8 ms after the first send:
	 * which send it answers is unknown, so no sample. */
	before = t.rto.est;
	now += 1 * MS;
	ck_assert_int_eq(ack(&t, 2, now), XFER_SEND);
	ck_assert_uint_eq(t.rto.est.srtt_ns, before.srtt_ns);
	ck_assert_uint_eq(t.rto.est.rttvar_ns, before.rttvar_ns);
	ck_assert_uint_eq(data_block(&t.out[0]), 3);
	/* Still backed off for the next block ... */
	ck_assert_uint_eq(t.wait_ns, 2 * base);
	/* ... until a block sent once is answered. */
	now += 4 * MS;
	ck_assert_int_eq(ack(&t, 3, now), XFER_SEND);
	ck_assert_uint_eq(t.rto.backoff, 0);
	ck_assert_uint_le(t.wait_ns, base);
	ck_assert_uint_eq(t.retransmissions, 1);
	transfer_free(&t);
}
END_TEST

/* The client's ACK is lost: the server resends the block, the client
 * ACKs the copy, the transfer goes on; the client's first ACK, arriving
 * late after all, is a duplicate and resends nothing. */
START_TEST(lost_ack_then_late_duplicate)
{
	struct memsource *m = memsource(512 * 10);
	struct tftp_params p = params(512, 1, 0);
	struct rto_estimate seed = { 1 * MS, 250 * US };
	struct transfer t;
	uint64_t now = 0, deadline;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, &seed, now),
	    XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, RTO_FLOOR_NS);
	now = t.deadline_ns;
	ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	now += 500 * US;
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 2);
	deadline = t.deadline_ns;
	ck_assert_int_eq(ack(&t, 1, now + 10), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 1, now + 20), XFER_IDLE);
	ck_assert_uint_eq(t.deadline_ns, deadline);
	ck_assert_uint_eq(t.retransmissions, 1);
	transfer_free(&t);
}
END_TEST

/* RFC 1350's Sorcerer's Apprentice: however many duplicate ACKs come,
 * only the timer resends, and the timer is not moved by them. */
START_TEST(duplicate_acks_never_resend)
{
	struct memsource *m = memsource(512 * 10);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	uint64_t now = 0, deadline;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, now),
	    XFER_SEND);
	now += 100 * US;
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	deadline = t.deadline_ns;
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(ack(&t, 1, now + (uint64_t)i * US),
		    XFER_IDLE);
	ck_assert_uint_eq(t.deadline_ns, deadline);
	ck_assert_uint_eq(t.retransmissions, 0);
	/* After a timeout too: a duplicate still sends nothing. */
	ck_assert_int_eq(transfer_timeout(&t, deadline), XFER_SEND);
	ck_assert_int_eq(ack(&t, 1, deadline + 1), XFER_IDLE);
	ck_assert_uint_eq(t.retransmissions, 1);
	transfer_free(&t);
}
END_TEST

/* A silent client is given up on after TFTPD_PATIENCE_NS without
 * progress, on time, however short its timer: the waits double up to
 * the ceiling and the last one ends when patience does. */
START_TEST(gives_up_on_time)
{
	struct memsource *m = memsource(512 * 10);
	struct tftp_params p = params(512, 1, 0);
	struct rto_estimate seed = { 100 * US, 10 * US };
	struct transfer t;
	uint64_t start = 5 * NS_PER_SEC, now = start, prev_wait;
	enum transfer_result r;
	int n = 0;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, &seed, now),
	    XFER_SEND);
	prev_wait = t.wait_ns;
	ck_assert_uint_eq(prev_wait, RTO_FLOOR_NS);
	for (;;) {
		now = t.deadline_ns;
		r = transfer_timeout(&t, now);
		if (r != XFER_SEND)
			break;
		n++;
		ck_assert_uint_lt(now - start, TFTPD_PATIENCE_NS);
		ck_assert_uint_le(t.wait_ns, RTO_CEILING_NS);
		/* Doubling, but for the ceiling and the end of patience. */
		ck_assert(t.wait_ns == 2 * prev_wait ||
		    t.wait_ns == RTO_CEILING_NS ||
		    t.deadline_ns == start + TFTPD_PATIENCE_NS);
		prev_wait = t.wait_ns;
	}
	ck_assert_int_eq(r, XFER_FAILED);
	ck_assert_uint_eq(now - start, TFTPD_PATIENCE_NS);
	ck_assert_str_eq(t.why, "no answer for 6 s");
	ck_assert_uint_eq(t.nout, 0);
	ck_assert_uint_eq(t.retransmissions, (uint64_t)n);
	/* Far more tries than the old five, but not a flood. */
	ck_assert_int_gt(n, TFTPD_RETRIES);
	ck_assert_int_lt(n, 30);
	transfer_free(&t);
}
END_TEST

/* Progress restarts patience: a client that answers, slowly, after every
 * few lost blocks is never given up on. */
START_TEST(progress_restarts_patience)
{
	struct memsource *m = memsource(50000);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	uint64_t now = 0, sent;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	for (uint16_t b = 1; b < 20; b++) {
		sent = t.sent_ns;
		/* Timeouts for most of the patience, then the answer. */
		while (t.deadline_ns - sent < TFTPD_PATIENCE_NS - NS_PER_SEC) {
			now = t.deadline_ns;
			ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
		}
		ck_assert_int_eq(ack(&t, b, now + 1), XFER_SEND);
		ck_assert_uint_eq(t.sent_ns, now + 1);
		ck_assert_int_eq(t.retries, 0);
	}
	transfer_free(&t);
}
END_TEST

/* The Pi's probe (OACK out, its ERROR back) is the first round trip,
 * the one its following transfers start from. */
START_TEST(probe_is_a_sample)
{
	struct memsource *m = memsource(100);
	struct tftp_params p = params(1468, 1, 1);
	struct transfer t;
	const uint8_t err[] = "\0\5\0\0Abort";

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 50),
	    XFER_SEND);
	ck_assert_int_eq(transfer_input(&t, err, sizeof(err), 50 + 700 * US),
	    XFER_PROBE);
	ck_assert_int_eq(t.sampled, 1);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 700 * US);
	transfer_free(&t);
}
END_TEST

/* A known client's OACK still waits TFTPD_OACK_WAIT_MIN_NS: its answer
 * costs the client more than a round trip, and some clients (atftp)
 * abort on a second OACK. The blocks after it go at round-trip pace. */
START_TEST(oack_waits_longer)
{
	struct memsource *m = memsource(3000);
	struct tftp_params p = params(1468, 1, 1);
	struct rto_estimate seed = { 100 * US, 20 * US };
	struct transfer t;
	uint64_t now = 0;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, &seed, now),
	    XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, TFTPD_OACK_WAIT_MIN_NS);
	now = t.deadline_ns;
	ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, 2 * TFTPD_OACK_WAIT_MIN_NS);
	now += 1 * MS;
	ck_assert_int_eq(ack(&t, 0, now), XFER_SEND);
	/* Backed off (Karn) from the block timer, not from the OACK's. */
	ck_assert_uint_eq(t.wait_ns, 2 * RTO_FLOOR_NS);
	now += 100 * US;
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	ck_assert_uint_eq(t.wait_ns, RTO_FLOOR_NS);
	transfer_free(&t);
}
END_TEST

/* A resent OACK's answer is no sample either. */
START_TEST(resent_oack_no_sample)
{
	struct memsource *m = memsource(3000);
	struct tftp_params p = params(1468, 1, 1);
	struct transfer t;
	uint64_t now;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	now = t.deadline_ns;
	ck_assert_int_eq(transfer_timeout(&t, now), XFER_SEND);
	ck_assert_uint_eq(((const uint8_t *)t.out[0].hdr)[1], TFTP_OACK);
	ck_assert_int_eq(ack(&t, 0, now + 1 * MS), XFER_SEND);
	ck_assert_int_eq(t.sampled, 0);
	ck_assert_int_eq(t.rto.have_estimate, 0);
	/* The next exchange, sent once, is measured. */
	ck_assert_int_eq(ack(&t, 1, now + 2 * MS), XFER_SEND);
	ck_assert_int_eq(t.sampled, 1);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 1 * MS);
	transfer_free(&t);
}
END_TEST

/* With a window, only an ACK of the whole window is a round trip; one
 * inside it answers the client's own loss handling. */
START_TEST(window_partial_ack_no_sample)
{
	struct memsource *m = memsource(100 * 20);
	struct tftp_params p = params(100, 4, 1);
	struct transfer t;

	p.windowsize_asked = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 0, 1 * MS), XFER_SEND);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 1 * MS);
	ck_assert_int_eq(ack(&t, 2, 500 * MS), XFER_SEND);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 1 * MS);
	ck_assert_uint_eq(t.window_count, 4);
	ck_assert_int_eq(ack(&t, 6, 503 * MS), XFER_SEND);
	ck_assert_uint_eq(t.rto.est.srtt_ns, (7 * 1 * MS + 3 * MS) / 8);
	transfer_free(&t);
}
END_TEST

/* Times are differences: a transfer that runs across the clock
 * counter's wrap measures, times out and gives up as anywhere else. */
START_TEST(clock_wraps)
{
	struct memsource *m = memsource(512 * 10);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	uint64_t start = UINT64_MAX - 1 * MS, now = start;
	enum transfer_result r;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, now),
	    XFER_SEND);
	ck_assert_uint_eq(t.deadline_ns, start + RTO_INITIAL_NS);
	now += 3 * MS;		/* wrapped */
	ck_assert_uint_lt(now, start);
	ck_assert_int_eq(ack(&t, 1, now), XFER_SEND);
	ck_assert_uint_eq(t.rto.est.srtt_ns, 3 * MS);
	ck_assert_uint_eq(t.deadline_ns, now + 9 * MS);
	/* Silent from here: given up exactly at patience. */
	start = now;
	while ((r = transfer_timeout(&t, now = t.deadline_ns)) == XFER_SEND)
		;
	ck_assert_int_eq(r, XFER_FAILED);
	ck_assert_uint_eq(now - start, TFTPD_PATIENCE_NS);
	transfer_free(&t);
}
END_TEST

START_TEST(oack_timeout)
{
	struct memsource *m = memsource(10);
	struct tftp_params p = params(1468, 1, 1);
	struct transfer t;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(transfer_timeout(&t, 1000), XFER_SEND);
	ck_assert_uint_eq(((const uint8_t *)t.out[0].hdr)[1], TFTP_OACK);
	transfer_free(&t);
}
END_TEST

START_TEST(window_slides)
{
	struct memsource *m = memsource(10 * 100 + 50);
	struct tftp_params p = params(100, 4, 1);
	struct transfer t;

	p.windowsize_asked = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 0, 1), XFER_SEND);
	ck_assert_uint_eq(t.nout, 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(data_block(&t.out[i]), 1 + i);
		ck_assert_mem_eq(t.out[i].data, m->bytes + i * 100, 100);
	}
	/* A gap after block 2: the window restarts at 3. */
	ck_assert_int_eq(ack(&t, 2, 2), XFER_SEND);
	ck_assert_uint_eq(t.nout, 4);
	ck_assert_uint_eq(data_block(&t.out[0]), 3);
	ck_assert_mem_eq(t.out[0].data, m->bytes + 200, 100);
	ck_assert_uint_eq(data_block(&t.out[3]), 6);
	/* A duplicate of the ACK acted on: nothing. */
	ck_assert_int_eq(ack(&t, 2, 2), XFER_IDLE);
	/* Beyond the window: never sent. */
	ck_assert_int_eq(ack(&t, 7, 2), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 6, 3), XFER_SEND);
	ck_assert_uint_eq(t.nout, 4);
	ck_assert_uint_eq(data_block(&t.out[3]), 10);
	ck_assert_int_eq(ack(&t, 10, 4), XFER_SEND);
	/* Only the short last block is left. */
	ck_assert_uint_eq(t.nout, 1);
	ck_assert_uint_eq(data_block(&t.out[0]), 11);
	ck_assert_uint_eq(t.out[0].data_len, 50);
	ck_assert_mem_eq(t.out[0].data, m->bytes + 1000, 50);
	ck_assert_int_eq(ack(&t, 11, 5), XFER_FINISHED);
	ck_assert_uint_eq(t.bytes_acked, 1050);
	transfer_free(&t);
}
END_TEST

START_TEST(last_block_inside_window)
{
	struct memsource *m = memsource(250);
	struct tftp_params p = params(100, 8, 1);
	struct transfer t;

	p.windowsize_asked = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 0, 1), XFER_SEND);
	ck_assert_uint_eq(t.nout, 3);
	ck_assert_uint_eq(t.out[2].data_len, 50);
	/* ACK of a middle block restarts from there. */
	ck_assert_int_eq(ack(&t, 1, 2), XFER_SEND);
	ck_assert_uint_eq(t.nout, 2);
	ck_assert_int_eq(ack(&t, 3, 3), XFER_FINISHED);
	ck_assert_uint_eq(t.bytes_acked, 250);
	transfer_free(&t);
}
END_TEST

START_TEST(block_numbers_roll_over)
{
	/* 70000 blocks of 8 bytes: past 65535 the numbers start again at
	 * 0, and the file arrives whole. */
	const size_t nblocks = 70000, bs = 8;
	struct memsource *m = memsource(nblocks * bs + 3);
	struct tftp_params p = params(bs, 1, 0);
	struct transfer t;
	uint64_t got = 0;
	enum transfer_result r;

	r = transfer_start(&t, &m->base, &p, 1, NULL, 0);
	for (uint64_t n = 1;; n++) {
		ck_assert_int_eq(r, XFER_SEND);
		ck_assert_uint_eq(t.nout, 1);
		ck_assert_uint_eq(data_block(&t.out[0]), (uint16_t)n);
		ck_assert_mem_eq(t.out[0].data, m->bytes + got,
		    t.out[0].data_len);
		got += t.out[0].data_len;
		r = ack(&t, (uint16_t)n, n);
		if (n == nblocks + 1)
			break;
	}
	ck_assert_int_eq(r, XFER_FINISHED);
	ck_assert_uint_eq(got, nblocks * bs + 3);
	ck_assert_uint_eq(t.bytes_acked, nblocks * bs + 3);
	transfer_free(&t);
}
END_TEST

START_TEST(read_error_fails_with_error_packet)
{
	struct memsource *m = memsource(5000);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;
	const uint8_t *e;

	m->fail_reads = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_FAILED);
	ck_assert_uint_eq(t.nout, 1);
	e = t.out[0].hdr;
	ck_assert_uint_eq(e[1], TFTP_ERROR);
	ck_assert_uint_eq(e[3], TFTP_EUNDEF);
	transfer_free(&t);
}
END_TEST

/* The scheduler's hold: the window after the one out waits, with no
 * timer, until resumed; the client's repeated ACK marks it impatient. */
START_TEST(hold_and_resume)
{
	struct memsource *m = memsource(3 * 512 + 10);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 1, 1 * MS), XFER_SEND);
	transfer_hold(&t);
	/* Block 2 is out; its ACK readies block 3 and sends nothing. */
	ck_assert_int_eq(ack(&t, 2, 2 * MS), XFER_IDLE);
	ck_assert_int_eq(t.state, XFER_HELD);
	ck_assert_uint_eq(t.deadline_ns, 0);
	ck_assert_int_eq(transfer_timeout(&t, 500 * MS), XFER_IDLE);
	ck_assert_int_eq(t.impatient, 0);
	/* Nothing the client says moves it on, bar an ERROR. */
	ck_assert_int_eq(ack(&t, 3, 600 * MS), XFER_IDLE);
	ck_assert_int_eq(t.impatient, 0);
	ck_assert_int_eq(ack(&t, 2, 700 * MS), XFER_IDLE);
	ck_assert_int_eq(t.impatient, 1);
	ck_assert_uint_eq(transfer_held_ns(&t, 1000 * MS), 998 * MS);
	ck_assert_int_eq(transfer_resume(&t, 1000 * MS), XFER_SEND);
	ck_assert_uint_eq(t.nout, 1);
	ck_assert_uint_eq(data_block(&t.out[0]), 3);
	ck_assert_mem_eq(t.out[0].data, m->bytes + 1024, 512);
	/* The timer runs again, from the resume. */
	ck_assert_uint_gt(t.deadline_ns, 1000 * MS);
	ck_assert_int_eq(ack(&t, 3, 1001 * MS), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 4);
	ck_assert_uint_eq(t.out[0].data_len, 10);
	ck_assert_int_eq(ack(&t, 4, 1002 * MS), XFER_FINISHED);
	ck_assert_uint_eq(t.bytes_acked, 3 * 512 + 10);
	ck_assert_uint_eq(transfer_held_ns(&t, 5000 * MS), 998 * MS);
	transfer_free(&t);
}
END_TEST

/* Held before the first block: ACK 0 readies it. A hold lifted before
 * any window waited changes nothing; the last block's ACK ends the
 * transfer whether it is held or not. */
START_TEST(hold_edges)
{
	struct memsource *m = memsource(1000);
	struct tftp_params p = params(512, 1, 1);
	struct transfer t;
	const uint8_t err[] = "\0\5\0\0bye";

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	transfer_hold(&t);
	ck_assert_int_eq(ack(&t, 0, 1 * MS), XFER_IDLE);
	ck_assert_int_eq(t.state, XFER_HELD);
	ck_assert_int_eq(transfer_resume(&t, 2 * MS), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_int_eq(transfer_resume(&t, 3 * MS), XFER_IDLE);
	ck_assert_int_eq(ack(&t, 1, 3 * MS), XFER_SEND);
	transfer_hold(&t);
	ck_assert_int_eq(ack(&t, 2, 4 * MS), XFER_FINISHED);
	transfer_free(&t);

	m = memsource(5000);
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	ck_assert_int_eq(ack(&t, 0, 1 * MS), XFER_SEND);
	transfer_hold(&t);
	ck_assert_int_eq(ack(&t, 1, 2 * MS), XFER_IDLE);
	ck_assert_int_eq(transfer_input(&t, err, sizeof(err), 3 * MS),
	    XFER_ABORTED);
	ck_assert_str_eq(t.why, "bye");
	transfer_free(&t);
}
END_TEST

/* Held before its first packet: the OACK waits, then, let go, the first
 * block waits for a word of its own; without options, DATA 1 waits. A
 * client that gives up meanwhile ends it. */
START_TEST(hold_first_packet)
{
	struct memsource *m = memsource(1000);
	struct tftp_params p = params(512, 1, 1);
	struct transfer t;
	const uint8_t err[] = "\0\5\0\0gave up";

	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	transfer_hold_first(&t, 0);
	ck_assert_int_eq(t.state, XFER_HELD);
	ck_assert_uint_eq(t.deadline_ns, 0);
	ck_assert_int_eq(transfer_timeout(&t, 5 * S), XFER_IDLE);
	ck_assert_int_eq(transfer_resume(&t, 20 * MS), XFER_SEND);
	ck_assert_int_eq(t.state, XFER_OACK_SENT);
	ck_assert_uint_eq(((const uint8_t *)t.out[0].hdr)[1], TFTP_OACK);
	ck_assert_uint_gt(t.deadline_ns, 20 * MS);
	/* ACK 0: the first block waits. */
	ck_assert_int_eq(ack(&t, 0, 21 * MS), XFER_IDLE);
	ck_assert_int_eq(t.state, XFER_HELD);
	ck_assert_int_eq(transfer_resume(&t, 30 * MS), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_uint_eq(transfer_held_ns(&t, 40 * MS), 29 * MS);
	transfer_free(&t);

	m = memsource(1000);
	p = params(512, 1, 0);
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	transfer_hold_first(&t, 0);
	ck_assert_int_eq(transfer_resume(&t, 1 * MS), XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	ck_assert_int_eq(ack(&t, 1, 2 * MS), XFER_SEND);
	transfer_free(&t);

	m = memsource(1000);
	p = params(512, 1, 1);
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 1, NULL, 0),
	    XFER_SEND);
	transfer_hold_first(&t, 0);
	ck_assert_int_eq(transfer_input(&t, err, sizeof(err), 1 * S),
	    XFER_ABORTED);
	transfer_free(&t);
}
END_TEST

START_TEST(netascii_tsize_left_out)
{
	struct memsource *m = memsource(10);
	struct tftp_params p = params(512, 1, 0);
	struct transfer t;

	/* Only tsize asked and its value unknown: no OACK, DATA at once. */
	p.tsize_asked = 1;
	ck_assert_int_eq(transfer_start(&t, &m->base, &p, 0, NULL, 0),
	    XFER_SEND);
	ck_assert_uint_eq(data_block(&t.out[0]), 1);
	transfer_free(&t);
}
END_TEST

static Suite *
transfer_suite(void)
{
	Suite *s = suite_create("tftpd_transfer");
	TCase *tc = tcase_create("transfer");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, lockstep_no_options);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, oack_then_data);
	tcase_add_test(tc, pi_probe);
	tcase_add_test(tc, client_error_mid_transfer);
	tcase_add_test(tc, bogus_and_duplicate_acks);
	tcase_add_test(tc, client_timeout_option_honoured);
	tcase_add_test(tc, timer_follows_round_trip);
	tcase_add_test(tc, lost_block_resent_karn);
	tcase_add_test(tc, lost_ack_then_late_duplicate);
	tcase_add_test(tc, duplicate_acks_never_resend);
	tcase_add_test(tc, gives_up_on_time);
	tcase_add_test(tc, progress_restarts_patience);
	tcase_add_test(tc, probe_is_a_sample);
	tcase_add_test(tc, oack_waits_longer);
	tcase_add_test(tc, resent_oack_no_sample);
	tcase_add_test(tc, window_partial_ack_no_sample);
	tcase_add_test(tc, clock_wraps);
	tcase_add_test(tc, oack_timeout);
	tcase_add_test(tc, window_slides);
	tcase_add_test(tc, last_block_inside_window);
	tcase_add_test(tc, block_numbers_roll_over);
	tcase_add_test(tc, read_error_fails_with_error_packet);
	tcase_add_test(tc, netascii_tsize_left_out);
	tcase_add_test(tc, hold_and_resume);
	tcase_add_test(tc, hold_edges);
	tcase_add_test(tc, hold_first_packet);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(transfer_suite)
