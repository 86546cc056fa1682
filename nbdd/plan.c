#include <errno.h>
#include <string.h>

#include "nbdd/plan.h"
#include "nbdd/proto.h"

void
plan_request(const struct nbd_request *r, const struct req_export *e,
    struct plan *p)
{
	uint32_t plen;

	memset(p, 0, sizeof(*p));
	p->offset = r->offset;
	p->len = r->len;
	if (r->type == NBD_CMD_DISC) {
		p->action = PLAN_DISC;
		return;
	}
	if ((p->error = req_check(r, e)) != NBD_SUCCESS) {
		/* A payload beyond the maximum we advertise is not read,
		 * whatever it claims to be: doc/proto.md allows a hard
		 * disconnect for it, and reading it would let a client
		 * hold a thread for gigabytes. */
		if ((plen = req_payload_len(r)) > NBDD_MAX_PAYLOAD) {
			p->action = PLAN_DROP;
			p->drop = PLAN_DROP_PAYLOAD_TOO_BIG;
			return;
		}
		p->action = PLAN_ERROR;
		p->discard = plen;
		return;
	}
	/* req_check let through only the flags each command takes. */
	switch (r->type) {
	case NBD_CMD_READ:
		p->action = PLAN_READ;
		break;
	case NBD_CMD_WRITE:
		p->action = PLAN_WRITE;
		p->fua = (r->flags & NBD_CMD_FLAG_FUA) != 0;
		break;
	case NBD_CMD_FLUSH:
		p->action = PLAN_FLUSH;
		break;
	case NBD_CMD_TRIM:
		p->action = PLAN_TRIM;
		p->fua = (r->flags & NBD_CMD_FLAG_FUA) != 0;
		break;
	case NBD_CMD_WRITE_ZEROES:
		p->action = PLAN_ZERO;
		p->fua = (r->flags & NBD_CMD_FLAG_FUA) != 0;
		p->no_hole = (r->flags & NBD_CMD_FLAG_NO_HOLE) != 0;
		p->fast_zero = (r->flags & NBD_CMD_FLAG_FAST_ZERO) != 0;
		break;
	case NBD_CMD_CACHE:
		p->action = PLAN_CACHE;
		break;
	case NBD_CMD_BLOCK_STATUS:
		p->action = PLAN_BLOCK_STATUS;
		p->one_extent = (r->flags & NBD_CMD_FLAG_REQ_ONE) != 0;
		break;
	default:
		/* A command req_check accepts but no plan carries out. */
		p->action = PLAN_ERROR;
		p->error = NBD_EINVAL;
		break;
	}
}

size_t
plan_reply(uint8_t out[PLAN_REPLY_MAX], const struct nbd_request *r,
    const struct req_export *e, uint32_t error, const char *msg)
{
	if (e->structured && error != NBD_SUCCESS)
		return req_error_chunk(out, PLAN_REPLY_MAX, r->handle, error,
		    msg);
	/* Never a simple reply to a READ once structured. */
	if (e->structured && r->type == NBD_CMD_READ)
		return req_chunk(out, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE,
		    r->handle, 0);
	return req_simple_reply(out, error, r->handle);
}

int
plan_failure_logged(const struct nbd_request *r, int host_errno)
{
	if (host_errno == 0)
		return 0;
	return !(r->type == NBD_CMD_WRITE_ZEROES && host_errno == EOPNOTSUPP);
}
