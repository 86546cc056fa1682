#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/proto.h"

size_t
hs_greeting(uint8_t out[HS_GREETING_SIZE])
{
	put64(out, NBD_MAGIC);
	put64(out + 8, NBD_IHAVEOPT);
	put16(out + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	return HS_GREETING_SIZE;
}

int
hs_parse_client_flags(const uint8_t in[4], uint32_t *flags)
{
	*flags = get32(in);
	return (*flags & ~NBD_FLAG_C_KNOWN) ? -1 : 0;
}

int
hs_parse_option(const uint8_t in[HS_OPTION_HDR_SIZE], struct hs_option *o)
{
	if (get64(in) != NBD_IHAVEOPT)
		return -1;
	o->opt = get32(in + 8);
	o->len = get32(in + 12);
	return 0;
}

/* A name on the wire: at most NBDD_MAX_STRING bytes, no NUL. */
static int
wire_string_ok(const char *s, size_t len)
{
	return len <= NBDD_MAX_STRING && memchr(s, '\0', len) == NULL;
}

int
hs_parse_info(const uint8_t *p, size_t len, struct hs_info_req *r)
{
	size_t namelen;

	if (len < 6)
		return -1;
	namelen = get32(p);
	/* Compare without adding, so a huge namelen cannot wrap. */
	if (namelen > len - 6)
		return -1;
	r->name = (const char *)p + 4;
	r->namelen = (uint32_t)namelen;
	if (!wire_string_ok(r->name, namelen))
		return -1;
	r->nreqs = get16(p + 4 + namelen);
	if ((size_t)r->nreqs * 2 != len - 6 - namelen)
		return -1;
	r->reqs = p + 6 + namelen;
	return 0;
}

int
hs_parse_meta(const uint8_t *p, size_t len, struct hs_meta_req *r)
{
	size_t namelen, pos;
	uint32_t n;

	if (len < 8)
		return -1;
	namelen = get32(p);
	if (namelen > len - 8)
		return -1;
	r->name = (const char *)p + 4;
	r->namelen = (uint32_t)namelen;
	if (!wire_string_ok(r->name, namelen))
		return -1;
	r->nqueries = get32(p + 4 + namelen);
	r->queries = p + 8 + namelen;
	r->querieslen = len - 8 - namelen;
	/* Check every query now, so hs_meta_next cannot run off the end
	 * and a count that promises more than was sent is refused. */
	pos = 0;
	for (n = 0; n < r->nqueries; n++) {
		size_t qlen;

		if (r->querieslen - pos < 4)
			return -1;
		qlen = get32(r->queries + pos);
		if (qlen > r->querieslen - pos - 4)
			return -1;
		if (!wire_string_ok((const char *)r->queries + pos + 4, qlen))
			return -1;
		pos += 4 + qlen;
	}
	return pos == r->querieslen ? 0 : -1;
}

int
hs_meta_next(const struct hs_meta_req *r, size_t *pos, const char **q,
    uint32_t *qlen)
{
	if (*pos + 4 > r->querieslen)
		return 0;
	*qlen = get32(r->queries + *pos);
	*q = (const char *)r->queries + *pos + 4;
	*pos += 4 + (size_t)*qlen;
	return 1;
}

int
hs_meta_matches(const char *q, size_t qlen, int listing)
{
	static const char full[] = NBDD_META_BASE_ALLOCATION;

	if (qlen == sizeof(full) - 1 && memcmp(q, full, qlen) == 0)
		return 1;
	return listing && qlen == 5 && memcmp(q, "base:", 5) == 0;
}

static size_t
reply_header(uint8_t *out, uint32_t opt, uint32_t type, uint32_t len)
{
	put64(out, NBD_REP_MAGIC);
	put32(out + 8, opt);
	put32(out + 12, type);
	put32(out + 16, len);
	return HS_REPLY_HDR_SIZE;
}

size_t
hs_reply(uint8_t *out, size_t cap, uint32_t opt, uint32_t type,
    const void *payload, size_t plen)
{
	if (plen > cap || cap - plen < HS_REPLY_HDR_SIZE)
		return 0;
	reply_header(out, opt, type, (uint32_t)plen);
	if (plen)
		memcpy(out + HS_REPLY_HDR_SIZE, payload, plen);
	return HS_REPLY_HDR_SIZE + plen;
}

size_t
hs_reply_server(uint8_t *out, size_t cap, uint32_t opt, const char *name,
    size_t namelen)
{
	size_t total = HS_REPLY_HDR_SIZE + 4 + namelen;

	if (namelen > NBDD_MAX_STRING || cap < total)
		return 0;
	reply_header(out, opt, NBD_REP_SERVER, (uint32_t)(4 + namelen));
	put32(out + HS_REPLY_HDR_SIZE, (uint32_t)namelen);
	memcpy(out + HS_REPLY_HDR_SIZE + 4, name, namelen);
	return total;
}

size_t
hs_reply_info_export(uint8_t *out, size_t cap, uint32_t opt, uint64_t size,
    uint16_t flags)
{
	if (cap < HS_REPLY_HDR_SIZE + 12)
		return 0;
	reply_header(out, opt, NBD_REP_INFO, 12);
	put16(out + 20, NBD_INFO_EXPORT);
	put64(out + 22, size);
	put16(out + 30, flags);
	return HS_REPLY_HDR_SIZE + 12;
}

size_t
hs_reply_info_string(uint8_t *out, size_t cap, uint32_t opt, uint16_t type,
    const char *s, size_t slen)
{
	size_t total = HS_REPLY_HDR_SIZE + 2 + slen;

	if (slen > NBDD_MAX_STRING || cap < total)
		return 0;
	reply_header(out, opt, NBD_REP_INFO, (uint32_t)(2 + slen));
	put16(out + 20, type);
	memcpy(out + 22, s, slen);
	return total;
}

size_t
hs_reply_info_block_size(uint8_t *out, size_t cap, uint32_t opt,
    uint32_t min, uint32_t pref, uint32_t max)
{
	if (cap < HS_REPLY_HDR_SIZE + 14)
		return 0;
	reply_header(out, opt, NBD_REP_INFO, 14);
	put16(out + 20, NBD_INFO_BLOCK_SIZE);
	put32(out + 22, min);
	put32(out + 26, pref);
	put32(out + 30, max);
	return HS_REPLY_HDR_SIZE + 14;
}

size_t
hs_reply_meta_context(uint8_t *out, size_t cap, uint32_t opt, uint32_t id,
    const char *name)
{
	size_t namelen = strlen(name);
	size_t total = HS_REPLY_HDR_SIZE + 4 + namelen;

	if (namelen > NBDD_MAX_STRING || cap < total)
		return 0;
	reply_header(out, opt, NBD_REP_META_CONTEXT, (uint32_t)(4 + namelen));
	put32(out + 20, id);
	memcpy(out + 24, name, namelen);
	return total;
}

size_t
hs_export_name_reply(uint8_t out[HS_EXPORT_NAME_REPLY], uint64_t size,
    uint16_t flags, int no_zeroes)
{
	put64(out, size);
	put16(out + 8, flags);
	if (no_zeroes)
		return 10;
	memset(out + 10, 0, 124);
	return HS_EXPORT_NAME_REPLY;
}

const char *
hs_option_name(uint32_t opt)
{
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:	return "EXPORT_NAME";
	case NBD_OPT_ABORT:		return "ABORT";
	case NBD_OPT_LIST:		return "LIST";
	case NBD_OPT_PEEK_EXPORT:	return "PEEK_EXPORT";
	case NBD_OPT_STARTTLS:		return "STARTTLS";
	case NBD_OPT_INFO:		return "INFO";
	case NBD_OPT_GO:		return "GO";
	case NBD_OPT_STRUCTURED_REPLY:	return "STRUCTURED_REPLY";
	case NBD_OPT_LIST_META_CONTEXT:	return "LIST_META_CONTEXT";
	case NBD_OPT_SET_META_CONTEXT:	return "SET_META_CONTEXT";
	case NBD_OPT_EXTENDED_HEADERS:	return "EXTENDED_HEADERS";
	default:			return "unknown";
	}
}
