#include <errno.h>

#include "nbdd/proto.h"
#include "nbdd/rbdplan.h"

int
rbdp_may_submit(int n, size_t small, uint32_t len)
{
	if (n == 0)
		return 1;
	if (n >= RBDP_INFLIGHT_MAX)
		return 0;
	if (len <= RBDP_SMALL_MAX && small + len > RBDP_SMALL_BYTES_MAX)
		return 0;
	return 1;
}

int
rbdp_write_waits_in_input(uint32_t len, size_t in_size)
{
	return len <= RBDP_SMALL_MAX && in_size >= NBD_REQUEST_SIZE &&
	    len <= in_size - NBD_REQUEST_SIZE;
}

enum rbdp_zero
rbdp_zero_how(int no_hole, int fast)
{
	if (!no_hole)
		return RBDP_ZERO_DISCARD;
	/* Allocating means writing: what FAST_ZERO asks us not to do. */
	return fast ? RBDP_ZERO_REFUSE : RBDP_ZERO_THICK;
}

enum rbdp_verdict
rbdp_verdict(uint16_t type, long rc, int *err)
{
	*err = 0;
	if (rc >= 0)
		return RBDP_OK;
	/* Blocklisted: nothing of this server's reaches the image now. */
	if (rc == -ESHUTDOWN)
		return RBDP_CUT_OFF;
	/* A change refused for want of the lock: another server took it. */
	if (rc == -EROFS && type != NBD_CMD_READ &&
	    type != NBD_CMD_BLOCK_STATUS)
		return RBDP_CUT_OFF;
	*err = (int)-rc;
	return RBDP_ERROR;
}

const char *
rbdp_failure_cause(int err)
{
	switch (err) {
	case ETIMEDOUT:
		/* rados_osd_op_timeout ran out: the OSDs are gone, or the
		 * network to them. */
		return " (the Ceph cluster did not answer in time: are its "
		    "OSDs up and reachable?)";
	case ENOTCONN:
	case ECONNREFUSED:
		return " (no connection to the Ceph cluster)";
	default:
		return "";
	}
}

void
rbdp_parts_init(struct rbdp_parts *p)
{
	p->pending = 1;		/* the issuer's own */
	p->rc = 0;
}

void
rbdp_parts_add(struct rbdp_parts *p)
{
	p->pending++;
}

int
rbdp_parts_done(struct rbdp_parts *p, long rc, uint64_t want)
{
	/* A short read of a snapshot is past its end: never zeroes sent
	 * as if they were its bytes. */
	if (rc >= 0 && (uint64_t)rc < want)
		rc = -EIO;
	if (rc < 0 && p->rc == 0)
		p->rc = rc;
	return --p->pending == 0;
}

void
rbdp_extents_init(struct rbdp_extents *b, uint64_t off, uint32_t len,
    struct blk_extent *out, int max)
{
	b->pos = off;
	b->end = off + len;
	b->n = 0;
	b->max = max;
	b->full = 0;
	b->out = out;
}

/* [b->pos, stop) of the kind flags, merged with the last extent when it
 * is of the same kind. -1 when it does not fit. */
static int
put(struct rbdp_extents *b, uint64_t stop, uint32_t flags)
{
	if (stop <= b->pos)
		return 0;
	if (b->n > 0 && b->out[b->n - 1].flags == flags) {
		b->out[b->n - 1].len += (uint32_t)(stop - b->pos);
	} else {
		if (b->n == b->max) {
			b->full = 1;
			return -1;
		}
		b->out[b->n++] = (struct blk_extent){
		    (uint32_t)(stop - b->pos), flags };
	}
	b->pos = stop;
	return 0;
}

int
rbdp_extents_add(struct rbdp_extents *b, uint64_t off, uint64_t len,
    int exists)
{
	uint64_t stop = off + len;

	/* Only data counts; what lies between is a hole. Extents behind
	 * what was answered (librbd reports whole objects) are clipped. */
	if (!exists || stop <= b->pos || off >= b->end)
		return 0;
	if (stop > b->end)
		stop = b->end;
	if (off > b->pos && put(b, off, NBD_STATE_HOLE | NBD_STATE_ZERO) ==
	    -1)
		return -1;
	if (put(b, stop, 0) == -1)
		return -1;
	return b->pos == b->end ? -1 : 0;
}

int
rbdp_extents_finish(struct rbdp_extents *b)
{
	/* Once full, what is past the last extent is not known: a hole
	 * merged into the last one would hide data. */
	if (b->pos < b->end && !b->full)
		(void)put(b, b->end, NBD_STATE_HOLE | NBD_STATE_ZERO);
	if (b->n == 0) {
		/* Nothing at all: the range is one hole, or (len 0) an
		 * empty answer is still one extent. */
		b->out[0] = (struct blk_extent){ (uint32_t)(b->end - b->pos),
		    NBD_STATE_HOLE | NBD_STATE_ZERO };
		b->n = 1;
	}
	return b->n;
}
