/* layer: pure */
/* The transmission phase's decisions: what to do with one request
 * (answer it with an error, read, write, flush, ... or hang up), and the
 * shape of its reply for each outcome. No sockets, no files: transmit.c
 * asks for a plan, carries it out with blockops.c, and sends the reply
 * built here. */
#ifndef NBDD_PLAN_H
#define NBDD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nbdd/request.h"

enum plan_action {
	PLAN_ERROR,		/* answer with error now (after discarding
				 * the payload, if any) */
	PLAN_READ,		/* read len at offset, send it */
	PLAN_WRITE,		/* len payload bytes follow: write them */
	PLAN_FLUSH,
	PLAN_TRIM,
	PLAN_ZERO,
	PLAN_CACHE,
	PLAN_BLOCK_STATUS,
	PLAN_DROP,		/* hang up without reading on */
	PLAN_DISC,		/* the client is done */
};

/* Why a client is dropped, for the log line. */
enum plan_drop {
	PLAN_DROP_NONE,
	PLAN_DROP_PAYLOAD_TOO_BIG,	/* a WRITE claiming more than
					 * NBDD_MAX_PAYLOAD: not read */
};

struct plan {
	enum plan_action action;
	uint32_t error;		/* the NBD error the request earned, for
				 * PLAN_ERROR and PLAN_DROP */
	uint32_t discard;	/* PLAN_ERROR: payload bytes to throw away
				 * first, to stay in step */
	uint64_t offset;
	uint32_t len;
	int fua;		/* WRITE, TRIM, ZERO: stable before the reply */
	int no_hole;		/* ZERO: keep the range allocated */
	int fast_zero;		/* ZERO: fail rather than write zeroes */
	int one_extent;		/* BLOCK_STATUS: REQ_ONE */
	enum plan_drop drop;
};

/* What to do with request r on an export with capabilities e. */
void plan_request(const struct nbd_request *r, const struct req_export *e,
    struct plan *p);

/* The message sent with an error for a request refused by its plan. */
#define PLAN_REFUSED_MSG	"invalid request"

/* The longest reply plan_reply() builds: an error chunk with the first
 * 128 bytes of its message. */
#define PLAN_REPLY_MAX		(REQ_CHUNK_SIZE + 6 + 128)

/* The reply to r carrying no data: success (error 0) for a command whose
 * success has no payload, or an error with a message. Once structured
 * replies are negotiated an error is an error chunk, and a READ never
 * gets a simple reply. Returns the length written. */
size_t plan_reply(uint8_t out[PLAN_REPLY_MAX], const struct nbd_request *r,
    const struct req_export *e, uint32_t error, const char *msg);

/* The header that goes before a successful READ's data, and its length.
 * (Inline: every READ asks.) */
static inline size_t
plan_read_header(uint8_t out[REQ_READ_CHUNK_SIZE], const struct nbd_request *r,
    const struct req_export *e)
{
	if (e->structured)
		return req_read_chunk(out, r->handle, r->offset, r->len);
	return req_simple_reply(out, 0, r->handle);
}

static inline size_t
plan_read_header_len(const struct req_export *e)
{
	return e->structured ? REQ_READ_CHUNK_SIZE : REQ_SIMPLE_SIZE;
}

/* Whether a failure of r with host_errno is worth a log line: FAST_ZERO's
 * "cannot do it fast" is an answer the client asked for, not a failure. */
int plan_failure_logged(const struct nbd_request *r, int host_errno);

#endif
