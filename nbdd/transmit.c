/* The transmission phase. One thread serves one connection, request by
 * request, but in batches: one recv() takes in as many requests as the
 * client has queued, each is answered into an output buffer (a READ is
 * pread() straight into it after its reply header), and the replies go
 * out together in one send(), with those of any requests that arrived
 * meanwhile: a client with many requests in flight costs a few socket
 * calls per batch, not two per request. Large reads go out with
 * sendfile(), header first with MSG_MORE, so the data is never copied
 * through user space; over TLS (transport.h) they are read straight into
 * the buffer their records are encrypted from. */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "nbdd/backend.h"
#include "nbdd/conn.h"
#include "nbdd/ctx.h"
#include "nbdd/paybuf.h"
#include "nbdd/plan.h"
#include "nbdd/proto.h"
#include "nbdd/request.h"
#include "nbdd/sockio.h"
#include "nbdd/transmit.h"
#include "nbdd/transport.h"

#define IN_SIZE		(256 * 1024)
#define OUT_SIZE	(256 * 1024)
#define SENDFILE_MIN	(64 * 1024)	/* below this, batching wins */
#define MAX_EXTENTS	512
#define FLUSH_REPLIES	8
#define FLUSH_BYTES	(32 * 1024)

struct xmit {
	struct conn *c;
	struct req_export re;
	const struct backend *be;	/* the image, or the host's overlay */
	void *bs;			/* ... and which */
	uint8_t *in;
	size_t in_start, in_end;	/* unparsed bytes */
	uint8_t *out;
	size_t out_len;
	int pending;			/* replies queued in out */
};

static int
flush_out(struct xmit *x, int flags)
{
	if (x->out_len == 0)
		return 0;
	if (tp_write_buffer(&x->c->tp, x->out, x->out_len, flags) == -1) {
		log_info("%s: export %s: sending replies: %s", x->c->peer,
		    x->c->ex.name, tp_strerror(&x->c->tp, errno));
		return -1;
	}
	x->out_len = 0;
	x->pending = 0;
	return 0;
}

/* Room for n more bytes of replies. */
static uint8_t *
out_room(struct xmit *x, size_t n)
{
	if (OUT_SIZE - x->out_len < n && flush_out(x, 0) == -1)
		return NULL;
	return x->out + x->out_len;
}

/* How long a client may fall silent in the middle of a request. */
static int
stall_ms(const struct xmit *x)
{
	return x->c->ctx->timeout * 1000;
}

static int64_t
stall_deadline(struct xmit *x)
{
	return sock_now_ms() + stall_ms(x);
}

/* Reads what the client has sent into the input buffer; in the middle
 * of a request only until the stall deadline. >0, 0 at end of stream, -1
 * (errno; ETIMEDOUT for a stall). */
static ssize_t
recv_some(struct xmit *x)
{
	uint8_t *buf = x->in + x->in_end;
	size_t len = IN_SIZE - x->in_end;

	if (x->in_end > x->in_start)
		return tp_recv_by(&x->c->tp, buf, len, stall_deadline(x));
	return tp_recv(&x->c->tp, buf, len, 0);
}

/* Reads more into the input buffer. want: bytes needed from in_start;
 * 0 when idle between requests (no deadline: a kernel client may be
 * quiet for hours). 0, or -1 when the client is gone or stalled. */
static int
fill(struct xmit *x, size_t want)
{
	ssize_t n;

	if (x->in_start > 0 && (x->in_end == x->in_start ||
	    IN_SIZE - x->in_start < want || x->in_end == IN_SIZE)) {
		memmove(x->in, x->in + x->in_start, x->in_end - x->in_start);
		x->in_end -= x->in_start;
		x->in_start = 0;
	}
	/* Requests that came in while we answered the last ones are
	 * answered in the same send(): fewer, larger segments for the
	 * client to take in. */
	if (x->out_len > 0 && (n = tp_recv(&x->c->tp, x->in + x->in_end,
	    IN_SIZE - x->in_end, TP_DONTWAIT)) > 0) {
		x->in_end += (size_t)n;
		return 0;
	}
	/* Never wait on the client while it waits on our replies. */
	if (flush_out(x, 0) == -1)
		return -1;
	if ((n = recv_some(x)) > 0) {
		x->in_end += (size_t)n;
		return 0;
	}
	if (n == -1 && errno == ETIMEDOUT)
		log_info("%s: export %s: client stalled in the middle of a "
		    "request for %d s: dropping it, the request not applied",
		    x->c->peer, x->c->ex.name, x->c->ctx->timeout);
	else if (n == 0 && x->in_end == x->in_start)
		/* Between requests: the client disconnected, or nbdd is
		 * shutting down and stopped reading (SHUT_RD). */
		log_debug("%s: export %s: no more requests, connection "
		    "closed", x->c->peer, x->c->ex.name);
	else
		log_info("%s: export %s: connection lost%s: %s", x->c->peer,
		    x->c->ex.name, x->in_end > x->in_start ?
		    " in the middle of a request (not applied)" : "",
		    n == 0 ? "closed by the client" :
		    tp_strerror(&x->c->tp, errno));
	return -1;
}

static size_t
avail(const struct xmit *x)
{
	return x->in_end - x->in_start;
}

/* Queues a reply without payload: success, or an error with a message. */
static int
reply(struct xmit *x, const struct nbd_request *r, uint32_t err,
    const char *msg)
{
	uint8_t *o;

	if ((o = out_room(x, PLAN_REPLY_MAX)) == NULL)
		return -1;
	x->out_len += plan_reply(o, r, &x->re, err, msg);
	return 0;
}

static void
log_io_error(struct xmit *x, const struct nbd_request *r, int e)
{
	log_warn("%s: export %s: %s of %u bytes at %llu: %s", x->c->peer,
	    x->c->ex.name, req_cmd_name(r->type), r->len,
	    (unsigned long long)r->offset, strerror(e));
}

/* Queues the reply to what the image made of r: e is 0 or the errno of
 * its failure. */
static int
reply_outcome(struct xmit *x, const struct nbd_request *r, int e)
{
	if (e == 0)
		return reply(x, r, NBD_SUCCESS, NULL);
	if (plan_failure_logged(r, e))
		log_io_error(x, r, e);
	return reply(x, r, req_errno(r, e), strerror(e));
}

/* A buffer from the budget for a payload held whole (paybuf.h), or NULL
 * (logged) when the memory cannot be had. The replies queued go out
 * before it waits its turn: never wait while the client waits on us. */
static uint8_t *
big_buffer(struct xmit *x, size_t len, size_t *size)
{
	struct paybufs *pb = x->c->ctx->payloads;
	const struct netaddr *host = &x->c->start->host;
	uint8_t *buf;

	if ((buf = paybuf_take(pb, host, len, 0, size)) == NULL &&
	    errno == EAGAIN) {
		if (flush_out(x, 0) == -1)
			return NULL;
		buf = paybuf_take(pb, host, len, 1, size);
	}
	if (buf == NULL)
		log_err("%s: export %s: no memory for a payload of %zu bytes: "
		    "%s", x->c->peer, x->c->ex.name, len, strerror(errno));
	return buf;
}

static void
big_buffer_done(struct xmit *x, uint8_t *buf, size_t size)
{
	paybuf_give(x->c->ctx->payloads, &x->c->start->host, buf, size);
}

/* A large read, all of it from one file (use_sendfile): the replies
 * queued and its header, then its data with sendfile() (or, over TLS,
 * read into the buffer its records are encrypted from). Once data is on
 * its way an error can only be a hard disconnect; before, it is
 * answered. */
static int
read_sendfile(struct xmit *x, const struct nbd_request *r)
{
	size_t hdr = plan_read_header_len(&x->re);
	uint32_t run;
	int fd, started;

	if ((fd = x->be->source(x->bs, r->offset, r->len, &run)) == -1)
		return reply_outcome(x, r, errno);
	if (x->out_len + hdr > TP_SEND_FILE_HDR_MAX && flush_out(x,
	    MSG_MORE) == -1)
		return -1;
	plan_read_header(x->out + x->out_len, r, &x->re);
	if (tp_send_file(&x->c->tp, x->out, x->out_len + hdr, fd, r->offset,
	    r->len, &started) == 0) {
		x->out_len = 0;
		x->pending = 0;
		return 0;
	}
	if (!started)
		return reply_outcome(x, r, errno);
	log_warn("%s: export %s: READ of %u bytes at %llu: %s after the reply "
	    "header: dropping the connection", x->c->peer, x->c->ex.name,
	    r->len, (unsigned long long)r->offset, errno == ENODATA ?
	    "end of image" : tp_strerror(&x->c->tp, errno));
	return -1;
}

/* Whether r goes out with sendfile: large, and all of it from one file
 * (a range that mixes an overlay's blocks with the base's is copied
 * rather than sent in many small pieces). */
static int
use_sendfile(struct xmit *x, const struct nbd_request *r)
{
	uint32_t run;

	if (r->len < SENDFILE_MIN)
		return 0;
	return x->be->source(x->bs, r->offset, r->len, &run) != -1 &&
	    run == r->len;
}

static int
do_read(struct xmit *x, const struct nbd_request *r)
{
	size_t hdr = plan_read_header_len(&x->re);
	uint8_t h[REQ_READ_CHUNK_SIZE], *o, *data;
	struct iovec iov[2];
	size_t size;
	int rc;

	if (use_sendfile(x, r))
		return read_sendfile(x, r);
	if (r->len <= OUT_SIZE - hdr) {
		/* Straight into the output buffer, after its header. */
		if ((o = out_room(x, hdr + r->len)) == NULL)
			return -1;
		if (x->be->read(x->bs, o + hdr, r->len, r->offset) == -1)
			return reply_outcome(x, r, errno);
		plan_read_header(o, r, &x->re);
		x->out_len += hdr + r->len;
		return 0;
	}
	if ((data = big_buffer(x, r->len, &size)) == NULL)
		return reply(x, r, NBD_ENOMEM, "out of memory");
	if (x->be->read(x->bs, data, r->len, r->offset) == -1) {
		rc = reply_outcome(x, r, errno);
		big_buffer_done(x, data, size);
		return rc;
	}
	rc = flush_out(x, MSG_MORE);
	iov[0] = (struct iovec){ h, plan_read_header(h, r, &x->re) };
	iov[1] = (struct iovec){ data, r->len };
	if (rc == 0 && (rc = tp_writev_full(&x->c->tp, iov, 2, 0)) == -1)
		log_info("%s: export %s: sending: %s", x->c->peer,
		    x->c->ex.name, tp_strerror(&x->c->tp, errno));
	big_buffer_done(x, data, size);
	return rc;
}

static int
do_block_status(struct xmit *x, const struct nbd_request *r,
    const struct plan *p)
{
	struct blk_extent ext[MAX_EXTENTS];
	int n;
	uint8_t *o;

	if ((n = x->be->extents(x->bs, p->offset, p->len, ext,
	    p->one_extent ? 1 : MAX_EXTENTS)) == -1)
		return reply_outcome(x, r, errno);
	if ((o = out_room(x, REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n)) == NULL)
		return -1;
	o += req_extents_header(o, r->handle, NBDD_META_ID_ALLOCATION,
	    (uint32_t)n);
	for (int i = 0; i < n; i++)
		o += req_extent(o, ext[i].len, ext[i].flags);
	x->out_len += REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n;
	return 0;
}

/* Carries out a plan for a command without payload in either direction,
 * or a WRITE once its payload is at data. */
static int
command(struct xmit *x, const struct nbd_request *r, const struct plan *p,
    const uint8_t *data)
{
	const struct backend *be = x->be;
	int rc;

	switch (p->action) {
	case PLAN_READ:
		return do_read(x, r);
	case PLAN_BLOCK_STATUS:
		return do_block_status(x, r, p);
	case PLAN_WRITE:
		rc = be->write(x->bs, data, p->len, p->offset, p->fua);
		break;
	case PLAN_FLUSH:
		rc = be->flush(x->bs);
		break;
	case PLAN_TRIM:
		rc = be->trim(x->bs, p->offset, p->len, p->fua);
		break;
	case PLAN_ZERO:
		rc = be->zero(x->bs, p->offset, p->len, p->no_hole,
		    p->fast_zero, p->fua);
		break;
	case PLAN_CACHE:
		rc = be->cache(x->bs, p->offset, p->len);
		break;
	default:
		errno = EINVAL;	/* one_request lets no other through */
		rc = -1;
		break;
	}
	return reply_outcome(x, r, rc == -1 ? errno : 0);
}

/* A WRITE whose payload does not fit the input buffer: held whole in a
 * buffer from the budget, then written, so that one cut short writes
 * nothing. Its payload is not read before there is room for it. */
static int
big_write(struct xmit *x, const struct nbd_request *r, const struct plan *p)
{
	size_t have = avail(x), size;
	uint8_t *buf;
	ssize_t n;
	int rc;

	if (flush_out(x, 0) == -1)
		return -1;
	if ((buf = big_buffer(x, p->len, &size)) == NULL) {
		/* Keep in step: throw the payload away, then answer. */
		x->in_start = x->in_end;
		if (tp_discard_idle(&x->c->tp, p->len - have,
		    stall_ms(x)) == -1)
			return -1;
		return reply(x, r, NBD_ENOMEM, "out of memory");
	}
	memcpy(buf, x->in + x->in_start, have);
	x->in_start = x->in_end = 0;
	if ((n = tp_read_idle(&x->c->tp, buf + have, p->len - have,
	    stall_ms(x))) != (ssize_t)(p->len - have)) {
		log_info("%s: export %s: WRITE of %u bytes at %llu cut short "
		    "(%s): dropping the client, nothing written", x->c->peer,
		    x->c->ex.name, r->len, (unsigned long long)r->offset,
		    n == 0 || errno == ECONNRESET ? "closed" :
		    errno == ETIMEDOUT ? "stalled" :
		    tp_strerror(&x->c->tp, errno));
		big_buffer_done(x, buf, size);
		return -1;
	}
	rc = command(x, r, p, buf);
	big_buffer_done(x, buf, size);
	return rc;
}

/* Throws away the payload of a refused WRITE, then answers. */
static int
refuse_write(struct xmit *x, const struct nbd_request *r,
    const struct plan *p)
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
			return -1;
		}
	}
	return reply(x, r, p->error, PLAN_REFUSED_MSG);
}

/* What became of one request. */
enum step {
	STEP_OK,		/* answered (or being answered): go on */
	STEP_DISC,		/* the client said goodbye */
	STEP_DROP,		/* the client is dropped */
};

static enum step
step_of(int rc)
{
	return rc == -1 ? STEP_DROP : STEP_OK;
}

/* One request from the input buffer, carried out as planned. */
static enum step
one_request(struct xmit *x)
{
	struct nbd_request r;
	struct plan p;

	while (avail(x) < NBD_REQUEST_SIZE)
		if (fill(x, NBD_REQUEST_SIZE) == -1)
			return STEP_DROP;
	if (req_parse(x->in + x->in_start, &r) == -1) {
		log_info("%s: export %s: bad request magic: dropping the "
		    "client", x->c->peer, x->c->ex.name);
		return STEP_DROP;
	}
	plan_request(&r, &x->re, &p);
	log_trace("%s: %s flags %#x offset %llu length %u: %u", x->c->peer,
	    req_cmd_name(r.type), r.flags, (unsigned long long)r.offset,
	    r.len, p.error);
	if (p.error != NBD_SUCCESS)
		log_debug("%s: export %s: %s flags %#x offset %llu length %u "
		    "refused with error %u", x->c->peer, x->c->ex.name,
		    req_cmd_name(r.type), r.flags,
		    (unsigned long long)r.offset, r.len, p.error);
	switch (p.action) {
	case PLAN_DISC:
		x->in_start += NBD_REQUEST_SIZE;
		return STEP_DISC;
	case PLAN_DROP:
		log_info("%s: export %s: WRITE of %u bytes at %llu, over the "
		    "%u-byte maximum: dropping the client without reading it",
		    x->c->peer, x->c->ex.name, r.len,
		    (unsigned long long)r.offset, NBDD_MAX_PAYLOAD);
		return STEP_DROP;
	case PLAN_ERROR:
		x->in_start += NBD_REQUEST_SIZE;
		if (p.discard > 0)
			return step_of(refuse_write(x, &r, &p));
		return step_of(reply(x, &r, p.error, PLAN_REFUSED_MSG));
	case PLAN_WRITE:
		break;
	default:
		x->in_start += NBD_REQUEST_SIZE;
		return step_of(command(x, &r, &p, NULL));
	}
	if (p.len > IN_SIZE - NBD_REQUEST_SIZE) {
		x->in_start += NBD_REQUEST_SIZE;
		return step_of(big_write(x, &r, &p));
	}
	/* Header and payload together in the input buffer, then written
	 * from there: no copy. */
	while (avail(x) < NBD_REQUEST_SIZE + p.len)
		if (fill(x, NBD_REQUEST_SIZE + p.len) == -1)
			return STEP_DROP;
	x->in_start += NBD_REQUEST_SIZE + p.len;
	return step_of(command(x, &r, &p, x->in + x->in_start - p.len));
}

void
transmit(struct conn *c)
{
	struct xmit x;
	enum step step;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.re = c->caps;
	if (c->ovl != NULL) {
		x.be = &backend_overlay;
		x.bs = c->ovl;
	} else {
		x.be = &backend_image;
		x.bs = &c->ex;
	}
	if ((x.in = malloc(IN_SIZE)) == NULL ||
	    (x.out = malloc(OUT_SIZE)) == NULL) {
		log_err("%s: out of memory for buffers", c->peer);
		goto out;
	}
	while ((step = one_request(&x)) == STEP_OK) {
		/* Send every few replies rather than all at the end of a
		 * batch: the client then works on its completions while we
		 * work on the rest, the two cores in parallel. */
		if (++x.pending >= FLUSH_REPLIES || x.out_len >= FLUSH_BYTES) {
			if (flush_out(&x, 0) == -1)
				break;
		}
	}
	if (step == STEP_DISC) {
		c->disc = 1;
		(void)flush_out(&x, 0);
		log_debug("%s: export %s: client disconnected", c->peer,
		    c->ex.name);
	}
out:
	free(x.in);
	free(x.out);
}
