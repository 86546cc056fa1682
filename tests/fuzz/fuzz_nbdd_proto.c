/* libFuzzer harness over nbdd's pure protocol layer: the handshake
 * parsers (client flags, option header, INFO/GO and META_CONTEXT
 * payloads, walked as negotiate.c walks them) and the request parser and
 * checker. The first byte picks which; the rest is the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/export.h"
#include "nbdd/handshake.h"
#include "nbdd/proto.h"
#include "nbdd/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_handshake(const uint8_t *p, size_t n)
{
	struct hs_option o;
	struct hs_info_req ir;
	struct hs_meta_req mr;
	uint8_t out[HS_REPLY_HDR_SIZE + NBDD_MAX_STRING + 64];
	uint32_t flags;
	const char *q;
	uint32_t qlen;
	size_t pos = 0;

	/* The client flags, then one option. */
	if (n < 4)
		return;
	(void)hs_parse_client_flags(p, &flags);
	p += 4;
	n -= 4;
	if (n < HS_OPTION_HDR_SIZE)
		return;
	if (hs_parse_option(p, &o) == -1)
		return;
	p += HS_OPTION_HDR_SIZE;
	n -= HS_OPTION_HDR_SIZE;
	/* As negotiate.c: never look past what was received, and refuse
	 * what is longer than any real option. */
	if (o.len > NBDD_MAX_OPTION || o.len > n)
		return;
	n = o.len;
	switch (o.opt) {
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		if (hs_parse_info(p, n, &ir) == 0) {
			for (uint16_t i = 0; i < ir.nreqs; i++)
				(void)get16(ir.reqs + 2 * i);
			(void)export_name_valid(ir.name, ir.namelen);
			(void)hs_reply_info_string(out, sizeof(out), o.opt,
			    NBD_INFO_NAME, ir.name, ir.namelen);
		}
		break;
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		if (hs_parse_meta(p, n, &mr) == 0) {
			(void)export_name_valid(mr.name, mr.namelen);
			while (hs_meta_next(&mr, &pos, &q, &qlen))
				(void)hs_meta_matches(q, qlen,
				    o.opt == NBD_OPT_LIST_META_CONTEXT);
		}
		break;
	case NBD_OPT_EXPORT_NAME:
		(void)export_name_valid((const char *)p, n);
		(void)hs_reply_server(out, sizeof(out), NBD_OPT_LIST,
		    (const char *)p, n);
		break;
	default:
		(void)hs_reply(out, sizeof(out), o.opt, NBD_REP_ERR_UNSUP, p,
		    n < 64 ? n : 64);
		break;
	}
}

static void
fuzz_request(const uint8_t *p, size_t n)
{
	struct req_export e;
	struct nbd_request r;
	uint8_t out[REQ_CHUNK_SIZE + 6 + 64];
	uint32_t err;

	if (n < 9 + NBD_REQUEST_SIZE)
		return;
	e.size = get64(p);
	e.read_only = p[8] & 1;
	e.structured = (p[8] >> 1) & 1;
	e.meta_allocation = (p[8] >> 2) & 1;
	p += 9;
	n -= 9;
	while (n >= NBD_REQUEST_SIZE) {
		if (req_parse(p, &r) == -1)
			return;
		err = req_check(&r, &e);
		/* What was accepted must lie inside the export and within
		 * the limits; a crash here is a checker bug. */
		if (err == 0 && r.type != NBD_CMD_DISC &&
		    r.type != NBD_CMD_FLUSH) {
			if (r.len == 0 || r.offset > e.size ||
			    r.len > e.size - r.offset)
				__builtin_trap();
			if ((r.type == NBD_CMD_READ ||
			    r.type == NBD_CMD_WRITE) && r.len > NBDD_MAX_PAYLOAD)
				__builtin_trap();
			if (e.read_only && (r.type == NBD_CMD_WRITE ||
			    r.type == NBD_CMD_TRIM ||
			    r.type == NBD_CMD_WRITE_ZEROES))
				__builtin_trap();
		}
		if (r.type > NBD_CMD_BLOCK_STATUS && err == 0)
			__builtin_trap();
		(void)req_payload_len(&r);
		(void)req_error_chunk(out, sizeof(out), r.handle, err,
		    req_cmd_name(r.type));
		p += NBD_REQUEST_SIZE;
		n -= NBD_REQUEST_SIZE;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_request(data + 1, size - 1);
	else
		fuzz_handshake(data + 1, size - 1);
	return 0;
}
