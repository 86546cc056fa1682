/* The transmission phase over an image in Ceph written directly: the
 * connection's thread reads requests as they come and hands each to
 * librbd at once (rbd_aio_*), up to RBDP_INFLIGHT_MAX of them, so one
 * client keeps many requests in flight at the cluster, whose answers take
 * a network round trip each. librbd's threads put each request that
 * completes on the connection's list and, when the list was empty, wake
 * the thread through an eventfd; the thread answers them in the order
 * they complete (each reply carries its request's handle), every reply
 * of a turn in one send, as transmit.c batches them.
 *
 * A request is never answered before librbd says what became of it, and
 * when Ceph refuses a change because this server may not write the image
 * any more (blocklisted, or the lock gone: rbdplan.h), the client gets no
 * answer at all: it is disconnected, so that it reconnects to the server
 * that holds the image now. Buffers a request lends to librbd stay until
 * librbd is done with them, whatever the client does meanwhile.
 *
 * A host's overlay over a snapshot in Ceph (a shared base) is served here
 * too, so that its reads of the base are in flight together: a READ is
 * gathered in parts into one buffer, the blocks the overlay holds read
 * from its file at once, each run of the base's handed to librbd, and it
 * is answered when the last part is done (rbdp_parts). Everything else
 * is the overlay's, carried out at once on this thread as transmit.c
 * does it: WRITE (with its copy-up of partial blocks, a synchronous read
 * of the base), TRIM, WRITE ZEROES, FLUSH, BLOCK_STATUS. A READ takes its
 * sources from the overlay's map when it arrives, and a change marks its
 * blocks there before it is answered, so a READ that arrives after a
 * change was answered (on any connection of the host) never reads the
 * base's bytes for its blocks; one in flight at the base when a later
 * change is answered may return what was there before, as NBD allows of
 * requests in flight together. */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ratelimit.h"
#include "nbdd/conn.h"
#include "nbdd/ctx.h"
#include "nbdd/overlay.h"
#include "nbdd/paybuf.h"
#include "nbdd/plan.h"
#include "nbdd/proto.h"
#include "nbdd/rbdclaim.h"
#include "nbdd/rbdexport.h"
#include "nbdd/rbdplan.h"
#include "nbdd/rbdxmit.h"
#include "nbdd/request.h"
#include "nbdd/sockio.h"
#include "nbdd/transport.h"

/* A small WRITE waits for its payload in the input buffer: the largest,
 * with its header, must fit there, or the connection waits forever. */
#define IN_SIZE		(RBDP_SMALL_MAX + 64 * 1024)
#define OUT_SIZE	(256 * 1024)
#define MAX_EXTENTS	512

_Static_assert(IN_SIZE >= NBD_REQUEST_SIZE + RBDP_SMALL_MAX,
    "a small WRITE fits whole in the input buffer");

struct rxmit;
struct rx_op;

/* A run of the base a READ over an overlay asked librbd for. */
struct rx_part {
	struct rx_op *op;
	uint64_t len;
};

/* One request handed to librbd. */
struct rx_op {
	struct rx_op *next;		/* on the free or the done list */
	struct rxmit *x;
	struct nbd_request r;
	struct plan p;
	rbd_completion_t comp;
	uint8_t *buf;			/* READ: the data; WRITE: the
					 * payload */
	uint8_t hdr[REQ_READ_CHUNK_SIZE];	/* READ: the reply header, kept
					 * apart so that a 256 KiB read
					 * takes a 256 KiB buffer, not the
					 * next power of two */
	size_t budget;			/* its size, when from the budget */
	size_t small;			/* bytes counted as small */
	long rc;
	int flushing;			/* FUA: the flush after the change */
	struct rbdp_parts parts;	/* a READ over an overlay: under
					 * x->lock once a part is issued */
	struct rx_part part0;		/* its first run of the base; more
					 * are allocated */
};

struct rxmit {
	struct conn *c;
	struct req_export re;
	const struct rbd_writer *w;	/* the image, written directly; or */
	struct overlay *ovl;		/* the host's overlay over ... */
	struct rbd_base *base;		/* ... a snapshot in Ceph */
	const struct rbdlib *lib;
	int efd;
	pthread_mutex_t lock;		/* done */
	struct rx_op *done, **done_tail;
	struct rx_op ops[RBDP_INFLIGHT_MAX];
	struct rx_op *free;
	int inflight;
	size_t small;
	uint8_t *in;
	size_t in_start, in_end;
	uint8_t *out;
	size_t out_len;
	int64_t partial_since;		/* a request begun, or -1 */
	int reading;			/* requests are still read */
	int blocked;			/* the next request is whole here but
					 * waits for a slot or buffer space:
					 * the client is not read meanwhile */
	int dropping;			/* no more replies: the client goes */
	int disc;
	struct ratelimit fail_log;	/* failed requests: the cluster gone
					 * fails them all */
};

/* librbd's thread: the request is done. The completion is let go here,
 * while librbd holds it for this call; the wake is sent under the lock,
 * because once the op is on the list the connection may end and free x
 * at any moment after the lock is released. */
static void
queue_done(struct rxmit *x, struct rx_op *op)
{
	uint64_t one = 1;

	op->next = NULL;
	if (x->done == NULL && write(x->efd, &one, sizeof(one)) == -1)
		log_err("%s: waking the connection: %s", x->c->peer,
		    strerror(errno));
	*x->done_tail = op;
	x->done_tail = &op->next;
}

static void
completed(rbd_completion_t comp, void *arg)
{
	struct rx_op *op = arg;
	struct rxmit *x = op->x;

	op->rc = (long)x->lib->rbd_aio_get_return_value(comp);
	x->lib->rbd_aio_release(comp);
	op->comp = NULL;
	pthread_mutex_lock(&x->lock);
	queue_done(x, op);
	pthread_mutex_unlock(&x->lock);
}

/* librbd's thread: a run of the base is read. Only the last part of a
 * READ puts it on the list; the part is let go before, as op may be
 * gone once it is there. */
static void
part_completed(rbd_completion_t comp, void *arg)
{
	struct rx_part *pt = arg;
	struct rx_op *op = pt->op;
	struct rxmit *x = op->x;
	int allocated = pt != &op->part0;
	uint64_t want = pt->len;
	long rc;

	rc = (long)x->lib->rbd_aio_get_return_value(comp);
	x->lib->rbd_aio_release(comp);
	if (allocated)
		free(pt);
	pthread_mutex_lock(&x->lock);
	if (rbdp_parts_done(&op->parts, rc, want)) {
		op->rc = op->parts.rc;
		queue_done(x, op);
	}
	pthread_mutex_unlock(&x->lock);
}

static size_t
avail(const struct rxmit *x)
{
	return x->in_end - x->in_start;
}

static int
flush_out(struct rxmit *x)
{
	if (x->out_len == 0)
		return 0;
	if (tp_write_buffer(&x->c->tp, x->out, x->out_len, 0) == -1) {
		log_info("%s: export %s: sending replies: %s", x->c->peer,
		    x->c->ex.name, tp_strerror(&x->c->tp, errno));
		return -1;
	}
	x->out_len = 0;
	return 0;
}

/* Room for n more bytes of replies, sending what is queued first if it
 * must. NULL when the client is gone. */
static uint8_t *
out_room(struct rxmit *x, size_t n)
{
	if (OUT_SIZE - x->out_len < n && flush_out(x) == -1) {
		x->dropping = 1;
		return NULL;
	}
	return x->out + x->out_len;
}

static void
reply(struct rxmit *x, const struct nbd_request *r, uint32_t err,
    const char *msg)
{
	uint8_t *o;

	if (x->dropping || (o = out_room(x, PLAN_REPLY_MAX)) == NULL)
		return;
	x->out_len += plan_reply(o, r, &x->re, err, msg);
}

static void
reply_error(struct rxmit *x, const struct nbd_request *r, int e)
{
	uint32_t held;

	if (plan_failure_logged(r, e) && ratelimit_take(&x->fail_log,
	    (uint64_t)sock_now_ms(), &held)) {
		if (held > 0)
			log_warn("%s: export %s: %u more requests failed",
			    x->c->peer, x->c->ex.name, held);
		log_warn("%s: export %s: %s of %u bytes at %llu: %s%s",
		    x->c->peer, x->c->ex.name, req_cmd_name(r->type), r->len,
		    (unsigned long long)r->offset, strerror(e),
		    rbdp_failure_cause(e));
	}
	reply(x, r, req_errno(r, e), strerror(e));
}

/* A READ's header and data. */
static void
reply_data(struct rxmit *x, struct rx_op *op)
{
	size_t hdr = plan_read_header_len(&x->re), len = hdr + op->r.len;
	struct iovec iov[2];
	uint8_t *o;

	plan_read_header(op->hdr, &op->r, &x->re);
	if (len <= OUT_SIZE) {
		if ((o = out_room(x, len)) == NULL)
			return;
		memcpy(o, op->hdr, hdr);
		if (op->r.len > 0)
			memcpy(o + hdr, op->buf, op->r.len);
		x->out_len += len;
		return;
	}
	iov[0] = (struct iovec){ .iov_base = op->hdr, .iov_len = hdr };
	iov[1] = (struct iovec){ .iov_base = op->buf, .iov_len = op->r.len };
	if (flush_out(x) == -1 || tp_writev_full(&x->c->tp, iov, 2, 0) ==
	    -1) {
		log_info("%s: export %s: sending: %s", x->c->peer,
		    x->c->ex.name, tp_strerror(&x->c->tp, errno));
		x->dropping = 1;
	}
}

/* --- buffers and slots --------------------------------------------- */

static void
op_free(struct rxmit *x, struct rx_op *op)
{
	if (op->comp != NULL)
		x->lib->rbd_aio_release(op->comp);
	if (op->budget > 0)
		paybuf_give(x->c->ctx->payloads, &x->c->start->host, op->buf,
		    op->budget);
	else
		free(op->buf);
	x->small -= op->small;
	memset(op, 0, sizeof(*op));
	op->next = x->free;
	x->free = op;
	x->inflight--;
}

static void drain(struct rxmit *x);

/* Waits until librbd is done with every request in flight. */
static void
settle(struct rxmit *x)
{
	struct pollfd pfd = { .fd = x->efd, .events = POLLIN };
	uint64_t n;

	for (;;) {
		drain(x);
		if (x->inflight == 0)
			return;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
			log_err("%s: poll: %s", x->c->peer, strerror(errno));
			sleep(1);
		}
		if (read(x->efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
			log_err("%s: eventfd: %s", x->c->peer, strerror(errno));
	}
}

/* A slot for a request with a buffer of len bytes (0: none), or NULL
 * (logged) when the memory cannot be had. A buffer from the budget is
 * waited for only when nothing of ours is in flight: what we hold must
 * never be what we wait for. */
static struct rx_op *
op_new(struct rxmit *x, const struct nbd_request *r, const struct plan *p,
    size_t len)
{
	struct paybufs *pb = x->c->ctx->payloads;
	const struct netaddr *host = &x->c->start->host;
	struct rx_op *op = x->free;

	x->free = op->next;
	x->inflight++;
	memset(op, 0, sizeof(*op));
	op->x = x;
	op->r = *r;
	op->p = *p;
	if (len == 0)
		return op;
	if (len <= RBDP_SMALL_MAX) {
		if ((op->buf = malloc(len)) != NULL) {
			op->small = len;
			x->small += len;
			return op;
		}
	} else if ((op->buf = paybuf_take(pb, host, len, 0,
	    &op->budget)) != NULL) {
		return op;
	} else if (errno == EAGAIN) {
		x->inflight--;		/* this one is not in flight */
		settle(x);
		x->inflight++;
		if (!x->dropping && flush_out(x) == -1)
			x->dropping = 1;
		if ((op->buf = paybuf_take(pb, host, len, 1,
		    &op->budget)) != NULL)
			return op;
	}
	log_err("%s: export %s: no memory for a payload of %zu bytes: %s",
	    x->c->peer, x->c->ex.name, len, strerror(errno));
	op_free(x, op);
	return NULL;
}

/* --- librbd ----------------------------------------------------------- */

static void done_op(struct rxmit *x, struct rx_op *op);

/* One run of the base for a READ over the overlay, handed to librbd. 0,
 * or a negative errno (counted in op->parts already). */
static long
read_base(struct rxmit *x, struct rx_op *op, uint8_t *dst, uint64_t off,
    uint64_t len)
{
	struct rx_part *pt = &op->part0;
	rbd_completion_t comp;
	int rc;

	if (pt->op != NULL && (pt = malloc(sizeof(*pt))) == NULL)
		return -ENOMEM;
	pt->op = op;
	pt->len = len;
	if ((rc = x->lib->rbd_aio_create_completion(pt, part_completed,
	    &comp)) < 0) {
		if (pt != &op->part0)
			free(pt);
		return rc;
	}
	/* Counted before it can finish; the issuer's own part keeps the
	 * count above zero until every part is issued. */
	pthread_mutex_lock(&x->lock);
	rbdp_parts_add(&op->parts);
	pthread_mutex_unlock(&x->lock);
	if ((rc = x->lib->rbd_aio_read(rbdx_base_image(x->base), off, len,
	    (char *)dst, comp)) < 0) {
		x->lib->rbd_aio_release(comp);
		if (pt != &op->part0)
			free(pt);
		pthread_mutex_lock(&x->lock);
		(void)rbdp_parts_done(&op->parts, rc, 0);
		pthread_mutex_unlock(&x->lock);
		return rc;
	}
	return 0;
}

/* A READ over the overlay, gathered in parts: what the overlay holds read
 * now, the base's runs in flight; answered by whichever part ends last. */
static void
submit_parts(struct rxmit *x, struct rx_op *op)
{
	uint64_t pos = op->p.offset, end = pos + op->p.len, stop;
	long rc = 0;
	int present, last;

	rbdp_parts_init(&op->parts);
	while (pos < end && rc == 0) {
		uint8_t *dst = op->buf + (pos - op->p.offset);

		stop = ovl_run(x->ovl, pos, end, &present);
		if (!present)
			rc = read_base(x, op, dst, pos, stop - pos);
		else if (ovl_read_own(x->ovl, dst, stop - pos, pos) == -1)
			rc = -(long)errno;
		pos = stop;
	}
	pthread_mutex_lock(&x->lock);
	if ((last = rbdp_parts_done(&op->parts, rc, 0)))
		op->rc = op->parts.rc;
	pthread_mutex_unlock(&x->lock);
	if (last)
		done_op(x, op);
}

/* Any other command on the overlay: its file, at once, as transmit.c
 * does it. 0, or a negative errno. */
static long
overlay_command(struct rxmit *x, const struct rx_op *op)
{
	const struct plan *p = &op->p;
	int rc;

	switch (p->action) {
	case PLAN_WRITE:
		rc = ovl_write(x->ovl, op->buf, p->len, p->offset, p->fua);
		break;
	case PLAN_FLUSH:
		rc = ovl_flush(x->ovl);
		break;
	case PLAN_TRIM:
		rc = ovl_trim(x->ovl, p->offset, p->len, p->fua);
		break;
	case PLAN_ZERO:
		rc = ovl_zero(x->ovl, p->offset, p->len, p->no_hole,
		    p->fast_zero, p->fua);
		break;
	default:
		errno = EINVAL;	/* one_request lets no other through */
		rc = -1;
		break;
	}
	return rc == -1 ? -(long)errno : 0;
}

/* Hands op to librbd; a call refused at once is done at once. */
static void
submit(struct rxmit *x, struct rx_op *op)
{
	const struct rbdlib *lib = x->lib;
	rbd_image_t img;
	int rc;

	if (x->ovl != NULL) {
		if (op->p.action == PLAN_READ)
			submit_parts(x, op);
		else {
			op->rc = overlay_command(x, op);
			done_op(x, op);
		}
		return;
	}
	img = x->w->image;

	if ((rc = lib->rbd_aio_create_completion(op, completed,
	    &op->comp)) < 0) {
		op->comp = NULL;
		op->rc = rc;
		done_op(x, op);
		return;
	}
	if (op->flushing)
		rc = lib->rbd_aio_flush(img, op->comp);
	else switch (op->p.action) {
	case PLAN_READ:
		rc = lib->rbd_aio_read(img, op->p.offset, op->p.len,
		    (char *)op->buf, op->comp);
		break;
	case PLAN_WRITE:
		rc = lib->rbd_aio_write(img, op->p.offset, op->p.len,
		    (const char *)op->buf, op->comp);
		break;
	case PLAN_FLUSH:
		rc = lib->rbd_aio_flush(img, op->comp);
		break;
	case PLAN_TRIM:
		rc = lib->rbd_aio_discard(img, op->p.offset, op->p.len,
		    op->comp);
		break;
	case PLAN_ZERO:
		rc = lib->rbd_aio_write_zeroes(img, op->p.offset, op->p.len,
		    op->comp, rbdp_zero_how(op->p.no_hole, op->p.fast_zero) ==
		    RBDP_ZERO_THICK ? RBD_WRITE_ZEROES_FLAG_THICK_PROVISION : 0,
		    0);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc < 0) {
		lib->rbd_aio_release(op->comp);
		op->comp = NULL;
		op->rc = rc;
		done_op(x, op);
	}
}

/* What librbd made of op: its reply, the flush FUA wants after it, or the
 * client dropped. */
static void
done_op(struct rxmit *x, struct rx_op *op)
{
	int err;

	if (x->ovl != NULL && op->rc < 0) {
		/* Nothing of the host's is written in Ceph: a base that
		 * cannot be read fails the request, as in transmit.c. */
		(void)rbdx_base_result(x->base, (int)op->rc);
		reply_error(x, &op->r, (int)-op->rc);
		op_free(x, op);
		return;
	}
	switch (rbdp_verdict(op->r.type, op->rc, &err)) {
	case RBDP_CUT_OFF:
		(void)rbdx_result(x->w->cl, x->w->inst, (int)op->rc);
		if (!x->dropping)
			log_warn("%s: export %s: %s of %u bytes at %llu refused "
			    "by Ceph (%s): this server may not write the image "
			    "any more; disconnecting the client, unanswered",
			    x->c->peer, x->c->ex.name, req_cmd_name(op->r.type),
			    op->r.len, (unsigned long long)op->r.offset,
			    strerror((int)-op->rc));
		x->dropping = 1;
		x->reading = 0;
		break;
	case RBDP_ERROR:
		reply_error(x, &op->r, err);
		break;
	case RBDP_OK:
		if (op->p.fua && x->w != NULL && x->w->cached &&
		    !op->flushing) {
			/* Stable before the reply: librbd's cache holds
			 * changes until a flush. */
			op->flushing = 1;
			submit(x, op);
			return;
		}
		if (op->r.type == NBD_CMD_READ)
			reply_data(x, op);
		else
			reply(x, &op->r, NBD_SUCCESS, NULL);
		break;
	}
	op_free(x, op);
}

/* Every request librbd is done with, answered. */
static void
drain(struct rxmit *x)
{
	struct rx_op *op, *next;

	pthread_mutex_lock(&x->lock);
	op = x->done;
	x->done = NULL;
	x->done_tail = &x->done;
	pthread_mutex_unlock(&x->lock);
	for (; op != NULL; op = next) {
		next = op->next;
		done_op(x, op);
	}
}

/* --- BLOCK_STATUS ------------------------------------------------------ */

static int
extent_seen(uint64_t off, size_t len, int exists, void *arg)
{
	return rbdp_extents_add(arg, off, len, exists) == -1 ? -ECANCELED : 0;
}

static void
put_extents(struct rxmit *x, const struct nbd_request *r,
    const struct blk_extent *ext, int n)
{
	uint8_t *o;

	if ((o = out_room(x, REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n)) == NULL)
		return;
	o += req_extents_header(o, r->handle, NBDD_META_ID_ALLOCATION,
	    (uint32_t)n);
	for (int i = 0; i < n; i++)
		o += req_extent(o, ext[i].len, ext[i].flags);
	x->out_len += REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n;
}

/* The overlay's merged view, as transmit.c answers it. */
static void
overlay_block_status(struct rxmit *x, const struct nbd_request *r,
    const struct plan *p)
{
	struct blk_extent ext[MAX_EXTENTS];
	int n;

	if ((n = ovl_extents(x->ovl, p->offset, p->len, ext,
	    p->one_extent ? 1 : MAX_EXTENTS)) == -1) {
		reply_error(x, r, errno);
		return;
	}
	put_extents(x, r, ext, n);
}

/* The image's allocation, from librbd (with fast-diff, whole objects from
 * the object map, at once). Synchronous: rare, and cheap with fast-diff. */
static void
block_status(struct rxmit *x, const struct nbd_request *r,
    const struct plan *p)
{
	struct blk_extent ext[MAX_EXTENTS];
	struct rbdp_extents b;
	uint64_t features;
	int n, rc;

	if (x->ovl != NULL) {
		overlay_block_status(x, r, p);
		return;
	}
	features = x->c->ex.rbd->features;

	rbdp_extents_init(&b, p->offset, p->len, ext, p->one_extent ? 1 :
	    MAX_EXTENTS);
	rc = x->lib->rbd_diff_iterate2(x->w->image, NULL, p->offset, p->len,
	    1, (features & RBD_FEATURE_FAST_DIFF) != 0, extent_seen, &b);
	if (rc < 0 && rc != -ECANCELED) {
		int err;

		if (rbdp_verdict(r->type, rc, &err) == RBDP_CUT_OFF) {
			(void)rbdx_result(x->w->cl, x->w->inst, rc);
			x->dropping = 1;
			x->reading = 0;
			return;
		}
		reply_error(x, r, err);
		return;
	}
	n = rbdp_extents_finish(&b);
	put_extents(x, r, ext, n);
}

/* --- reading requests -------------------------------------------------- */

static int
stall_ms(const struct rxmit *x)
{
	return x->c->ctx->timeout * 1000;
}

/* More of what the client sent, without waiting: 1 when bytes came, 0
 * when none are there yet, -1 when the client is gone or reading ends
 * (logged). */
static int
recv_more(struct rxmit *x)
{
	ssize_t n;

	if (x->in_start > 0 && (x->in_start == x->in_end ||
	    x->in_end == IN_SIZE)) {
		memmove(x->in, x->in + x->in_start, avail(x));
		x->in_end -= x->in_start;
		x->in_start = 0;
	}
	if (x->in_end == IN_SIZE)
		return 0;
	n = tp_recv(&x->c->tp, x->in + x->in_end, IN_SIZE - x->in_end,
	    TP_DONTWAIT);
	if (n > 0) {
		x->in_end += (size_t)n;
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == 0 && avail(x) == 0)
		/* The client is done, or nbdd shuts down (SHUT_RD): what
		 * is in flight is still answered. */
		log_debug("%s: export %s: no more requests, connection "
		    "closed", x->c->peer, x->c->ex.name);
	else
		log_info("%s: export %s: connection lost%s: %s", x->c->peer,
		    x->c->ex.name, avail(x) > 0 ? " in the middle of a "
		    "request (not applied)" : "", n == 0 ?
		    "closed by the client" : tp_strerror(&x->c->tp, errno));
	x->reading = 0;
	return -1;
}

/* A WRITE whose payload is not all in the input buffer, or is long: held
 * whole in a buffer of its own before it goes to librbd, so one cut short
 * writes nothing. */
static void
write_request(struct rxmit *x, const struct nbd_request *r,
    const struct plan *p)
{
	size_t have = avail(x) < p->len ? avail(x) : p->len;
	struct rx_op *op;
	ssize_t n;

	if ((op = op_new(x, r, p, p->len)) == NULL) {
		/* Keep in step: throw the payload away, then answer. */
		x->in_start += have;
		if (tp_discard_idle(&x->c->tp, p->len - have,
		    stall_ms(x)) == -1) {
			x->dropping = 1;
			x->reading = 0;
			return;
		}
		reply(x, r, NBD_ENOMEM, "out of memory");
		return;
	}
	memcpy(op->buf, x->in + x->in_start, have);
	x->in_start += have;
	if (have < p->len && (n = tp_read_idle(&x->c->tp, op->buf + have,
	    p->len - have, stall_ms(x))) != (ssize_t)(p->len - have)) {
		log_info("%s: export %s: WRITE of %u bytes at %llu cut short "
		    "(%s): dropping the client, nothing written", x->c->peer,
		    x->c->ex.name, r->len, (unsigned long long)r->offset,
		    n == 0 || errno == ECONNRESET ? "closed" :
		    errno == ETIMEDOUT ? "stalled" :
		    tp_strerror(&x->c->tp, errno));
		op_free(x, op);
		x->dropping = 1;
		x->reading = 0;
		return;
	}
	submit(x, op);
}

/* Throws away the payload of a refused WRITE, then answers. */
static void
refuse(struct rxmit *x, const struct nbd_request *r, const struct plan *p)
{
	size_t have = avail(x);

	if (have >= p->discard)
		x->in_start += p->discard;
	else {
		x->in_start = x->in_end;
		if (tp_discard_idle(&x->c->tp, p->discard - have,
		    stall_ms(x)) == -1) {
			log_info("%s: export %s: refused WRITE cut short",
			    x->c->peer, x->c->ex.name);
			x->dropping = 1;
			x->reading = 0;
			return;
		}
	}
	reply(x, r, p->error, PLAN_REFUSED_MSG);
}

/* The next request in the input buffer, if it is all there (a long
 * WRITE's header is enough): carried out or handed to librbd. 1 when one
 * was taken, 0 when more of it must come first, -1 when it must wait for
 * librbd (no slot, or too many small bytes in flight) or nothing more is
 * taken. */
static int
one_request(struct rxmit *x)
{
	struct nbd_request r;
	struct plan p;
	struct rx_op *op;
	uint32_t buflen;

	if (avail(x) < NBD_REQUEST_SIZE)
		return 0;
	if (req_parse(x->in + x->in_start, &r) == -1) {
		log_info("%s: export %s: bad request magic: dropping the "
		    "client", x->c->peer, x->c->ex.name);
		x->dropping = 1;
		x->reading = 0;
		return -1;
	}
	plan_request(&r, &x->re, &p);
	buflen = p.action == PLAN_READ || p.action == PLAN_WRITE ? p.len : 0;
	if (!rbdp_may_submit(x->inflight, x->small, buflen))
		return -1;
	/* A short WRITE waits for its payload in the input buffer. */
	if (p.action == PLAN_WRITE && rbdp_write_waits_in_input(p.len,
	    IN_SIZE) && avail(x) < NBD_REQUEST_SIZE + p.len)
		return 0;
	log_trace("%s: %s flags %#x offset %llu length %u: %u", x->c->peer,
	    req_cmd_name(r.type), r.flags, (unsigned long long)r.offset,
	    r.len, p.error);
	x->in_start += NBD_REQUEST_SIZE;
	switch (p.action) {
	case PLAN_DISC:
		x->disc = 1;
		x->reading = 0;
		return -1;
	case PLAN_DROP:
		log_info("%s: export %s: WRITE of %u bytes at %llu, over the "
		    "%u-byte maximum: dropping the client without reading it",
		    x->c->peer, x->c->ex.name, r.len,
		    (unsigned long long)r.offset, NBDD_MAX_PAYLOAD);
		x->dropping = 1;
		x->reading = 0;
		return -1;
	case PLAN_ERROR:
		log_debug("%s: export %s: %s flags %#x offset %llu length %u "
		    "refused with error %u", x->c->peer, x->c->ex.name,
		    req_cmd_name(r.type), r.flags,
		    (unsigned long long)r.offset, r.len, p.error);
		refuse(x, &r, &p);
		return 1;
	case PLAN_CACHE:
		/* Advice only; librbd reads ahead by itself. */
		if (x->ovl != NULL)
			(void)ovl_cache(x->ovl, p.offset, p.len);
		reply(x, &r, NBD_SUCCESS, NULL);
		return 1;
	case PLAN_BLOCK_STATUS:
		block_status(x, &r, &p);
		return 1;
	case PLAN_WRITE:
		write_request(x, &r, &p);
		return 1;
	case PLAN_ZERO:
		if (x->ovl == NULL && rbdp_zero_how(p.no_hole, p.fast_zero) ==
		    RBDP_ZERO_REFUSE) {
			reply_error(x, &r, EOPNOTSUPP);
			return 1;
		}
		break;
	default:
		break;
	}
	if ((op = op_new(x, &r, &p, buflen)) == NULL) {
		reply(x, &r, NBD_ENOMEM, "out of memory");
		return 1;
	}
	submit(x, op);
	return 1;
}

/* Every request that can go now. The client is read only when the next
 * request is not all here: requests it sent before it closed are still
 * taken, and a request waiting for librbd is not one that stalls. */
static void
take_requests(struct rxmit *x)
{
	int r = -1;

	while (x->reading && !x->dropping) {
		if ((r = one_request(x)) == 1) {
			x->partial_since = -1;	/* what follows is new */
			continue;
		}
		if (r == -1 || recv_more(x) != 1)
			break;
	}
	x->blocked = r == -1;
	if (r != 0 || avail(x) == 0 || !x->reading)
		x->partial_since = -1;
	else if (x->partial_since == -1)
		x->partial_since = sock_now_ms();
}

/* Sleeps until librbd finishes something or (when more may be taken) the
 * client sends something, or a request begun stalls too long. */
static void
wait_events(struct rxmit *x)
{
	struct pollfd pfd[2];
	int n = 1, timeout = -1;
	uint64_t cnt;

	pfd[0] = (struct pollfd){ .fd = x->efd, .events = POLLIN };
	if (x->reading && !x->dropping && !x->blocked &&
	    x->in_end - x->in_start < IN_SIZE) {
		pfd[n++] = (struct pollfd){ .fd = x->c->fd, .events = POLLIN };
		if (x->partial_since != -1) {
			int64_t left = x->partial_since + stall_ms(x) -
			    sock_now_ms();

			if (left <= 0) {
				log_info("%s: export %s: client stalled in the "
				    "middle of a request for %d s: dropping "
				    "it, the request not applied", x->c->peer,
				    x->c->ex.name, x->c->ctx->timeout);
				x->dropping = 1;
				x->reading = 0;
				return;
			}
			timeout = (int)left;
		}
	}
	if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR) {
		log_err("%s: poll: %s", x->c->peer, strerror(errno));
		x->dropping = 1;
		x->reading = 0;
		return;
	}
	if ((pfd[0].revents & POLLIN) && read(x->efd, &cnt, sizeof(cnt)) ==
	    -1 && errno != EAGAIN)
		log_err("%s: eventfd: %s", x->c->peer, strerror(errno));
	if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
		(void)recv_more(x);
}

int
rbd_transmit_serves(const struct conn *c)
{
	return c->rbd_claim != NULL || (c->ovl != NULL &&
	    ovl_base_rbd(c->ovl) != NULL);
}

void
rbd_transmit(struct conn *c)
{
	struct rxmit *x;
	int e;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->in = malloc(IN_SIZE)) == NULL ||
	    (x->out = malloc(OUT_SIZE)) == NULL) {
		log_err("%s: out of memory for buffers", c->peer);
		goto out;
	}
	x->c = c;
	x->re = c->caps;
	if (c->rbd_claim != NULL) {
		x->w = rbd_claim_writer(c->rbd_claim);
		x->lib = &x->w->cl->lib;
	} else {
		x->ovl = c->ovl;
		x->base = ovl_base_rbd(c->ovl);
		x->lib = rbdx_base_lib(x->base);
	}
	x->done_tail = &x->done;
	x->partial_since = -1;
	for (int i = RBDP_INFLIGHT_MAX - 1; i >= 0; i--) {
		x->ops[i].next = x->free;
		x->free = &x->ops[i];
	}
	if ((e = pthread_mutex_init(&x->lock, NULL)) != 0) {
		log_err("%s: mutex: %s", c->peer, strerror(e));
		goto out;
	}
	if ((x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_err("%s: eventfd: %s", c->peer, strerror(errno));
		pthread_mutex_destroy(&x->lock);
		goto out;
	}
	x->reading = 1;
	for (;;) {
		drain(x);
		take_requests(x);
		if (!x->dropping && flush_out(x) == -1) {
			x->dropping = 1;
			x->reading = 0;
		}
		/* Once dropping, nothing more is read or answered: only
		 * librbd's answers are waited for. */
		if ((!x->reading || x->dropping) && x->inflight == 0)
			break;
		wait_events(x);
	}
	if (!x->dropping)
		(void)flush_out(x);
	if (x->disc) {
		c->disc = 1;
		log_debug("%s: export %s: client disconnected", c->peer,
		    c->ex.name);
	}
	close(x->efd);
	pthread_mutex_destroy(&x->lock);
out:
	if (x != NULL) {
		free(x->in);
		free(x->out);
	}
	free(x);
}
