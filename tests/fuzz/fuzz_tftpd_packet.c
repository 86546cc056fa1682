/* libFuzzer harness for tftpd's packet layer and transfer state machine:
 * any bytes as a request (parse, negotiate, build the OACK), as an ACK or
 * ERROR, and as a sequence of client packets fed to a transfer over a
 * small source in memory. Nothing may crash, hang, leak or read out of
 * bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftpd/packet.h"
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

static const struct source_ops mem_ops = { mem_read, mem_close };

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
	(void)packet_parse_ack(data, size, &block);
	(void)packet_parse_error(data, size, &code, msg, sizeof(msg));
	if (size >= 2)
		(void)packet_build_error(out, sizeof(out),
		    (uint16_t)(data[0] << 8 | data[1]),
		    size > 2 ? "x" : NULL);
	return 0;
}
