/* The transmission driver over an image in Ceph (rbdxmit.c), claimed
 * through rbdclaim.c, against a fake librbd (the struct rbdlib table)
 * whose asynchronous calls complete on a thread of their own, in an
 * order of its choosing, over an image in memory; the client is the test,
 * on the other end of a socketpair. Many requests in flight and each
 * answered once, with the bytes written; a FUA write answered only after
 * a flush that followed it; requests sent before the client closed all
 * answered; DISC after everything in flight is answered; librbd's errors
 * as NBD errors; and a change Ceph refuses because the server was cut
 * off never answered: the client is dropped instead. And a host's
 * overlay over a snapshot: its reads of the base at librbd together, the
 * blocks it wrote never read from the base once the write is answered. */
#include <sys/socket.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/byteorder.h"
#include "common/log.h"
#include "nbdd/conn.h"
#include "nbdd/ctx.h"
#include "nbdd/overlay.h"
#include "nbdd/proto.h"
#include "nbdd/rbdexport.h"
#include "nbdd/rbdplan.h"
#include "nbdd/rbdxmit.h"
#include "tests/unit/check_main.h"
#include "tests/unit/rbdfake.h"

#define SIZE	(48u << 20)

/* --- the server side ------------------------------------------------- */

static struct rbd_cluster cl;
static struct rbdc_instance *inst;
static struct paybufs pb;
static struct nbdd_ctx ctx;
static struct conn_start start;
static struct conn c;
static pthread_t server;
static int sv[2];

static void *
serve(void *arg)
{
	(void)arg;
	rbd_transmit(&c);
	/* As conn_serve's caller: the socket goes. */
	close(sv[0]);
	return NULL;
}

static void
setup(void)
{
	struct rbd_export *rx;
	char why[512];

	log_init("rbdxmit-test", 0, -1);
	rbdfake_init("pi", "pi2");
	/* BLOCK_STATUS: data in the first MiB once it holds any. */
	rbdfake.object_size = 1u << 20;
	rbdfake.size = SIZE;
	ck_assert_ptr_nonnull(rbdfake.bytes = calloc(1, SIZE));
	rbdfake_start_worker(7);
	rbdfake_cluster(&cl);
	strlcpy(cl.arg.id, "admin", sizeof(cl.arg.id));
	ck_assert_ptr_nonnull(inst = calloc(1, sizeof(*inst)));
	inst->refs = 1;			/* the cluster's own, while current */
	/* As rados_getaddrs writes it: the lockers' list does not. */
	strlcpy(inst->who, "client.4100 at v2:127.0.0.1:0/1",
	    sizeof(inst->who));
	cl.cur = inst;
	cl.attempts = 1;

	memset(&ctx, 0, sizeof(ctx));
	ctx.timeout = 5;
	ctx.rbd = &cl;
	ck_assert_int_eq(rbd_claims_init(&ctx.rbd_claims), 0);
	ck_assert_int_eq(paybufs_init(&pb, 64u << 20), 0);
	ctx.payloads = &pb;

	memset(&c, 0, sizeof(c));
	c.ctx = &ctx;
	start.host.family = AF_INET;
	c.start = &start;
	strlcpy(c.host, "10.0.0.5", sizeof(c.host));
	strlcpy(c.peer, "10.0.0.5:1000", sizeof(c.peer));
	c.ex.fd = -1;
	strlcpy(c.ex.name, "pi", sizeof(c.ex.name));
	ck_assert_ptr_null(rbd_target_parse("rbd:pis/pi", 10,
	    &c.ex.rbd_target));
	c.ex.size = SIZE;
	ck_assert_ptr_nonnull(rx = calloc(1, sizeof(*rx)));
	rx->cl = &cl;
	rx->t = c.ex.rbd_target;
	rbd_target_str(&rx->t, rx->str, sizeof(rx->str));
	c.ex.rbd = rx;
	c.caps = (struct req_export){ .size = SIZE };
	c.rbd_claim = rbd_claim_take(&ctx.rbd_claims, &c.ex, c.host, why,
	    sizeof(why));
	ck_assert_msg(c.rbd_claim != NULL, "%s", why);
	ck_assert_int_eq(rbdfake.image[0].locked, 1);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	c.fd = sv[0];
	tp_init(&c.tp, sv[0]);
}

static void
start_server(void)
{
	ck_assert_int_eq(pthread_create(&server, NULL, serve, NULL), 0);
}

static void
teardown(void)
{
	close(sv[1]);
	rbd_claim_release(&ctx.rbd_claims, c.rbd_claim);
	free(c.ex.rbd);
	rbdfake_destroy();
	rbdfake_cluster_destroy(&cl);
	rbd_claims_destroy(&ctx.rbd_claims);
	paybufs_destroy(&pb);
}

/* --- the client side ------------------------------------------------- */

static void
send_all(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(sv[1], p, len, MSG_NOSIGNAL);

		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void
request(uint16_t type, uint16_t flags, uint64_t handle, uint64_t off,
    uint32_t len, const void *payload)
{
	uint8_t h[NBD_REQUEST_SIZE];

	put32(h, NBD_REQUEST_MAGIC);
	put16(h + 4, flags);
	put16(h + 6, type);
	put64(h + 8, handle);
	put64(h + 16, off);
	put32(h + 24, len);
	send_all(h, sizeof(h));
	if (payload != NULL)
		send_all(payload, len);
}

/* len bytes, or -1 at the end of the stream. Fails the test after 20 s
 * of silence: nothing may hang. */
static int
recv_all(void *buf, size_t len)
{
	uint8_t *p = buf;
	struct pollfd pfd = { .fd = sv[1], .events = POLLIN };

	while (len > 0) {
		ssize_t n;

		ck_assert_msg(poll(&pfd, 1, 20000) == 1, "no reply in 20 s");
		if ((n = recv(sv[1], p, len, 0)) == 0)
			return -1;
		ck_assert_msg(n > 0, "recv: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A simple reply's header: 0 (handle and error set), or -1 at the end. */
static int
reply(uint64_t *handle, uint32_t *err)
{
	uint8_t h[NBD_SIMPLE_REPLY_SIZE];

	if (recv_all(h, sizeof(h)) == -1)
		return -1;
	ck_assert_uint_eq(get32(h), NBD_SIMPLE_REPLY_MAGIC);
	*err = get32(h + 4);
	*handle = get64(h + 8);
	return 0;
}

static void
finish(void)
{
	pthread_join(server, NULL);
}

/* --- tests ------------------------------------------------------------- */

#define NREQ	300

/* Writes of every size class, all sent before any reply is read (a
 * thread of their own, since the server stops reading while it waits on
 * librbd), then reads of the same ranges the same way: each answered
 * once, the bytes as written, many at the cluster at once. */
struct batch {
	int type;
	uint64_t off[NREQ];
	uint32_t len[NREQ];
	uint8_t *data;		/* what was written, by offset */
	int close_after;	/* SHUT_WR once all is sent */
	int disc_after;		/* NBD_CMD_DISC once all is sent */
};

static uint32_t
size_of(int i)
{
	/* Small, just over the small bound, and large (the budget's). */
	return i % 10 == 3 ? RBDP_SMALL_MAX + 4096 : i % 10 == 7 ? 1u << 20 :
	    4096u * (1 + (uint32_t)i % 4);
}

static void *
sender(void *arg)
{
	struct batch *b = arg;

	for (int i = 0; i < NREQ; i++)
		request((uint16_t)b->type, 0, (uint64_t)i, b->off[i], b->len[i],
		    b->type == NBD_CMD_WRITE ? b->data + b->off[i] : NULL);
	if (b->disc_after)
		request(NBD_CMD_DISC, 0, 999999, 0, 0, NULL);
	if (b->close_after)
		shutdown(sv[1], SHUT_WR);
	return NULL;
}

static void
layout(struct batch *b, uint8_t *data)
{
	uint64_t off = 0;

	for (int i = 0; i < NREQ; i++) {
		b->off[i] = off;
		b->len[i] = size_of(i);
		off += b->len[i];
	}
	ck_assert_uint_le(off, SIZE);
	b->data = data;
}

/* Sends the batch and checks every reply; returns the largest number of
 * calls librbd had at once. */
static int
run_batch(struct batch *b, int hold_ms)
{
	static uint8_t buf[1u << 20];
	char seen[NREQ] = { 0 };
	pthread_t t;
	uint64_t handle;
	uint32_t err;

	if (hold_ms > 0) {
		pthread_mutex_lock(&rbdfake.lock);
		rbdfake.held = 1;
		pthread_mutex_unlock(&rbdfake.lock);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, sender, b), 0);
	if (hold_ms > 0) {
		/* Until several are at librbd, however slow the machine. */
		for (int ms = 0; ms < 10000 && (ms < hold_ms ||
		    __atomic_load_n(&rbdfake.inflight, __ATOMIC_RELAXED) < 2);
		    ms++)
			usleep(1000);
		pthread_mutex_lock(&rbdfake.lock);
		rbdfake.held = 0;
		pthread_cond_broadcast(&rbdfake.cond);
		pthread_mutex_unlock(&rbdfake.lock);
	}
	for (int n = 0; n < NREQ; n++) {
		ck_assert_int_eq(reply(&handle, &err), 0);
		ck_assert_uint_lt(handle, NREQ);
		ck_assert_msg(!seen[handle], "handle %llu answered twice",
		    (unsigned long long)handle);
		seen[handle] = 1;
		ck_assert_uint_eq(err, 0);
		if (b->type == NBD_CMD_READ) {
			ck_assert_int_eq(recv_all(buf, b->len[handle]), 0);
			ck_assert_msg(memcmp(buf, b->data + b->off[handle],
			    b->len[handle]) == 0, "read %llu: bytes differ",
			    (unsigned long long)handle);
		}
	}
	pthread_join(t, NULL);
	return rbdfake.max_inflight;
}

START_TEST(many_in_flight)
{
	struct batch w = { .type = NBD_CMD_WRITE };
	struct batch r = { .type = NBD_CMD_READ, .close_after = 1 };
	uint8_t *data = malloc(SIZE);
	unsigned s = 1;
	uint64_t handle;
	uint32_t err;
	int most;

	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)rand_r(&s);
	start_server();
	layout(&w, data);
	most = run_batch(&w, 100);
	ck_assert_msg(most > 1 && most <= RBDP_INFLIGHT_MAX, "at most %d in "
	    "flight", most);
	ck_assert_int_eq(rbdfake.writes, NREQ);
	ck_assert_int_eq(memcmp(rbdfake.bytes, data, w.off[NREQ - 1] +
	    w.len[NREQ - 1]), 0);
	layout(&r, data);
	(void)run_batch(&r, 0);
	/* Closed by the client: nothing more, and the server ends. */
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	ck_assert_int_eq(rbdfake.inflight, 0);
	free(data);
}
END_TEST

/* WRITEs of every length around the largest one kept in the input
 * buffer: one whose request and payload would not fit there together is
 * read into a buffer of its own, never waited for in the input buffer (a
 * WRITE of 256 KiB, as nbdcopy sends, once stalled its connection for
 * ever). */
START_TEST(writes_around_the_input_buffer)
{
	static const uint32_t lens[] = { 128u << 10, (256u << 10) - 28,
	    (256u << 10) - 27, 256u << 10, (256u << 10) + 4096, 1u << 20,
	    256u << 10 };
	uint8_t *data = malloc(SIZE);
	uint64_t handle, off = 0;
	uint32_t err;
	unsigned s = 7;

	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)rand_r(&s);
	start_server();
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		request(NBD_CMD_WRITE, 0, i, off, lens[i], data + off);
		ck_assert_int_eq(reply(&handle, &err), 0);
		ck_assert_uint_eq(handle, i);
		ck_assert_uint_eq(err, 0);
		off += lens[i];
	}
	ck_assert_int_eq(memcmp(rbdfake.bytes, data, off), 0);
	shutdown(sv[1], SHUT_WR);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	free(data);
}
END_TEST

/* A WRITE of the largest size kept in the input buffer (nbdcopy's
 * 256 KiB), at an offset in it where the previous request left off:
 * carried out, never waited on forever. */
START_TEST(largest_small_write)
{
	static uint8_t data[RBDP_SMALL_MAX], back[RBDP_SMALL_MAX];
	uint8_t small[4096];
	uint64_t handle;
	uint32_t err;

	memset(data, 0xC3, sizeof(data));
	memset(small, 0x11, sizeof(small));
	start_server();
	request(NBD_CMD_WRITE, 0, 1, 0, sizeof(small), small);
	request(NBD_CMD_WRITE, 0, 2, 65536, sizeof(data), data);
	request(NBD_CMD_WRITE, 0, 3, 65536 + sizeof(data), sizeof(data), data);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(reply(&handle, &err), 0);
		ck_assert_uint_eq(err, 0);
	}
	request(NBD_CMD_READ, 0, 4, 65536, sizeof(back), NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, 0);
	ck_assert_int_eq(recv_all(back, sizeof(back)), 0);
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
	request(NBD_CMD_DISC, 0, 99, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
}
END_TEST

/* Requests sent before the client closed its side are all carried out
 * and answered, though they wait for librbd's slots meanwhile. */
START_TEST(closed_after_sending)
{
	struct batch w = { .type = NBD_CMD_WRITE, .close_after = 1 };
	uint8_t *data = malloc(SIZE);
	uint64_t handle;
	uint32_t err;

	memset(data, 0x5a, SIZE);
	start_server();
	layout(&w, data);
	(void)run_batch(&w, 300);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	ck_assert_int_eq(rbdfake.writes, NREQ);
	free(data);
}
END_TEST

/* READs wait for room for their buffers (the bound on small bytes in
 * flight) while the client has sent them all and closed its side: every
 * one is still answered, the close noticed only after them. */
START_TEST(closed_with_reads_waiting)
{
	static uint8_t buf[RBDP_SMALL_MAX];
	const int n = 150;	/* n * RBDP_SMALL_MAX within SIZE */
	char seen[200] = { 0 };
	uint64_t handle;
	uint32_t err;

	for (size_t i = 0; i < SIZE; i += 4096)
		rbdfake.bytes[i] = (uint8_t)(i >> 12);
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.held = 1;
	pthread_mutex_unlock(&rbdfake.lock);
	start_server();
	for (int i = 0; i < n; i++)
		request(NBD_CMD_READ, 0, (uint64_t)i, (uint64_t)i *
		    RBDP_SMALL_MAX, RBDP_SMALL_MAX - 64, NULL);
	shutdown(sv[1], SHUT_WR);
	usleep(200 * 1000);
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.held = 0;
	pthread_cond_broadcast(&rbdfake.cond);
	pthread_mutex_unlock(&rbdfake.lock);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(reply(&handle, &err), 0);
		ck_assert_uint_lt(handle, (uint64_t)n);
		ck_assert(!seen[handle]);
		seen[handle] = 1;
		ck_assert_uint_eq(err, 0);
		ck_assert_int_eq(recv_all(buf, RBDP_SMALL_MAX - 64), 0);
		ck_assert_int_eq(memcmp(buf,
		    rbdfake.bytes + handle * RBDP_SMALL_MAX,
		    RBDP_SMALL_MAX - 64), 0);
	}
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	/* They waited: never more small bytes at librbd than the bound. */
	ck_assert_int_le(rbdfake.max_inflight, (int)(RBDP_SMALL_BYTES_MAX /
	    (RBDP_SMALL_MAX - 64)));
}
END_TEST

/* DISC: what is in flight is answered first, then the server ends. */
START_TEST(disc_after_sending)
{
	struct batch w = { .type = NBD_CMD_WRITE, .disc_after = 1 };
	uint8_t *data = malloc(SIZE);
	uint64_t handle;
	uint32_t err;

	memset(data, 0x33, SIZE);
	start_server();
	layout(&w, data);
	(void)run_batch(&w, 200);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	ck_assert_int_eq(c.disc, 1);
	ck_assert_int_eq(rbdfake.writes, NREQ);
	free(data);
}
END_TEST

/* FUA: the reply comes after a flush that came after the write. */
START_TEST(fua_flushes)
{
	uint8_t data[4096];
	uint64_t handle;
	uint32_t err;

	memset(data, 1, sizeof(data));
	start_server();
	request(NBD_CMD_WRITE, 0, 1, 0, sizeof(data), data);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_int_eq(rbdfake.flushes, 0);
	request(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 2, 8192, sizeof(data), data);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(handle, 2);
	ck_assert_uint_eq(err, 0);
	ck_assert_int_eq(rbdfake.flushes, 1);
	ck_assert_int_gt(rbdfake.last_flush_seq, rbdfake.last_write_seq);
	request(NBD_CMD_FLUSH, 0, 3, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_int_eq(rbdfake.flushes, 2);
	/* TRIM and WRITE ZEROES reach librbd as such. */
	request(NBD_CMD_TRIM, 0, 4, 0, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, 0);
	ck_assert_uint_eq(rbdfake.bytes[0], 0);
	request(NBD_CMD_WRITE_ZEROES, 0, 5, 8192, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, 0);
	ck_assert_uint_eq(rbdfake.bytes[8192], 0);
	/* A range past the end never reaches librbd. */
	request(NBD_CMD_READ, 0, 6, SIZE, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, NBD_EINVAL);
	request(NBD_CMD_DISC, 0, 7, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
}
END_TEST

/* librbd's errors are the requests' errors. */
START_TEST(errors_answered)
{
	uint8_t data[4096] = { 0 };
	uint64_t handle;
	uint32_t err;

	start_server();
	rbdfake.read_rc = -EIO;
	request(NBD_CMD_READ, 0, 1, 0, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, NBD_EIO);
	rbdfake.write_rc = -ENOSPC;
	request(NBD_CMD_WRITE, 0, 2, 0, sizeof(data), data);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, NBD_ENOSPC);
	/* The connection goes on. */
	rbdfake.read_rc = 0;
	request(NBD_CMD_READ, 0, 3, 0, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, 0);
	ck_assert_int_eq(recv_all(data, 4096), 0);
	request(NBD_CMD_DISC, 0, 4, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
}
END_TEST

/* Blocklisted (ESHUTDOWN), or the lock gone to another server (EROFS
 * on a change): never answered, the client dropped, the cluster told. */
START_TEST(cut_off_never_answered)
{
	static const int rcs[] = { -ESHUTDOWN, -EROFS };

	for (size_t k = 0; k < sizeof(rcs) / sizeof(rcs[0]); k++) {
		uint8_t data[4096] = { 0 };
		uint64_t handle;
		uint32_t err;

		if (k > 0) {
			/* A fresh connection for the second case. */
			ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM |
			    SOCK_CLOEXEC, 0, sv), 0);
			c.fd = sv[0];
			tp_init(&c.tp, sv[0]);
		}
		rbdfake.write_rc = rcs[k];
		start_server();
		request(NBD_CMD_WRITE, 0, 1, 0, sizeof(data), data);
		ck_assert_int_eq(reply(&handle, &err), -1);
		finish();
		if (k == 0)
			close(sv[1]);
	}
	/* ESHUTDOWN told the cluster: a new instance is to be made. */
	ck_assert_ptr_null(cl.cur);
	rbdfake.write_rc = 0;
}
END_TEST

/* Structured replies: READ's data chunk, BLOCK_STATUS from librbd's
 * allocation, an error chunk. */
static void
chunk(uint64_t handle, uint16_t type, uint32_t len)
{
	uint8_t h[NBD_STRUCTURED_HDR_SIZE];

	ck_assert_int_eq(recv_all(h, sizeof(h)), 0);
	ck_assert_uint_eq(get32(h), NBD_STRUCTURED_REPLY_MAGIC);
	ck_assert_uint_eq(get16(h + 4), NBD_REPLY_FLAG_DONE);
	ck_assert_uint_eq(get16(h + 6), type);
	ck_assert_uint_eq(get64(h + 8), handle);
	if (len != 0)
		ck_assert_uint_eq(get32(h + 16), len);
}

START_TEST(structured)
{
	static uint8_t buf[4096 + 8];
	uint8_t ext[4 + 16];
	uint8_t hdr[NBD_STRUCTURED_HDR_SIZE], e[6];

	c.caps.structured = 1;
	c.caps.meta_allocation = 1;
	memset(rbdfake.bytes, 0x77, 4096);
	start_server();
	request(NBD_CMD_READ, 0, 1, 0, 4096, NULL);
	chunk(1, NBD_REPLY_TYPE_OFFSET_DATA, 8 + 4096);
	ck_assert_int_eq(recv_all(buf, sizeof(buf)), 0);
	ck_assert_uint_eq(get64(buf), 0);
	ck_assert_uint_eq(buf[8], 0x77);
	ck_assert_uint_eq(buf[8 + 4095], 0x77);
	/* Data in the first MiB, a hole after it. */
	request(NBD_CMD_BLOCK_STATUS, 0, 2, 0, 2u << 20, NULL);
	chunk(2, NBD_REPLY_TYPE_BLOCK_STATUS, 4 + 16);
	ck_assert_int_eq(recv_all(ext, sizeof(ext)), 0);
	ck_assert_uint_eq(get32(ext), NBDD_META_ID_ALLOCATION);
	ck_assert_uint_eq(get32(ext + 4), 1u << 20);
	ck_assert_uint_eq(get32(ext + 8), 0);
	ck_assert_uint_eq(get32(ext + 12), 1u << 20);
	ck_assert_uint_eq(get32(ext + 16), NBD_STATE_HOLE | NBD_STATE_ZERO);
	/* REQ_ONE: the first only. */
	request(NBD_CMD_BLOCK_STATUS, NBD_CMD_FLAG_REQ_ONE, 3, 0, 2u << 20,
	    NULL);
	chunk(3, NBD_REPLY_TYPE_BLOCK_STATUS, 4 + 8);
	ck_assert_int_eq(recv_all(ext, 12), 0);
	ck_assert_uint_eq(get32(ext + 4), 1u << 20);
	/* A failed READ is an error chunk. */
	rbdfake.read_rc = -EIO;
	request(NBD_CMD_READ, 0, 4, 0, 4096, NULL);
	ck_assert_int_eq(recv_all(hdr, sizeof(hdr)), 0);
	ck_assert_uint_eq(get16(hdr + 6), NBD_REPLY_TYPE_ERROR);
	ck_assert_uint_eq(get64(hdr + 8), 4);
	ck_assert_uint_ge(get32(hdr + 16), 6);
	ck_assert_int_eq(recv_all(e, sizeof(e)), 0);
	ck_assert_uint_eq(get32(e), NBD_EIO);
	{
		uint8_t msg[256];
		uint32_t left = get32(hdr + 16) - 6;

		ck_assert_uint_le(left, sizeof(msg));
		ck_assert_int_eq(recv_all(msg, left), 0);
	}
	rbdfake.read_rc = 0;
	request(NBD_CMD_DISC, 0, 5, 0, 0, NULL);
	ck_assert_int_eq(recv_all(hdr, 1), -1);
	finish();
}
END_TEST

/* One writer across servers: another host of this server is refused
 * naming the holder without asking Ceph; a host of another server (a
 * second claims registry over the same cluster) is refused by Ceph's
 * lock, naming the holder as the holder recorded it; once released, the
 * other server gets it. */
START_TEST(one_writer_across_servers)
{
	struct rbd_claims other;
	struct rbd_claim *o;
	char why[1024], host[256];

	ck_assert_ptr_nonnull(strstr(rbdfake.holder,
	    "10.0.0.5 through nbdd on "));
	ck_assert_ptr_null(rbd_claim_take(&ctx.rbd_claims, &c.ex, "10.0.0.7",
	    why, sizeof(why)));
	ck_assert_str_eq(why, "image pi is in use by 10.0.0.5 (one writer "
	    "per image)");
	ck_assert_int_eq(rbd_claims_init(&other), 0);
	ck_assert_ptr_null(rbd_claim_take(&other, &c.ex, "10.0.0.9", why,
	    sizeof(why)));
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	ck_assert_msg(strstr(why, "image pi is in use by 10.0.0.5 through nbdd "
	    "on ") != NULL && strstr(why, host) != NULL &&
	    strstr(why, "another server") != NULL, "%s", why);
	/* Its image handle was closed again: only the holder's is open. */
	ck_assert_int_eq(rbdfake.opens, 1);
	rbd_claim_release(&ctx.rbd_claims, c.rbd_claim);
	c.rbd_claim = NULL;
	ck_assert_int_eq(rbdfake.image[0].locked, 0);
	ck_assert_str_eq(rbdfake.holder, "");
	ck_assert_ptr_nonnull(o = rbd_claim_take(&other, &c.ex, "10.0.0.9",
	    why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(rbdfake.holder, "10.0.0.9 through nbdd"));
	rbd_claim_release(&other, o);
	rbd_claims_destroy(&other);
	ck_assert_int_eq(rbdfake.opens, 0);
}
END_TEST

/* The cluster may take its time to let go of a lock: meanwhile claims of
 * other images go ahead, and a claim of the same image from this server
 * waits for the outcome rather than being refused on our own behalf. */
static void *
release_pi(void *arg)
{
	(void)arg;
	rbd_claim_release(&ctx.rbd_claims, c.rbd_claim);
	return NULL;
}

static struct rbd_claim *retaken;
static int retake_done;

static void *
retake_pi(void *arg)
{
	char why[512];

	(void)arg;
	retaken = rbd_claim_take(&ctx.rbd_claims, &c.ex, "10.0.0.7", why,
	    sizeof(why));
	__atomic_store_n(&retake_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(slow_release_blocks_no_other_image)
{
	struct export ex2 = { .fd = -1 };
	struct rbd_export *rx2 = calloc(1, sizeof(*rx2));
	struct rbd_claim *c2;
	pthread_t rel, re;
	char why[512];

	ck_assert_ptr_nonnull(rx2);
	strlcpy(ex2.name, "pi2", sizeof(ex2.name));
	ck_assert_ptr_null(rbd_target_parse("rbd:pis/pi2", 11,
	    &ex2.rbd_target));
	rx2->cl = &cl;
	rx2->t = ex2.rbd_target;
	rbd_target_str(&rx2->t, rx2->str, sizeof(rx2->str));
	ex2.rbd = rx2;
	rbdfake.gate_closed = 1;
	ck_assert_int_eq(pthread_create(&rel, NULL, release_pi, NULL), 0);
	pthread_mutex_lock(&rbdfake.lock);
	while (!rbdfake.unlocking)
		pthread_cond_wait(&rbdfake.cond, &rbdfake.lock);
	pthread_mutex_unlock(&rbdfake.lock);
	/* pi is being let go of, slowly: pi2 is claimed meanwhile. */
	c2 = rbd_claim_take(&ctx.rbd_claims, &ex2, "10.0.0.8", why,
	    sizeof(why));
	ck_assert_msg(c2 != NULL, "%s", why);
	ck_assert_int_eq(rbdfake.image[1].locked, 1);
	ck_assert_int_eq(rbdfake.image[0].locked, 1);
	/* pi again from this server: waits for the release, then has it. */
	ck_assert_int_eq(pthread_create(&re, NULL, retake_pi, NULL), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(__atomic_load_n(&retake_done, __ATOMIC_ACQUIRE), 0);
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.gate_closed = 0;
	pthread_cond_broadcast(&rbdfake.cond);
	pthread_mutex_unlock(&rbdfake.lock);
	pthread_join(rel, NULL);
	pthread_join(re, NULL);
	ck_assert_ptr_nonnull(retaken);
	ck_assert_int_eq(rbdfake.image[0].locked, 1);
	ck_assert_ptr_nonnull(strstr(rbdfake.holder, "10.0.0.7"));
	c.rbd_claim = retaken;
	rbd_claim_release(&ctx.rbd_claims, c2);
	ck_assert_int_eq(rbdfake.image[1].locked, 0);
	free(rx2);
}
END_TEST

/* --- a host's overlay over a snapshot in Ceph (a shared base) --------- */

static struct ovl_registry reg;
static char ovl_dir[] = "/tmp/nbdd-rbdxmit-XXXXXX";

/* As a connection to a shared base in Ceph: no claim, the host's overlay,
 * reads of the base at librbd together. */
static void
setup_overlay(void)
{
	struct ovl_limits lim = { 0 };
	char why[512];

	setup();
	rbd_claim_release(&ctx.rbd_claims, c.rbd_claim);
	c.rbd_claim = NULL;
	c.ex.rbd->inst = inst;
	c.ex.read_only = 1;
	ck_assert_ptr_nonnull(mkdtemp(ovl_dir));
	ck_assert_msg(ovl_registry_init(&reg, ovl_dir, &lim, NULL, why,
	    sizeof(why)) == 0, "%s", why);
	ctx.overlays = &reg;
	c.ovl = ovl_get(&reg, &c.ex, c.host, NULL, why, sizeof(why));
	ck_assert_msg(c.ovl != NULL, "%s", why);
	ck_assert(rbd_transmit_serves(&c));
	for (size_t i = 0; i < SIZE; i++)
		rbdfake.bytes[i] = (uint8_t)(i * 7 + i / 4096);
}

static void
teardown_overlay(void)
{
	ovl_put(&reg, c.ovl);
	c.ovl = NULL;
	ovl_registry_destroy(&reg);
	ck_assert_int_eq(rmdir(ovl_dir), 0);
	memcpy(ovl_dir + strlen(ovl_dir) - 6, "XXXXXX", 6);
	teardown();
	ck_assert_int_eq(rbdfake.opens, 0);
}

static void
hold(int on)
{
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.held = on;
	pthread_cond_broadcast(&rbdfake.cond);
	pthread_mutex_unlock(&rbdfake.lock);
}

/* Until n calls are at librbd; fails after 10 s. */
static void
wait_inflight(int n)
{
	for (int ms = 0; ms < 10000; ms++) {
		if (__atomic_load_n(&rbdfake.inflight, __ATOMIC_RELAXED) >= n)
			return;
		usleep(1000);
	}
	ck_abort_msg("%d of %d reads at librbd after 10 s", rbdfake.inflight,
	    n);
}

static void
expect_read(uint64_t want_handle, const uint8_t *want, uint32_t len)
{
	static uint8_t buf[1u << 20];
	uint64_t handle;
	uint32_t err;

	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(handle, want_handle);
	ck_assert_uint_eq(err, 0);
	ck_assert_int_eq(recv_all(buf, len), 0);
	ck_assert_msg(memcmp(buf, want, len) == 0, "READ %llu: bytes differ",
	    (unsigned long long)handle);
}

static void
expect_ok(uint64_t want_handle)
{
	uint64_t handle;
	uint32_t err;

	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(handle, want_handle);
	ck_assert_uint_eq(err, 0);
}

#define OVL_READS	32

/* A client's reads of blocks it never wrote are at Ceph all at once, not
 * one after the other; each answered with the base's bytes. */
START_TEST(overlay_base_reads_in_flight)
{
	char seen[OVL_READS] = { 0 };
	uint8_t buf[4096];
	uint64_t handle;
	uint32_t err;

	start_server();
	hold(1);
	for (int i = 0; i < OVL_READS; i++)
		request(NBD_CMD_READ, 0, (uint64_t)i, (uint64_t)i * 65536,
		    4096, NULL);
	wait_inflight(OVL_READS);
	hold(0);
	for (int n = 0; n < OVL_READS; n++) {
		ck_assert_int_eq(reply(&handle, &err), 0);
		ck_assert_uint_lt(handle, OVL_READS);
		ck_assert(!seen[handle]);
		seen[handle] = 1;
		ck_assert_uint_eq(err, 0);
		ck_assert_int_eq(recv_all(buf, sizeof(buf)), 0);
		ck_assert(memcmp(buf, rbdfake.bytes + handle * 65536,
		    sizeof(buf)) == 0);
	}
	ck_assert_int_eq(rbdfake.max_inflight, OVL_READS);
	ck_assert_int_eq(rbdfake.writes, 0);		/* the base never */
	request(NBD_CMD_DISC, 0, 99, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	ck_assert_int_eq(rbdfake.inflight, 0);
}
END_TEST

/* A READ gathers the host's blocks from the overlay and the others from
 * the base; one that arrives after a WRITE was answered never reads the
 * base's bytes for its blocks, even while an earlier READ of them is
 * still at Ceph (which may return what was there before: it was in
 * flight together with the WRITE). */
START_TEST(overlay_read_after_write)
{
	enum { B = 4096, N = 6 };
	static uint8_t want[N * B], old[N * B], mine[B], edge[100];

	memset(mine, 0xA5, sizeof(mine));
	memset(edge, 0x5A, sizeof(edge));
	memcpy(want, rbdfake.bytes, sizeof(want));
	start_server();
	/* A whole block, and a partial one copied up from the base. */
	request(NBD_CMD_WRITE, 0, 1, 1 * B, B, mine);
	expect_ok(1);
	request(NBD_CMD_WRITE, 0, 2, 3 * B + 50, sizeof(edge), edge);
	expect_ok(2);
	ck_assert_int_eq(rbdfake.sync_reads, 1);
	memcpy(want + 1 * B, mine, B);
	memcpy(want + 3 * B + 50, edge, sizeof(edge));
	memcpy(old, want, sizeof(old));

	/* Blocks 0, 2, 4-5 at Ceph, held there. */
	hold(1);
	request(NBD_CMD_READ, 0, 10, 0, sizeof(want), NULL);
	wait_inflight(3);
	/* Block 0 written and answered meanwhile... */
	memset(mine, 0x3C, sizeof(mine));
	request(NBD_CMD_WRITE, 0, 11, 0, B, mine);
	expect_ok(11);
	memcpy(want, mine, B);
	/* ... so a READ after it has its bytes, at once: nothing of it
	 * goes to Ceph, which still holds the first READ. */
	request(NBD_CMD_READ, 0, 12, 0, 2 * B, NULL);
	expect_read(12, want, 2 * B);
	ck_assert_int_eq(rbdfake.inflight, 3);
	hold(0);
	expect_read(10, old, sizeof(old));
	/* Everything, once more, from wherever it is now. */
	request(NBD_CMD_READ, 0, 13, 0, sizeof(want), NULL);
	expect_read(13, want, sizeof(want));
	request(NBD_CMD_DISC, 0, 99, 0, 0, NULL);
	ck_assert_int_eq(reply(&(uint64_t){ 0 }, &(uint32_t){ 0 }), -1);
	finish();
	ck_assert_int_eq(rbdfake.writes, 0);		/* the base never */
	ck_assert_int_eq(rbdfake.inflight, 0);
}
END_TEST

/* A base that cannot be read fails the READ (never bytes it did not
 * have, nor a short read padded out), and the connection goes on; what
 * the overlay holds is still read. */
START_TEST(overlay_base_errors)
{
	uint8_t mine[4096];
	uint64_t handle;
	uint32_t err;

	memset(mine, 0x77, sizeof(mine));
	start_server();
	request(NBD_CMD_WRITE, 0, 1, 8192, sizeof(mine), mine);
	expect_ok(1);
	rbdfake.read_rc = -EIO;
	request(NBD_CMD_READ, 0, 2, 0, 3 * 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(handle, 2);
	ck_assert_uint_eq(err, NBD_EIO);
	request(NBD_CMD_READ, 0, 3, 8192, 4096, NULL);
	expect_read(3, mine, sizeof(mine));
	rbdfake.read_rc = 0;
	rbdfake.read_short = 1;
	request(NBD_CMD_READ, 0, 4, 0, 4096, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(handle, 4);
	ck_assert_uint_eq(err, NBD_EIO);
	rbdfake.read_short = 0;
	request(NBD_CMD_READ, 0, 5, 4096, 4096, NULL);
	expect_read(5, rbdfake.bytes + 4096, 4096);
	request(NBD_CMD_DISC, 0, 99, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
}
END_TEST

/* TRIM and WRITE ZEROES are the overlay's, as over a file: zeroes read
 * back, FAST_ZERO done (a hole in the overlay is fast), the base never
 * written. */
START_TEST(overlay_changes)
{
	static uint8_t zero[8192];
	uint64_t handle;
	uint32_t err;

	start_server();
	request(NBD_CMD_WRITE_ZEROES, NBD_CMD_FLAG_FAST_ZERO, 1, 0, 8192,
	    NULL);
	expect_ok(1);
	request(NBD_CMD_TRIM, 0, 2, 16384, 8192, NULL);
	expect_ok(2);
	request(NBD_CMD_FLUSH, 0, 3, 0, 0, NULL);
	expect_ok(3);
	request(NBD_CMD_CACHE, 0, 4, 0, 65536, NULL);
	expect_ok(4);
	request(NBD_CMD_READ, 0, 5, 0, 8192, NULL);
	expect_read(5, zero, 8192);
	request(NBD_CMD_READ, 0, 6, 16384, 8192, NULL);
	expect_read(6, zero, 8192);
	request(NBD_CMD_READ, 0, 7, 8192, 8192, NULL);
	expect_read(7, rbdfake.bytes + 8192, 8192);
	/* Past the end: refused before anything is read. */
	request(NBD_CMD_READ, 0, 8, SIZE - 4096, 8192, NULL);
	ck_assert_int_eq(reply(&handle, &err), 0);
	ck_assert_uint_eq(err, NBD_EINVAL);
	request(NBD_CMD_DISC, 0, 99, 0, 0, NULL);
	ck_assert_int_eq(reply(&handle, &err), -1);
	finish();
	ck_assert_int_eq(rbdfake.writes, 0);
}
END_TEST

static Suite *
rbdxmit_suite(void)
{
	Suite *s = suite_create("nbdd_rbdxmit");
	TCase *tc = tcase_create("core");
	TCase *to = tcase_create("overlay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, many_in_flight);
	tcase_add_test(tc, writes_around_the_input_buffer);
	tcase_add_test(tc, largest_small_write);
	tcase_add_test(tc, closed_after_sending);
	tcase_add_test(tc, closed_with_reads_waiting);
	tcase_add_test(tc, disc_after_sending);
	tcase_add_test(tc, fua_flushes);
	tcase_add_test(tc, errors_answered);
	tcase_add_test(tc, cut_off_never_answered);
	tcase_add_test(tc, structured);
	tcase_add_test(tc, one_writer_across_servers);
	tcase_add_test(tc, slow_release_blocks_no_other_image);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(to, setup_overlay, teardown_overlay);
	tcase_set_timeout(to, 60);
	tcase_add_test(to, overlay_base_reads_in_flight);
	tcase_add_test(to, overlay_read_after_write);
	tcase_add_test(to, overlay_base_errors);
	tcase_add_test(to, overlay_changes);
	suite_add_tcase(s, to);
	return s;
}

CHECK_MAIN(rbdxmit_suite)
