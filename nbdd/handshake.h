/* layer: pure */
/* The handshake as bytes: the greeting, option requests parsed, option
 * replies built. No sockets, no files: negotiate.c drives it and the unit
 * tests and the fuzzer call it directly. */
#ifndef NBDD_HANDSHAKE_H
#define NBDD_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#define HS_GREETING_SIZE	18	/* NBDMAGIC, IHAVEOPT, 16-bit flags */
#define HS_OPTION_HDR_SIZE	16	/* IHAVEOPT, option, length */
#define HS_REPLY_HDR_SIZE	20	/* magic, option, type, length */
#define HS_EXPORT_NAME_REPLY	134	/* size, flags, 124 zeroes */

struct hs_option {
	uint32_t opt;
	uint32_t len;		/* payload length as claimed by the client */
};

/* An NBD_OPT_INFO or NBD_OPT_GO payload; pointers into the payload. */
struct hs_info_req {
	const char *name;
	uint32_t namelen;
	uint16_t nreqs;
	const uint8_t *reqs;	/* nreqs 16-bit info types */
};

/* An NBD_OPT_LIST_META_CONTEXT or SET_META_CONTEXT payload. */
struct hs_meta_req {
	const char *name;
	uint32_t namelen;
	uint32_t nqueries;
	const uint8_t *queries;	/* nqueries (32-bit length, string) */
	size_t querieslen;
};

/* The server's greeting with FIXED_NEWSTYLE and NO_ZEROES. */
size_t hs_greeting(uint8_t out[HS_GREETING_SIZE]);

/* Client flags: 0, or -1 when a bit we do not know is set (the server
 * must then close the connection). */
int hs_parse_client_flags(const uint8_t in[4], uint32_t *flags);

/* An option header: 0, or -1 when the magic is not IHAVEOPT. */
int hs_parse_option(const uint8_t in[HS_OPTION_HDR_SIZE],
    struct hs_option *o);

/* Payload parsers: 0, or -1 when the payload is malformed (lengths that
 * do not add up, a name too long or holding a NUL). */
int hs_parse_info(const uint8_t *p, size_t len, struct hs_info_req *r);
int hs_parse_meta(const uint8_t *p, size_t len, struct hs_meta_req *r);

/* Walks the queries of a parsed meta request: 1 and the next query, or 0
 * at the end. *pos starts at 0. */
int hs_meta_next(const struct hs_meta_req *r, size_t *pos, const char **q,
    uint32_t *qlen);

/* Whether a query selects base:allocation. A LIST query may name the
 * namespace alone ("base:"); a SET query must name the context. */
int hs_meta_matches(const char *q, size_t qlen, int listing);

/* Builders: each writes a whole option reply (header and payload) into
 * out and returns its length, or 0 when cap is too small. */
size_t hs_reply(uint8_t *out, size_t cap, uint32_t opt, uint32_t type,
    const void *payload, size_t plen);
size_t hs_reply_server(uint8_t *out, size_t cap, uint32_t opt,
    const char *name, size_t namelen);
size_t hs_reply_info_export(uint8_t *out, size_t cap, uint32_t opt,
    uint64_t size, uint16_t flags);
size_t hs_reply_info_string(uint8_t *out, size_t cap, uint32_t opt,
    uint16_t type, const char *s, size_t slen);
size_t hs_reply_info_block_size(uint8_t *out, size_t cap, uint32_t opt,
    uint32_t min, uint32_t pref, uint32_t max);
size_t hs_reply_meta_context(uint8_t *out, size_t cap, uint32_t opt,
    uint32_t id, const char *name);

/* The reply to NBD_OPT_EXPORT_NAME: size, flags, and 124 zeroes unless
 * the client asked for NO_ZEROES. */
size_t hs_export_name_reply(uint8_t out[HS_EXPORT_NAME_REPLY], uint64_t size,
    uint16_t flags, int no_zeroes);

/* Names for log lines. */
const char *hs_option_name(uint32_t opt);

#endif
