/* libFuzzer harness over nbdd's decision layers: a client's handshake
 * through options.c (with the results of opening and listing exports
 * faked from the input), then its requests through plan.c, checking what
 * a client must be able to rely on.
 *
 * The first byte picks the mode. Bit 0 clear: a handshake, then 4 bytes
 * of client flags and options as on the wire (16-byte header, payload);
 * bit 1 makes the host one outside the allowed networks (the same bytes
 * then go through refusal.c, cut where the next bytes say), bit 2 offers
 * multi-conn, bits 3-4 pick the TLS mode (off, allowed, required; an
 * acknowledged STARTTLS is taken as a successful handshake). When the layer asks for an export to be opened, the next
 * byte picks the result (status, read-only) and 8 more its size; when it
 * asks for a listing, the next byte how many names (each a length byte
 * and the name) and whether the root could be read. Once in
 * transmission, the rest is requests. Bit 0 set: requests alone, after
 * 8 bytes of export size and a byte of capabilities (read-only,
 * structured, base:allocation). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/options.h"
#include "nbdd/plan.h"
#include "nbdd/proto.h"
#include "nbdd/refusal.h"
#include "nbdd/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

static int
take(struct input *in, void *out, size_t len)
{
	if (in->n < len)
		return -1;
	memcpy(out, in->p, len);
	in->p += len;
	in->n -= len;
	return 0;
}

static uint8_t
take_byte(struct input *in, uint8_t dflt)
{
	uint8_t b;

	return take(in, &b, 1) == 0 ? b : dflt;
}

/* The replies to one option, all decisions and list entries together. */
static uint8_t replies[OPT_REPLY_MAX * 8];
static size_t nreplies;
static uint8_t out[OPT_REPLY_MAX];

static void
keep(const uint8_t *b, size_t n)
{
	CHECK(n <= OPT_REPLY_MAX);
	CHECK(nreplies + n <= sizeof(replies));
	memcpy(replies + nreplies, b, n);
	nreplies += n;
}

static int
is_final(uint32_t type)
{
	return type == NBD_REP_ACK || (type & NBD_REP_FLAG_ERROR);
}

/* The replies to option opt that ended in decision d: well-formed, for
 * this option, and exactly one final reply (ACK or error), last, unless
 * the connection is closed. */
static void
check_replies(const struct opt_state *st, uint32_t opt,
    const struct opt_decision *d)
{
	size_t pos = 0;
	int finals = 0;

	if (opt == NBD_OPT_EXPORT_NAME) {
		/* Never an option reply: the export itself, or nothing. */
		if (d->action == OPT_TRANSMIT) {
			CHECK(nreplies == (st->no_zeroes ? 10u :
			    (size_t)HS_EXPORT_NAME_REPLY));
			CHECK(get64(replies) == st->size);
			CHECK(get16(replies + 8) == st->tflags);
		} else
			CHECK(nreplies == 0 && d->action == OPT_CLOSE);
		return;
	}
	while (pos < nreplies) {
		uint32_t type, len;

		CHECK(nreplies - pos >= HS_REPLY_HDR_SIZE);
		CHECK(get64(replies + pos) == NBD_REP_MAGIC);
		CHECK(get32(replies + pos + 8) == opt);
		type = get32(replies + pos + 12);
		len = get32(replies + pos + 16);
		CHECK(len <= nreplies - pos - HS_REPLY_HDR_SIZE);
		CHECK(finals == 0);
		if (type & NBD_REP_FLAG_ERROR) {
			CHECK(d->note == OPT_NOTE_REFUSED);
			CHECK(len == strlen(d->why));
			CHECK(memcmp(replies + pos + HS_REPLY_HDR_SIZE, d->why,
			    len) == 0);
			CHECK(d->action == OPT_HAGGLE);
		}
		if (type == NBD_REP_INFO && get16(replies + pos + 20) ==
		    NBD_INFO_EXPORT) {
			CHECK(len == 12);
			CHECK(!(get16(replies + pos + 30) &
			    NBD_FLAG_SEND_DF) == !st->structured);
		}
		if (type == NBD_REP_SERVER)
			CHECK(opt == NBD_OPT_LIST);
		if (type == NBD_REP_META_CONTEXT)
			CHECK(opt == NBD_OPT_LIST_META_CONTEXT ||
			    opt == NBD_OPT_SET_META_CONTEXT);
		finals += is_final(type);
		pos += HS_REPLY_HDR_SIZE + len;
	}
	if (d->action != OPT_CLOSE)
		CHECK(finals == 1);
	if (d->action == OPT_TRANSMIT)
		CHECK(opt == NBD_OPT_GO);
}

/* A fake open result, chosen by the input. */
static void
fake_open(struct input *in, struct opt_opened *res)
{
	uint8_t b = take_byte(in, 0), sz[8];
	static const enum opt_open_status st[] = { OPT_OPEN_OK, OPT_OPEN_OK,
	    OPT_OPEN_OK, OPT_OPEN_OK, OPT_OPEN_BAD_NAME, OPT_OPEN_NOT_FOUND,
	    OPT_OPEN_ERROR, OPT_OPEN_CLAIMED, OPT_OPEN_DENIED };
	static const char *why[] = { NULL, NULL, NULL, NULL,
	    "not a valid export name", "no such export", "Permission denied",
	    "image x is in use by 10.0.0.5 (one writer per image)",
	    "boot entry abcd1234 points at another image" };
	/* Bit 5 turns one of the successes into a refused identity. */
	unsigned k = (b & 7) == 0 && (b >> 5) & 1 ? 8 : b & 7;

	memset(res, 0, sizeof(*res));
	res->status = st[k];
	res->why = why[k];
	res->shared_base = (b >> 3) & 1;
	res->blockdev = (b >> 4) & 1;
	res->size = take(in, sz, 8) == 0 ? get64(sz) : 1024 * 1024;
}

/* A fake listing; its entries join the option's replies. */
static void
fake_list(struct input *in, struct opt_state *st, struct opt_decision *d)
{
	uint8_t b = take_byte(in, 0), len;
	char name[256];

	for (int i = 0; i < (b & 3); i++) {
		len = take_byte(in, 0);
		if (take(in, name, len) == -1)
			break;
		keep(out, opt_list_entry(st, name, len, out));
	}
	opt_listed(st, (b & 4) ? "Permission denied" : NULL, out, d);
}

/* One option: 0 to go on haggling, 1 for transmission, -1 to stop. */
static int
one_option(struct input *in, struct opt_state *st)
{
	uint8_t hdr[HS_OPTION_HDR_SIZE];
	const uint8_t *payload = NULL;
	struct opt_decision d;
	struct opt_opened res;
	struct hs_option o;
	const char *name;
	size_t namelen;
	int opened = 0, tls_before;

	if (take(in, hdr, sizeof(hdr)) == -1 ||
	    hs_parse_option(hdr, &o) == -1)
		return -1;
	if (o.len <= NBDD_MAX_OPTION) {
		/* The I/O layer waits for the whole payload. */
		if (in->n < o.len)
			return -1;
		payload = in->p;
		in->p += o.len;
		in->n -= o.len;
	}
	nreplies = 0;
	tls_before = st->tls;
	opt_decide(st, o.opt, payload, o.len, out, &d);
	CHECK(d.opt == o.opt);
	/* Required mode before TLS: nothing but STARTTLS and ABORT gets
	 * anything but TLS_REQD, and nothing is opened or listed. */
	if (st->cfg.tls == OPT_TLS_REQUIRED && !tls_before &&
	    o.opt != NBD_OPT_STARTTLS &&
	    o.opt != NBD_OPT_ABORT && d.action != OPT_CLOSE) {
		CHECK(d.action == OPT_HAGGLE);
		CHECK(d.replylen >= HS_REPLY_HDR_SIZE &&
		    get32(out + 12) == NBD_REP_ERR_TLS_REQD);
	}
	if (d.action == OPT_STARTTLS) {
		/* One ACK, only when TLS is offered and not yet on. */
		CHECK(o.opt == NBD_OPT_STARTTLS && o.len == 0);
		CHECK(st->cfg.tls != OPT_TLS_OFF && !st->tls);
		CHECK(d.replylen == HS_REPLY_HDR_SIZE &&
		    get32(out + 12) == NBD_REP_ACK);
		opt_tls_started(st);
		CHECK(!st->structured && !st->meta);
		return 0;
	}
	/* Never TLS_REQD once TLS is on, or when it is not offered. */
	if ((st->tls || st->cfg.tls == OPT_TLS_OFF) &&
	    d.replylen >= HS_REPLY_HDR_SIZE)
		CHECK(get32(out + 12) != NBD_REP_ERR_TLS_REQD);
	if (d.discard > 0)
		CHECK(o.len > NBDD_MAX_OPTION && d.discard == o.len &&
		    o.len <= NBDD_MAX_DISCARD);
	if (o.len > NBDD_MAX_OPTION)
		CHECK(d.action == OPT_CLOSE || d.discard == o.len);
	for (;;) {
		keep(out, d.replylen);
		if (d.action != OPT_OPEN && d.action != OPT_LIST)
			break;
		CHECK(d.replylen == 0);
		/* An export is opened once per option. */
		if (d.action == OPT_LIST) {
			CHECK(o.opt == NBD_OPT_LIST && o.len == 0);
			fake_list(in, st, &d);
			continue;
		}
		CHECK(!opened);
		opened = 1;
		CHECK(d.name >= (const char *)payload && d.namelen <= o.len &&
		    d.name + d.namelen <= (const char *)payload + o.len);
		CHECK(d.claim == (d.purpose == OPT_FOR_GO ||
		    d.purpose == OPT_FOR_EXPORT_NAME));
		name = d.name;
		namelen = d.namelen;
		fake_open(in, &res);
		opt_opened(st, &res, out, &d);
		if (d.action == OPT_TRANSMIT) {
			CHECK(res.status == OPT_OPEN_OK);
			CHECK(st->cfg.tls != OPT_TLS_REQUIRED || st->tls);
			CHECK(st->size == res.size &&
			    st->shared_base == res.shared_base);
			/* A shared base is writable too (its overlay). */
			CHECK(st->tflags == opt_transmission_flags(0,
			    st->structured, st->cfg.multi_conn));
			CHECK(namelen <= EXPORT_NAME_MAX &&
			    memcmp(st->name, name, namelen) == 0 &&
			    st->name[namelen] == '\0');
		}
	}
	check_replies(st, o.opt, &d);
	if (d.action == OPT_CLOSE)
		return -1;
	return d.action == OPT_TRANSMIT ? 1 : 0;
}

/* A reply built for r: well-formed, the error wanted, and structured
 * only when negotiated. */
static void
check_reply(const uint8_t *b, size_t n, const struct nbd_request *r,
    const struct req_export *e, uint32_t error)
{
	if (get32(b) == NBD_SIMPLE_REPLY_MAGIC) {
		CHECK(n == NBD_SIMPLE_REPLY_SIZE);
		CHECK(get32(b + 4) == error);
		CHECK(get64(b + 8) == r->handle);
		/* Never a simple reply to a READ once structured. */
		CHECK(!e->structured || r->type != NBD_CMD_READ);
		return;
	}
	CHECK(get32(b) == NBD_STRUCTURED_REPLY_MAGIC);
	CHECK(e->structured);
	CHECK(n >= NBD_STRUCTURED_HDR_SIZE);
	CHECK(get16(b + 4) == NBD_REPLY_FLAG_DONE);
	CHECK(get64(b + 8) == r->handle);
	if (error != 0) {
		CHECK(get16(b + 6) == NBD_REPLY_TYPE_ERROR);
		CHECK(get32(b + 16) == n - NBD_STRUCTURED_HDR_SIZE);
		CHECK(get32(b + 20) == error);
		CHECK(get16(b + 24) == n - NBD_STRUCTURED_HDR_SIZE - 6);
	} else if (get16(b + 6) == NBD_REPLY_TYPE_OFFSET_DATA) {
		CHECK(r->type == NBD_CMD_READ && n == REQ_READ_CHUNK_SIZE);
		CHECK(get32(b + 16) == 8 + r->len);
		CHECK(get64(b + 20) == r->offset);
	} else
		CHECK(get16(b + 6) == NBD_REPLY_TYPE_NONE &&
		    get32(b + 16) == 0 && n == NBD_STRUCTURED_HDR_SIZE);
}

/* What the image makes of a request, chosen by its (opaque) handle. */
static int
fake_errno(const struct nbd_request *r)
{
	static const int e[] = { 0, 0, 0, 0, EIO, ENOSPC, EOPNOTSUPP,
	    EOVERFLOW, EPERM, ENOMEM, EINVAL, ESHUTDOWN, EDQUOT, EROFS,
	    ENXIO, EFBIG };

	return e[r->handle & 15];
}

static void
requests(struct input *in, const struct req_export *e)
{
	uint8_t b[NBD_REQUEST_SIZE], reply[PLAN_REPLY_MAX];
	struct nbd_request r;
	struct plan p;
	uint32_t err;
	int host;

	while (take(in, b, sizeof(b)) == 0) {
		if (req_parse(b, &r) == -1)
			return;
		plan_request(&r, e, &p);
		if (p.action == PLAN_DISC)
			return;
		CHECK(p.error == req_check(&r, e));
		if (p.action == PLAN_DROP) {
			CHECK(r.type == NBD_CMD_WRITE &&
			    r.len > NBDD_MAX_PAYLOAD && p.error != 0);
			return;
		}
		if (p.action == PLAN_ERROR) {
			CHECK(p.error != 0);
			CHECK(p.discard == req_payload_len(&r));
			CHECK(p.discard <= NBDD_MAX_PAYLOAD);
			check_reply(reply, plan_reply(reply, &r, e, p.error,
			    PLAN_REFUSED_MSG), &r, e, p.error);
			continue;
		}
		CHECK(p.error == 0 && p.discard == 0);
		/* Plans never reach beyond the export. */
		if (p.action != PLAN_FLUSH)
			CHECK(p.len > 0 && p.offset <= e->size &&
			    p.len <= e->size - p.offset);
		if (p.action == PLAN_READ || p.action == PLAN_WRITE)
			CHECK(p.len <= NBDD_MAX_PAYLOAD);
		if (e->read_only)
			CHECK(p.action != PLAN_WRITE && p.action != PLAN_TRIM &&
			    p.action != PLAN_ZERO);
		if (p.action == PLAN_BLOCK_STATUS)
			CHECK(e->meta_allocation && e->structured);
		host = p.action == PLAN_CACHE ? 0 : fake_errno(&r);
		err = req_errno(&r, host);
		CHECK((host == 0) == (err == 0));
		if (err == NBD_EOVERFLOW)
			CHECK(r.type == NBD_CMD_READ &&
			    (r.flags & NBD_CMD_FLAG_DF));
		if (err == NBD_ENOTSUP)
			CHECK(r.type == NBD_CMD_WRITE_ZEROES &&
			    (r.flags & NBD_CMD_FLAG_FAST_ZERO));
		if (err == 0 && p.action == PLAN_READ)
			check_reply(reply, plan_read_header(reply, &r, e),
			    &r, e, 0);
		else if (p.action != PLAN_BLOCK_STATUS || err != 0)
			check_reply(reply, plan_reply(reply, &r, e, err,
			    host ? "image error" : NULL), &r, e, err);
		(void)plan_failure_logged(&r, host);
	}
}

/* A host outside the allowed networks: whatever it sends, in whatever
 * pieces, it gets only POLICY refusals that name it, one per option up
 * to the limit, each a whole reply, and never more bytes than it was
 * given to answer. */
static void
refused(struct input *in)
{
	static const char why[] = "host 192.0.2.7 is not in the networks "
	    "this server allows (nbdd -A)";
	uint8_t reply[REFUSAL_REPLY_MAX];
	struct refusal r;
	size_t used, len, outlen;
	int answered = 0;

	refusal_init(&r, "192.0.2.7");
	while (in->n > 0 && !refusal_over(&r)) {
		len = take_byte(in, 1);
		len = len < in->n ? len : in->n;
		used = refusal_feed(&r, in->p, len, reply, &outlen);
		CHECK(used <= len);
		CHECK(used > 0 || outlen > 0 || refusal_over(&r) || len == 0);
		if (outlen > 0) {
			CHECK(outlen == HS_REPLY_HDR_SIZE + sizeof(why) - 1);
			CHECK(get64(reply) == NBD_REP_MAGIC);
			CHECK(get32(reply + 12) == NBD_REP_ERR_POLICY);
			CHECK(get32(reply + 8) != NBD_OPT_EXPORT_NAME &&
			    get32(reply + 8) != NBD_OPT_ABORT);
			CHECK(memcmp(reply + HS_REPLY_HDR_SIZE, why,
			    sizeof(why) - 1) == 0);
			CHECK(++answered <= REFUSAL_OPTIONS_MAX);
		}
		in->p += used;
		in->n -= used;
	}
}

static void
handshake(struct input *in, uint8_t mode)
{
	struct opt_config cfg = { .multi_conn = (mode >> 2) & 1,
	    .tls = (enum opt_tls)(((mode >> 3) & 3) % 3) };
	struct opt_state st;
	struct req_export caps;
	uint8_t b[4];
	uint32_t flags;
	int rc;

	opt_init(&st, &cfg);
	if (take(in, b, 4) == -1 || opt_client_flags(&st, b, &flags) == -1)
		return;
	while ((rc = one_option(in, &st)) == 0)
		;
	if (rc == 1) {
		opt_caps(&st, &caps);
		CHECK(caps.size == st.size && !caps.read_only);
		CHECK(!caps.meta_allocation || caps.structured);
		requests(in, &caps);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data + 1, size - 1 };
	struct req_export e;
	uint8_t sz[8], c;

	if (size < 1)
		return 0;
	if (!(data[0] & 1) && (data[0] & 2)) {
		refused(&in);
		return 0;
	}
	if (!(data[0] & 1)) {
		handshake(&in, data[0]);
		return 0;
	}
	if (take(&in, sz, 8) == -1 || take(&in, &c, 1) == -1)
		return 0;
	e.size = get64(sz);
	e.read_only = c & 1;
	e.structured = (c >> 1) & 1;
	/* As a handshake leaves them: contexts need structured replies. */
	e.meta_allocation = e.structured && ((c >> 2) & 1);
	requests(&in, &e);
	return 0;
}
