/* The transmission phase. One thread serves one connection, request by
 * request, but in batches: one recv() takes in as many requests as the
 * client has queued, each is answered into an output buffer (a READ is
 * pread() straight into it after its reply header), and the replies go
 * out together in one send(), with those of any requests that arrived
 * meanwhile: a client with many requests in flight costs a few socket
 * calls per batch, not two per request. Large reads go out with
 * sendfile(), header first with MSG_MORE, so the data is never copied
 * through user space. */
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "nbdd/blockops.h"
#include "nbdd/conn.h"
#include "nbdd/proto.h"
#include "nbdd/request.h"
#include "nbdd/sockio.h"

#define IN_SIZE		(256 * 1024)
#define OUT_SIZE	(256 * 1024)
#define SENDFILE_MIN	(64 * 1024)	/* below this, batching wins */
#define MAX_EXTENTS	512
#define FLUSH_REPLIES	8
#define FLUSH_BYTES	(32 * 1024)

struct xmit {
	struct conn *c;
	struct req_export re;
	uint8_t *in;
	size_t in_start, in_end;	/* unparsed bytes */
	uint8_t *out;
	size_t out_len;
	uint8_t *big;			/* for payloads beyond IN_SIZE */
	size_t big_cap;
	int pending;			/* replies queued in out */
};

static int
flush_out(struct xmit *x, int flags)
{
	if (x->out_len == 0)
		return 0;
	if (sock_write_full(x->c->fd, x->out, x->out_len, flags) == -1) {
		log_info("%s: export %s: sending replies: %s", x->c->peer,
		    x->c->ex.name, strerror(errno));
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
	ssize_t n;

	if (x->in_end > x->in_start) {
		int w = sock_wait(x->c->fd, stall_deadline(x));
		if (w <= 0) {
			errno = w == 0 ? ETIMEDOUT : errno;
			return -1;
		}
	}
	while ((n = recv(x->c->fd, buf, len, 0)) == -1 && errno == EINTR)
		;
	return n;
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
	if (x->out_len > 0 && (n = recv(x->c->fd, x->in + x->in_end,
	    IN_SIZE - x->in_end, MSG_DONTWAIT)) > 0) {
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
		    n == 0 ? "closed by the client" : strerror(errno));
	return -1;
}

static size_t
avail(const struct xmit *x)
{
	return x->in_end - x->in_start;
}

/* Queues a reply without payload: simple, or a structured error chunk. */
static int
reply(struct xmit *x, const struct nbd_request *r, uint32_t err,
    const char *msg)
{
	uint8_t *o;

	if (x->re.structured && err != 0) {
		if ((o = out_room(x, REQ_CHUNK_SIZE + 6 + 128)) == NULL)
			return -1;
		x->out_len += req_error_chunk(o, REQ_CHUNK_SIZE + 6 + 128,
		    r->handle, err, msg);
		return 0;
	}
	if (x->re.structured && r->type == NBD_CMD_READ) {
		/* Never a simple reply to a READ once structured. */
		if ((o = out_room(x, REQ_CHUNK_SIZE)) == NULL)
			return -1;
		x->out_len += req_chunk(o, NBD_REPLY_FLAG_DONE,
		    NBD_REPLY_TYPE_NONE, r->handle, 0);
		return 0;
	}
	if ((o = out_room(x, REQ_SIMPLE_SIZE)) == NULL)
		return -1;
	x->out_len += req_simple_reply(o, err, r->handle);
	return 0;
}

static void
log_io_error(struct xmit *x, const struct nbd_request *r, int e)
{
	log_warn("%s: export %s: %s of %u bytes at %llu: %s", x->c->peer,
	    x->c->ex.name, req_cmd_name(r->type), r->len,
	    (unsigned long long)r->offset, strerror(e));
}

static uint8_t *
big_buffer(struct xmit *x, size_t len)
{
	if (x->big_cap < len) {
		free(x->big);
		x->big_cap = 0;
		if ((x->big = malloc(len)) == NULL) {
			log_err("%s: out of memory for %zu bytes", x->c->peer,
			    len);
			return NULL;
		}
		x->big_cap = len;
	}
	return x->big;
}

static size_t
read_header(struct xmit *x, const struct nbd_request *r, uint8_t *o)
{
	if (x->re.structured)
		return req_read_chunk(o, r->handle, r->offset, r->len);
	return req_simple_reply(o, 0, r->handle);
}

/* A large read: header (with queued replies) then sendfile. Once the
 * header is out an error can only be a hard disconnect. */
static int
read_sendfile(struct xmit *x, const struct nbd_request *r)
{
	off_t off = (off_t)r->offset;
	size_t left = r->len;
	uint8_t *o;
	ssize_t n;

	if ((o = out_room(x, REQ_READ_CHUNK_SIZE)) == NULL)
		return -1;
	x->out_len += read_header(x, r, o);
	if (flush_out(x, MSG_MORE) == -1)
		return -1;
	while (left > 0) {
		n = sendfile(x->c->fd, x->c->ex.fd, &off, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("%s: export %s: READ of %u bytes at %llu: %s "
			    "after the reply header: dropping the connection",
			    x->c->peer, x->c->ex.name, r->len,
			    (unsigned long long)r->offset,
			    n == 0 ? "end of image" : strerror(errno));
			return -1;
		}
		left -= (size_t)n;
	}
	return 0;
}

static int
do_read(struct xmit *x, const struct nbd_request *r)
{
	size_t hdr = x->re.structured ? REQ_READ_CHUNK_SIZE : REQ_SIMPLE_SIZE;
	uint8_t h[REQ_READ_CHUNK_SIZE], *o, *data;
	struct iovec iov[2];
	int e;

	if (r->len >= SENDFILE_MIN)
		return read_sendfile(x, r);
	if (r->len <= OUT_SIZE - hdr) {
		/* Straight into the output buffer, after its header. */
		if ((o = out_room(x, hdr + r->len)) == NULL)
			return -1;
		if ((e = blk_read(&x->c->ex, o + hdr, r->len,
		    r->offset)) != 0) {
			log_io_error(x, r, e);
			return reply(x, r, req_errno(r, e), strerror(e));
		}
		read_header(x, r, o);
		x->out_len += hdr + r->len;
		return 0;
	}
	if ((data = big_buffer(x, r->len)) == NULL)
		return reply(x, r, NBD_ENOMEM, "out of memory");
	if ((e = blk_read(&x->c->ex, data, r->len, r->offset)) != 0) {
		log_io_error(x, r, e);
		return reply(x, r, req_errno(r, e), strerror(e));
	}
	if (flush_out(x, MSG_MORE) == -1)
		return -1;
	iov[0] = (struct iovec){ h, read_header(x, r, h) };
	iov[1] = (struct iovec){ data, r->len };
	if (sock_writev_full(x->c->fd, iov, 2, 0) == -1) {
		log_info("%s: export %s: sending: %s", x->c->peer,
		    x->c->ex.name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
do_block_status(struct xmit *x, const struct nbd_request *r)
{
	struct blk_extent ext[MAX_EXTENTS];
	int max = (r->flags & NBD_CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS;
	int n, e;
	uint8_t *o;

	if ((n = blk_extents(&x->c->ex, r->offset, r->len, ext, max)) == -1) {
		e = errno;
		log_io_error(x, r, e);
		return reply(x, r, req_errno(r, e), strerror(e));
	}
	if ((o = out_room(x, REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n)) == NULL)
		return -1;
	o += req_extents_header(o, r->handle, NBDD_META_ID_ALLOCATION,
	    (uint32_t)n);
	for (int i = 0; i < n; i++)
		o += req_extent(o, ext[i].len, ext[i].flags);
	x->out_len += REQ_EXTENTS_HDR_SIZE + 8 * (size_t)n;
	return 0;
}

/* Commands without payload in either direction, and WRITE once its
 * payload is at data. */
static int
command(struct xmit *x, const struct nbd_request *r, const uint8_t *data)
{
	const struct export *ex = &x->c->ex;
	int fua = (r->flags & NBD_CMD_FLAG_FUA) != 0;
	int e;

	switch (r->type) {
	case NBD_CMD_READ:
		return do_read(x, r);
	case NBD_CMD_BLOCK_STATUS:
		return do_block_status(x, r);
	case NBD_CMD_WRITE:
		e = blk_write(ex, data, r->len, r->offset, fua);
		break;
	case NBD_CMD_FLUSH:
		e = blk_flush(ex);
		break;
	case NBD_CMD_TRIM:
		e = blk_trim(ex, r->offset, r->len, fua);
		break;
	case NBD_CMD_WRITE_ZEROES:
		e = blk_zero(ex, r->offset, r->len,
		    (r->flags & NBD_CMD_FLAG_NO_HOLE) != 0,
		    (r->flags & NBD_CMD_FLAG_FAST_ZERO) != 0, fua);
		break;
	case NBD_CMD_CACHE:
		e = blk_cache(ex, r->offset, r->len);
		break;
	default:
		e = EINVAL;	/* req_check lets no other through */
		break;
	}
	/* FAST_ZERO's "cannot do it fast" is an answer, not a failure. */
	if (e != 0 && !(r->type == NBD_CMD_WRITE_ZEROES && e == EOPNOTSUPP))
		log_io_error(x, r, e);
	return reply(x, r, req_errno(r, e), e ? strerror(e) : NULL);
}

/* A WRITE whose payload does not fit the input buffer. */
static int
big_write(struct xmit *x, const struct nbd_request *r)
{
	size_t have = avail(x);
	uint8_t *buf;

	if ((buf = big_buffer(x, r->len)) == NULL) {
		/* Keep in step: throw the payload away, then answer. */
		x->in_start = x->in_end;
		if (sock_discard_idle(x->c->fd, r->len - have,
		    stall_ms(x)) == -1)
			return -1;
		return reply(x, r, NBD_ENOMEM, "out of memory");
	}
	memcpy(buf, x->in + x->in_start, have);
	x->in_start = x->in_end = 0;
	if (flush_out(x, 0) == -1)
		return -1;
	if (sock_read_idle(x->c->fd, buf + have, r->len - have,
	    stall_ms(x)) == -1) {
		log_info("%s: export %s: WRITE of %u bytes at %llu cut short "
		    "(%s): dropping the client, nothing written", x->c->peer,
		    x->c->ex.name, r->len, (unsigned long long)r->offset,
		    errno == ETIMEDOUT ? "stalled" : errno ? strerror(errno) :
		    "closed");
		return -1;
	}
	return command(x, r, buf);
}

/* Throws away the payload of a refused WRITE, then answers. */
static int
refuse_write(struct xmit *x, const struct nbd_request *r, uint32_t err)
{
	size_t have = avail(x);

	if (have >= r->len)
		x->in_start += r->len;
	else {
		x->in_start = x->in_end;
		if (sock_discard_idle(x->c->fd, r->len - have,
		    stall_ms(x)) == -1) {
			log_info("%s: export %s: refused WRITE cut short",
			    x->c->peer, x->c->ex.name);
			return -1;
		}
	}
	return reply(x, r, err, "invalid request");
}

/* One request from the input buffer: 1 to go on, 0 for DISC, -1 to drop
 * the client. */
static int
one_request(struct xmit *x)
{
	struct nbd_request r;
	uint32_t err, plen;

	while (avail(x) < NBD_REQUEST_SIZE)
		if (fill(x, NBD_REQUEST_SIZE) == -1)
			return -1;
	if (req_parse(x->in + x->in_start, &r) == -1) {
		log_info("%s: export %s: bad request magic: dropping the "
		    "client", x->c->peer, x->c->ex.name);
		return -1;
	}
	err = req_check(&r, &x->re);
	plen = req_payload_len(&r);
	log_trace("%s: %s flags %#x offset %llu length %u: %u", x->c->peer,
	    req_cmd_name(r.type), r.flags, (unsigned long long)r.offset,
	    r.len, err);
	if (r.type == NBD_CMD_DISC) {
		x->in_start += NBD_REQUEST_SIZE;
		return 0;
	}
	if (err != NBD_SUCCESS) {
		log_debug("%s: export %s: %s flags %#x offset %llu length %u "
		    "refused with error %u", x->c->peer, x->c->ex.name,
		    req_cmd_name(r.type), r.flags,
		    (unsigned long long)r.offset, r.len, err);
		x->in_start += NBD_REQUEST_SIZE;
		/* A payload beyond the maximum we advertise is not read,
		 * whatever it claims to be: doc/proto.md allows a hard
		 * disconnect for it, and reading it would let a client
		 * hold this thread for gigabytes. */
		if (plen > NBDD_MAX_PAYLOAD) {
			log_info("%s: export %s: WRITE of %u bytes at %llu, "
			    "over the %u-byte maximum: dropping the client "
			    "without reading it", x->c->peer, x->c->ex.name,
			    r.len, (unsigned long long)r.offset,
			    NBDD_MAX_PAYLOAD);
			return -1;
		}
		if (plen > 0)
			return refuse_write(x, &r, err) == -1 ? -1 : 1;
		return reply(x, &r, err, "invalid request") == -1 ? -1 : 1;
	}
	if (plen == 0) {
		x->in_start += NBD_REQUEST_SIZE;
		return command(x, &r, NULL) == -1 ? -1 : 1;
	}
	if (plen > IN_SIZE - NBD_REQUEST_SIZE) {
		x->in_start += NBD_REQUEST_SIZE;
		return big_write(x, &r) == -1 ? -1 : 1;
	}
	/* Header and payload together in the input buffer, then written
	 * from there: no copy. */
	while (avail(x) < NBD_REQUEST_SIZE + plen)
		if (fill(x, NBD_REQUEST_SIZE + plen) == -1)
			return -1;
	x->in_start += NBD_REQUEST_SIZE + plen;
	return command(x, &r, x->in + x->in_start - plen) == -1 ? -1 : 1;
}

void
transmit(struct conn *c)
{
	struct xmit x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.re.size = c->ex.size;
	x.re.read_only = c->ex.read_only;
	x.re.structured = c->structured;
	x.re.meta_allocation = c->meta;
	if ((x.in = malloc(IN_SIZE)) == NULL ||
	    (x.out = malloc(OUT_SIZE)) == NULL) {
		log_err("%s: out of memory for buffers", c->peer);
		goto out;
	}
	while ((rc = one_request(&x)) == 1) {
		/* Send every few replies rather than all at the end of a
		 * batch: the client then works on its completions while we
		 * work on the rest, the two cores in parallel. */
		if (++x.pending >= FLUSH_REPLIES || x.out_len >= FLUSH_BYTES) {
			if (flush_out(&x, 0) == -1)
				break;
		}
	}
	if (rc == 0) {
		(void)flush_out(&x, 0);
		log_debug("%s: export %s: client disconnected", c->peer,
		    c->ex.name);
	}
out:
	free(x.in);
	free(x.out);
	free(x.big);
}
