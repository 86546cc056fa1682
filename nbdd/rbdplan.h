/* layer: pure */
/* The decisions of the transmission phase over an image in Ceph
 * (rbdxmit.c): how a command becomes librbd calls, what librbd's answer
 * makes of a request, how its allocation becomes BLOCK_STATUS extents, and
 * how much one connection keeps in flight. Pure: numbers in, decisions
 * out. */
#ifndef NBDD_RBDPLAN_H
#define NBDD_RBDPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nbdd/extent.h"

/* Requests one connection hands to librbd at once, and the bytes of their
 * buffers that are not from the payload budget (paybuf.h), which holds
 * those larger than RBDP_SMALL_MAX. */
#define RBDP_INFLIGHT_MAX	128
#define RBDP_SMALL_MAX		(256u * 1024)
#define RBDP_SMALL_BYTES_MAX	(8u * 1024 * 1024)

/* Whether one more request of len buffer bytes may go to librbd now,
 * with n requests and small bytes of small buffers in flight; one is
 * always allowed when nothing is. */
int rbdp_may_submit(int n, size_t small, uint32_t len);

/* Whether a WRITE of len bytes waits for its payload in a connection's
 * input buffer of in_size bytes (a small one whose request and payload
 * fit there together), rather than being read into a buffer of its own:
 * one that cannot fit would wait for ever. */
int rbdp_write_waits_in_input(uint32_t len, size_t in_size);

/* WRITE ZEROES: how. */
enum rbdp_zero {
	RBDP_ZERO_DISCARD,	/* rbd_aio_write_zeroes: a hole, fast */
	RBDP_ZERO_THICK,	/* ... with THICK_PROVISION: allocated */
	RBDP_ZERO_REFUSE,	/* FAST_ZERO with NO_HOLE: EOPNOTSUPP */
};
enum rbdp_zero rbdp_zero_how(int no_hole, int fast);

/* What librbd's result (rc: >= 0, or a negative errno) makes of a
 * request of type (NBD_CMD_*). */
enum rbdp_verdict {
	RBDP_OK,		/* answered with success */
	RBDP_ERROR,		/* answered with the error in *err */
	RBDP_CUT_OFF,		/* the server may not write the image any
				 * more (blocklisted, or its lock taken): no
				 * answer, the client is disconnected, so
				 * that nothing Ceph refused is ever
				 * acknowledged and the client goes to the
				 * server that holds the image now */
};
enum rbdp_verdict rbdp_verdict(uint16_t type, long rc, int *err);

/* What a request's failure with err (an errno from librbd) says about the
 * cluster, for the log line: "" when nothing more than strerror(err). */
const char *rbdp_failure_cause(int err);

/* A READ over a host's overlay on a base in Ceph is gathered in parts:
 * the blocks the overlay holds read from its file, each run of the
 * base's read by librbd, all at once, into the one reply buffer. The
 * reply may go only when every part is done, with the first failure if
 * any. The one who issues the parts holds a part of its own until all
 * are issued, so that the last to finish is known whatever the order.
 * Not thread-safe: the caller serialises the calls. */
struct rbdp_parts {
	int pending;
	long rc;		/* 0, or the first failure (negative errno) */
};
void rbdp_parts_init(struct rbdp_parts *p);
/* One more part in flight. */
void rbdp_parts_add(struct rbdp_parts *p);
/* A part of want bytes finished with rc (bytes done, or a negative
 * errno; fewer bytes than wanted is -EIO). 1 when it was the last: the
 * request is done, its result in p->rc. */
int rbdp_parts_done(struct rbdp_parts *p, long rc, uint64_t want);

/* BLOCK_STATUS from librbd's allocation (rbd_diff_iterate2 with no
 * snapshot: it reports each extent with data), as extents covering
 * [off, off + len) from off, holes (NBD_STATE_HOLE | NBD_STATE_ZERO)
 * between. */
struct rbdp_extents {
	uint64_t pos, end;
	int n, max;
	int full;			/* an extent did not fit */
	struct blk_extent *out;
};
void rbdp_extents_init(struct rbdp_extents *b, uint64_t off, uint32_t len,
    struct blk_extent *out, int max);
/* One extent librbd reported (exists: data there). 0 to go on, -1 when
 * out is full (stop iterating: what is there is an answer). */
int rbdp_extents_add(struct rbdp_extents *b, uint64_t off, uint64_t len,
    int exists);
/* The hole to the end, unless an extent did not fit (the answer then
 * ends where the last one does); returns how many extents (at least
 * 1). */
int rbdp_extents_finish(struct rbdp_extents *b);

#endif
