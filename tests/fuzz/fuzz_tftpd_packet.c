/* libFuzzer harness for tftpd's packet layer, the request port's
 * decisions and the transfer state machine: any bytes as a request
 * (parse, negotiate, build the OACK; what the request port does with it
 * and with each outcome of the open), as an ACK or ERROR, and as a
 * sequence of client packets fed to a transfer over a small source in
 * memory. Nothing may crash, hang, leak or read out of bounds; a decision
 * must be consistent and its log line printable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/packet.h"
#include "tftpd/request.h"
#include "tftpd/transfer.h"

struct memsrc {
	struct source base;
};

static ssize_t
mem_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	memset(buf, 'x', len);
	return (ssize_t)len;
}

static void
mem_close(struct source *src)
{
	free(src);
}

static const struct source_ops mem_ops = { .read = mem_read,
	.close = mem_close };

/* The input, split at 0xff bytes, is a sequence of client packets fed to
 * a transfer of a file of fsize bytes; a lone 0xfe is its timer running
 * out. */
static void
fuzz_transfer(const uint8_t *data, size_t size, const struct tftp_params *p,
    uint64_t fsize)
{
	struct memsrc *m;
	struct transfer t;
	size_t start = 0;
	uint64_t now = 0;
	enum transfer_result r;

	if (size < 1 || (m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->base.ops = &mem_ops;
	m->base.size = fsize;
	r = transfer_start(&t, &m->base, p, 1, NULL, now);
	for (size_t i = 0; i <= size && r != XFER_FINISHED &&
	    r != XFER_FAILED && r != XFER_PROBE && r != XFER_ABORTED; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		if (i - start == 1 && data[start] == 0xfe) {
			/* As the event loop does: at the deadline. */
			if (time_reached(t.deadline_ns, now))
				now = t.deadline_ns;
			r = transfer_timeout(&t, now);
		} else
			r = transfer_input(&t, data + start, i - start, ++now);
		for (unsigned k = 0; r == XFER_SEND && k < t.nout; k++)
			if (t.out[k].data_len > t.params.blksize)
				abort();
		start = i + 1;
	}
	transfer_free(&t);
}

struct host {
	int allowed;
	int asked;
};

static int
host_check(void *ctx)
{
	struct host *h = ctx;

	h->asked++;
	return h->allowed;
}

/* The line is terminated inside its buffer and has no control byte. */
static void
check_line(const struct request_decision *d)
{
	const char *end = memchr(d->line, '\0', sizeof(d->line));

	if (end == NULL || (d->level >= LOG_LEVEL_DEBUG && !d->debug &&
	    end != d->line))
		abort();
	for (const char *p = d->line; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void
check_refusal(const struct request_decision *d)
{
	uint8_t out[1024];

	if (d->action != REQUEST_REFUSE || d->error > TFTP_EOPTNEG)
		abort();
	if (packet_build_error(out, sizeof(out), d->error, d->message) < 5)
		abort();
}

/* The request port's decision on the datagram, with the host verdict
 * and the load taken from the input's length; then, for a request that
 * is opened, each outcome of the open with a reason cut from the input. */
static void
fuzz_decision(const uint8_t *data, size_t size)
{
	struct host h = { size % 5 != 0, 0 };
	struct request_facts f = { (unsigned)(size % 4), 2, size % 3 != 0,
	    host_check, &h };
	struct request_decision d;
	char why[SOURCE_WHY_LEN];
	int op = packet_opcode(data, size);
	int stray = op >= TFTP_DATA && op <= TFTP_OACK;

	request_decide(data, size, &f, &d);
	check_line(&d);
	if ((d.action == REQUEST_DROP) != stray || h.asked != !stray)
		abort();
	if (d.action == REQUEST_REFUSE)
		check_refusal(&d);
	if (d.action != REQUEST_OPEN)
		return;
	if (!h.allowed || f.ntransfers >= f.max_transfers ||
	    d.req.opcode != TFTP_RRQ || d.req.filename_len == 0 ||
	    d.req.filename_len > TFTPD_PATH_MAX)
		abort();
	/* Control bytes and all, as a source might quote the path. */
	memset(why, 0, sizeof(why));
	memcpy(why, data, size < sizeof(why) - 1 ? size : sizeof(why) - 1);
	for (int st = SOURCE_OK; st <= SOURCE_ERROR + 1; st++) {
		struct request_decision o = d;

		request_opened(&o, (enum source_status)st,
		    st % 2 ? why : NULL);
		check_line(&o);
		if (st == SOURCE_OK ? o.action != REQUEST_OPEN :
		    o.action != REQUEST_REFUSE)
			abort();
		if (st != SOURCE_OK)
			check_refusal(&o);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_request req;
	struct tftp_params p;
	const char *why;
	uint8_t out[512];
	uint16_t block, code;
	char msg[64];

	if (packet_parse_request(data, size, &req) == PKT_OK) {
		if (req.filename_len == 0 || req.filename_len > TFTPD_PATH_MAX ||
		    req.filename[req.filename_len] != '\0')
			abort();
		if (packet_negotiate(&req, &p, &why) == PKT_OK) {
			if (p.blksize < TFTP_BLKSIZE_MIN ||
			    p.blksize > TFTP_BLKSIZE_MAX || p.windowsize < 1 ||
			    p.windowsize > TFTPD_WINDOWSIZE_CAP ||
			    p.timeout < 1 || p.timeout > 255)
				abort();
			(void)packet_build_oack(out, sizeof(out), &p, 1, size);
			/* Small blocks keep the transfer loop short. */
			if (p.blksize <= 4096)
				fuzz_transfer(data, size, &p,
				    (uint64_t)req.filename_len * 131 % 30000);
		}
	}
	fuzz_decision(data, size);
	(void)packet_parse_ack(data, size, &block);
	(void)packet_parse_error(data, size, &code, msg, sizeof(msg));
	if (size >= 2)
		(void)packet_build_error(out, sizeof(out),
		    (uint16_t)(data[0] << 8 | data[1]),
		    size > 2 ? "x" : NULL);
	return 0;
}
