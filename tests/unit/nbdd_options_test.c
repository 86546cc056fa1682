/* The handshake's decisions, option by option: what is answered, what
 * the I/O layer is asked to do, and what is refused, for fixed and
 * non-fixed newstyle clients (hosts outside the allowed networks never
 * get here: nbdd_refusal_test.c). Opening and listing are faked: the
 * decisions never touch a file. */
#include <check.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/options.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"

#define MIB		(1024ULL * 1024)

static struct opt_state st;
static struct opt_decision d;
static uint8_t out[OPT_REPLY_MAX];

/* A fresh handshake: the client's flags, whether multi-conn is
 * offered. */
static void
start_tls(uint32_t cflags, int multi_conn, enum opt_tls tls)
{
	struct opt_config cfg = { .multi_conn = multi_conn, .tls = tls };
	uint8_t b[4];
	uint32_t f;

	opt_init(&st, &cfg);
	put32(b, cflags);
	ck_assert_int_eq(opt_client_flags(&st, b, &f), 0);
	ck_assert_uint_eq(f, cflags);
	memset(out, 0xee, sizeof(out));
}

static void
start(uint32_t cflags, int multi_conn)
{
	start_tls(cflags, multi_conn, OPT_TLS_OFF);
}

static void
fixed(void)
{
	start(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, 1);
}

/* One option reply, split. */
struct rep {
	uint32_t opt;
	uint32_t type;
	uint32_t len;
	const uint8_t *data;
};

/* Splits the replies in b[0..n): every one must carry the reply magic
 * and their lengths must add up to n exactly. Returns how many. */
static int
split(const uint8_t *b, size_t n, struct rep *r, int max)
{
	size_t pos = 0;
	int k = 0;

	while (pos < n) {
		ck_assert_int_lt(k, max);
		ck_assert_uint_ge(n - pos, HS_REPLY_HDR_SIZE);
		ck_assert_uint_eq(get64(b + pos), NBD_REP_MAGIC);
		r[k].opt = get32(b + pos + 8);
		r[k].type = get32(b + pos + 12);
		r[k].len = get32(b + pos + 16);
		r[k].data = b + pos + HS_REPLY_HDR_SIZE;
		ck_assert_uint_le(r[k].len, n - pos - HS_REPLY_HDR_SIZE);
		pos += HS_REPLY_HDR_SIZE + r[k].len;
		k++;
	}
	return k;
}

/* The decision is one reply of type with no further action than act. */
static const struct rep *
one_reply(uint32_t opt, uint32_t type, enum opt_action act)
{
	static struct rep r[4];

	ck_assert_int_eq(d.action, act);
	ck_assert_uint_eq(d.opt, opt);
	ck_assert_int_eq(split(out, d.replylen, r, 4), 1);
	ck_assert_uint_eq(r[0].opt, opt);
	ck_assert_uint_eq(r[0].type, type);
	return &r[0];
}

/* An error reply whose message is want, logged as a refusal. */
static void
refused_with(uint32_t opt, uint32_t type, const char *want)
{
	const struct rep *r = one_reply(opt, type, OPT_HAGGLE);

	ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
	ck_assert_uint_eq(d.discard, 0);
	ck_assert_uint_eq(r->len, strlen(want));
	ck_assert(memcmp(r->data, want, r->len) == 0);
	ck_assert_str_eq(d.why, want);
}

static void
acked(uint32_t opt)
{
	const struct rep *r = one_reply(opt, NBD_REP_ACK, OPT_HAGGLE);

	ck_assert_uint_eq(r->len, 0);
	ck_assert_int_eq(d.note, OPT_NOTE_NONE);
}

static void
decide(uint32_t opt, const void *payload, size_t len)
{
	memset(out, 0xee, sizeof(out));
	opt_decide(&st, opt, payload, (uint32_t)len, out, &d);
	ck_assert_uint_le(d.replylen, OPT_REPLY_MAX);
}

static void
opened(enum opt_open_status status, const char *why, uint64_t size,
    int shared_base)
{
	struct opt_opened res = { .status = status, .why = why,
	    .size = size, .shared_base = shared_base };

	memset(out, 0xee, sizeof(out));
	opt_opened(&st, &res, out, &d);
	ck_assert_uint_le(d.replylen, OPT_REPLY_MAX);
}

/* INFO/GO payload: a name and up to 8 info requests. */
static size_t
info_payload(uint8_t *b, const char *name, size_t namelen, int n,
    const uint16_t *reqs)
{
	put32(b, (uint32_t)namelen);
	memcpy(b + 4, name, namelen);
	put16(b + 4 + namelen, (uint16_t)n);
	for (int i = 0; i < n; i++)
		put16(b + 6 + namelen + 2 * (size_t)i, reqs[i]);
	return 6 + namelen + 2 * (size_t)n;
}

/* META_CONTEXT payload: a name and n queries. */
static size_t
meta_payload(uint8_t *b, const char *name, int n, const char **q)
{
	size_t nl = strlen(name), p;

	put32(b, (uint32_t)nl);
	memcpy(b + 4, name, nl);
	put32(b + 4 + nl, (uint32_t)n);
	p = 8 + nl;
	for (int i = 0; i < n; i++) {
		size_t ql = strlen(q[i]);
		put32(b + p, (uint32_t)ql);
		memcpy(b + p + 4, q[i], ql);
		p += 4 + ql;
	}
	return p;
}

/* Asks to GO (or INFO) name and checks the decision is to open it. */
static void
go(uint32_t opt, const char *name)
{
	uint8_t b[256];
	size_t n = info_payload(b, name, strlen(name), 0, NULL);

	decide(opt, b, n);
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_uint_eq(d.namelen, strlen(name));
	ck_assert(memcmp(d.name, name, d.namelen) == 0);
	ck_assert_int_eq(d.claim, opt == NBD_OPT_GO);
	ck_assert_int_eq(d.purpose, opt == NBD_OPT_GO ? OPT_FOR_GO :
	    OPT_FOR_INFO);
}

/* SET or LIST_META_CONTEXT on name with queries; decided to open. */
static void
meta(uint32_t opt, const char *name, int n, const char **q)
{
	uint8_t b[512];

	decide(opt, b, meta_payload(b, name, n, q));
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_int_eq(d.purpose, OPT_FOR_META);
	ck_assert_int_eq(d.claim, 0);
}

/* After meta(): the export exists; was base:allocation answered? */
static int
meta_answer(uint32_t opt)
{
	struct rep r[4];
	int k;

	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_HAGGLE);
	k = split(out, d.replylen, r, 4);
	ck_assert_int_ge(k, 1);
	ck_assert_uint_eq(r[k - 1].type, NBD_REP_ACK);
	for (int i = 0; i < k; i++)
		ck_assert_uint_eq(r[i].opt, opt);
	if (k == 1)
		return 0;
	ck_assert_int_eq(k, 2);
	ck_assert_uint_eq(r[0].type, NBD_REP_META_CONTEXT);
	ck_assert_uint_eq(r[0].len, 4 + 15);
	ck_assert_uint_eq(get32(r[0].data), opt == NBD_OPT_SET_META_CONTEXT ?
	    NBDD_META_ID_ALLOCATION : 0);
	ck_assert(memcmp(r[0].data + 4, "base:allocation", 15) == 0);
	return 1;
}

START_TEST(client_flags)
{
	struct opt_config cfg = { 0 };
	uint8_t b[4];
	uint32_t f;

	opt_init(&st, &cfg);
	put32(b, NBD_FLAG_C_FIXED_NEWSTYLE);
	ck_assert_int_eq(opt_client_flags(&st, b, &f), 0);
	ck_assert_int_eq(st.fixed, 1);
	ck_assert_int_eq(st.no_zeroes, 0);
	put32(b, NBD_FLAG_C_NO_ZEROES);
	ck_assert_int_eq(opt_client_flags(&st, b, &f), 0);
	ck_assert_int_eq(st.fixed, 0);
	ck_assert_int_eq(st.no_zeroes, 1);
	/* Unknown bits: an oldstyle or broken client, closed. */
	put32(b, 1u << 2);
	ck_assert_int_eq(opt_client_flags(&st, b, &f), -1);
	put32(b, 0xffffffffu);
	ck_assert_int_eq(opt_client_flags(&st, b, &f), -1);
}
END_TEST

START_TEST(not_fixed_newstyle)
{
	static const uint32_t opts[] = { NBD_OPT_GO, NBD_OPT_INFO,
	    NBD_OPT_LIST, NBD_OPT_ABORT, NBD_OPT_STRUCTURED_REPLY,
	    NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT,
	    NBD_OPT_STARTTLS, NBD_OPT_PEEK_EXPORT, 0x7777 };
	uint8_t b[64];
	size_t n = info_payload(b, "pi4", 3, 0, NULL);

	/* Such a client cannot read an option reply: anything but
	 * EXPORT_NAME closes, without a reply. */
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		start(0, 1);
		decide(opts[i], b, opts[i] == NBD_OPT_LIST ||
		    opts[i] == NBD_OPT_ABORT ? 0 : n);
		ck_assert_int_eq(d.action, OPT_CLOSE);
		ck_assert_uint_eq(d.replylen, 0);
		ck_assert_int_eq(d.note, OPT_NOTE_NOT_FIXED);
	}
	/* EXPORT_NAME works, with the 124 zeroes (no NO_ZEROES). */
	start(0, 1);
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_int_eq(d.claim, 1);
	opened(OPT_OPEN_OK, NULL, 64 * MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_uint_eq(d.replylen, HS_EXPORT_NAME_REPLY);
	ck_assert_uint_eq(get64(out), 64 * MIB);
	for (int i = 10; i < HS_EXPORT_NAME_REPLY; i++)
		ck_assert_uint_eq(out[i], 0);
}
END_TEST

START_TEST(export_name)
{
	struct req_export caps;
	uint16_t flags;

	fixed();
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_int_eq(d.purpose, OPT_FOR_EXPORT_NAME);
	ck_assert_int_eq(d.claim, 1);
	ck_assert_uint_eq(d.namelen, 3);
	ck_assert_uint_eq(d.replylen, 0);
	opened(OPT_OPEN_OK, NULL, 64 * MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_uint_eq(d.opt, NBD_OPT_EXPORT_NAME);
	/* NO_ZEROES: size and flags only, never an option reply. */
	ck_assert_uint_eq(d.replylen, 10);
	ck_assert_uint_eq(get64(out), 64 * MIB);
	flags = get16(out + 8);
	ck_assert_uint_eq(flags, opt_transmission_flags(0, 0, 1));
	ck_assert_uint_eq(flags & NBD_FLAG_READ_ONLY, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_TRIM, 0);
	ck_assert_uint_eq(flags & NBD_FLAG_SEND_DF, 0);
	opt_caps(&st, &caps);
	ck_assert_uint_eq(caps.size, 64 * MIB);
	ck_assert_int_eq(caps.read_only, 0);
	ck_assert_int_eq(caps.structured, 0);
	ck_assert_int_eq(caps.meta_allocation, 0);
	ck_assert_str_eq(st.name, "pi4");

	/* A shared base, after structured replies: a writable disk all
	 * the same (the host's overlay), TRIM, WRITE ZEROES and FAST ZERO
	 * offered, multi-conn (the host's connections share it). */
	fixed();
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
	decide(NBD_OPT_EXPORT_NAME, "lab", 3);
	ck_assert_int_eq(d.claim, 1);
	opened(OPT_OPEN_OK, NULL, 4096, 1);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	flags = get16(out + 8);
	ck_assert_uint_eq(flags & NBD_FLAG_READ_ONLY, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_TRIM, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_WRITE_ZEROES, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_FAST_ZERO, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_CAN_MULTI_CONN, 0);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_DF, 0);
	ck_assert_int_eq(st.shared_base, 1);
	opt_caps(&st, &caps);
	ck_assert_uint_eq(caps.size, 4096);
	ck_assert_int_eq(caps.read_only, 0);
	ck_assert_int_eq(caps.structured, 1);

	/* ... and without multi-conn where the configuration has none
	 * (inetd mode: a connection is a process, its overlay its own). */
	start(NBD_FLAG_C_FIXED_NEWSTYLE, 0);
	decide(NBD_OPT_EXPORT_NAME, "lab", 3);
	opened(OPT_OPEN_OK, NULL, 4096, 1);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	flags = get16(out + 8);
	ck_assert_uint_eq(flags & NBD_FLAG_CAN_MULTI_CONN, 0);
	ck_assert_uint_eq(flags & NBD_FLAG_READ_ONLY, 0);
}
END_TEST

/* EXPORT_NAME has no error reply: every refusal closes, silently on the
 * wire, with the reason for the log. */
START_TEST(export_name_refused)
{
	static const struct {
		enum opt_open_status status;
		const char *why, *want;
	} cases[] = {
		{ OPT_OPEN_BAD_NAME, "not a valid export name",
		    "export \"../x\": not a valid export name" },
		{ OPT_OPEN_NOT_FOUND, "no such export",
		    "export \"../x\": no such export" },
		{ OPT_OPEN_ERROR, "Input/output error",
		    "export \"../x\": Input/output error" },
		{ OPT_OPEN_CLAIMED, "image x is in use by 10.0.0.5 (one "
		    "writer per image)", "image x is in use by 10.0.0.5 (one "
		    "writer per image)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixed();
		decide(NBD_OPT_EXPORT_NAME, "../x", 4);
		ck_assert_int_eq(d.action, OPT_OPEN);
		opened(cases[i].status, cases[i].why, 0, 0);
		ck_assert_int_eq(d.action, OPT_CLOSE);
		ck_assert_uint_eq(d.replylen, 0);
		ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
		ck_assert_uint_eq(d.opt, NBD_OPT_EXPORT_NAME);
		ck_assert_str_eq(d.why, cases[i].want);
	}
	/* No default export. */
	fixed();
	decide(NBD_OPT_EXPORT_NAME, NULL, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
	ck_assert_str_eq(d.why,
	    "no default export: name one (LIST shows them)");
}
END_TEST

START_TEST(too_long)
{
	static uint8_t big[NBDD_MAX_OPTION];
	const struct rep *r;

	fixed();
	/* Discarded, refused with TOO_BIG, and the haggling goes on. */
	decide(NBD_OPT_GO, NULL, 100000);
	r = one_reply(NBD_OPT_GO, NBD_REP_ERR_TOO_BIG, OPT_HAGGLE);
	ck_assert_uint_eq(d.discard, 100000);
	ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
	ck_assert_str_eq(d.why, "option of 100000 bytes is longer than any "
	    "this server takes (16384)");
	ck_assert(memcmp(r->data, d.why, r->len) == 0);
	decide(0x7777, NULL, NBDD_MAX_DISCARD);
	one_reply(0x7777, NBD_REP_ERR_TOO_BIG, OPT_HAGGLE);
	ck_assert_uint_eq(d.discard, NBDD_MAX_DISCARD);
	decide(NBD_OPT_LIST, NULL, NBDD_MAX_OPTION + 1);
	one_reply(NBD_OPT_LIST, NBD_REP_ERR_TOO_BIG, OPT_HAGGLE);
	/* Beyond what is worth discarding: closed, nothing read. */
	decide(NBD_OPT_GO, NULL, NBDD_MAX_DISCARD + 1);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_int_eq(d.note, OPT_NOTE_TOO_LONG);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_uint_eq(d.discard, 0);
	fixed();
	decide(NBD_OPT_GO, NULL, 0xffffffffu);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_int_eq(d.note, OPT_NOTE_TOO_LONG);
	/* EXPORT_NAME has no error reply to give: closed. */
	fixed();
	decide(NBD_OPT_EXPORT_NAME, NULL, NBDD_MAX_OPTION + 1);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_int_eq(d.note, OPT_NOTE_TOO_LONG);
	ck_assert_uint_eq(d.replylen, 0);
	/* Exactly the maximum is read and parsed as usual. */
	fixed();
	memset(big, 'a', sizeof(big));
	put32(big, NBDD_MAX_OPTION - 6);
	put16(big + NBDD_MAX_OPTION - 2, 0);
	decide(NBD_OPT_GO, big, sizeof(big));
	/* (a 16378-byte name is longer than any string may be) */
	refused_with(NBD_OPT_GO, NBD_REP_ERR_INVALID, "malformed GO request");
	/* A payload the caller did not pass: closed, nothing assumed. */
	decide(NBD_OPT_GO, NULL, 10);
	ck_assert_int_eq(d.action, OPT_CLOSE);
}
END_TEST

START_TEST(info)
{
	static const uint16_t reqs[] = { NBD_INFO_BLOCK_SIZE, NBD_INFO_NAME,
	    99, NBD_INFO_DESCRIPTION, NBD_INFO_NAME };
	struct rep r[8];
	uint8_t b[64];

	fixed();
	decide(NBD_OPT_INFO, b, info_payload(b, "pi4", 3, 5, reqs));
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_int_eq(d.purpose, OPT_FOR_INFO);
	/* INFO looks without claiming. */
	ck_assert_int_eq(d.claim, 0);
	opened(OPT_OPEN_OK, NULL, 8 * MIB, 1);
	ck_assert_int_eq(d.action, OPT_HAGGLE);
	/* Each asked-for information once, in a fixed order, then ACK. */
	ck_assert_int_eq(split(out, d.replylen, r, 8), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(r[i].opt, NBD_OPT_INFO);
	ck_assert_uint_eq(r[0].type, NBD_REP_INFO);
	ck_assert_uint_eq(r[0].len, 12);
	ck_assert_uint_eq(get16(r[0].data), NBD_INFO_EXPORT);
	ck_assert_uint_eq(get64(r[0].data + 2), 8 * MIB);
	ck_assert_uint_eq(get16(r[0].data + 10),
	    opt_transmission_flags(0, 0, 1));
	ck_assert_uint_eq(get16(r[1].data), NBD_INFO_NAME);
	ck_assert_uint_eq(r[1].len, 2 + 3);
	ck_assert(memcmp(r[1].data + 2, "pi4", 3) == 0);
	ck_assert_uint_eq(get16(r[2].data), NBD_INFO_DESCRIPTION);
	ck_assert_uint_eq(r[2].len, 2 +
	    strlen("pi4.img (shared base, copy-on-write)"));
	ck_assert(memcmp(r[2].data + 2, "pi4.img (shared base, "
	    "copy-on-write)", r[2].len - 2) == 0);
	ck_assert_uint_eq(get16(r[3].data), NBD_INFO_BLOCK_SIZE);
	ck_assert_uint_eq(r[3].len, 14);
	ck_assert_uint_eq(get32(r[3].data + 2), NBDD_MIN_BLOCK);
	ck_assert_uint_eq(get32(r[3].data + 6), NBDD_PREF_BLOCK);
	ck_assert_uint_eq(get32(r[3].data + 10), NBDD_MAX_PAYLOAD);
	ck_assert_uint_eq(r[4].type, NBD_REP_ACK);
	ck_assert_uint_eq(r[4].len, 0);

	/* Nothing asked for: the export information and ACK; and the
	 * haggling goes on to a GO of another export. */
	go(NBD_OPT_INFO, "rw");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(split(out, d.replylen, r, 8), 2);
	ck_assert_uint_eq(get16(r[0].data + 10) & NBD_FLAG_READ_ONLY, 0);
	ck_assert_uint_eq(r[1].type, NBD_REP_ACK);
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, 8 * MIB, 1);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);

	/* No default export, without looking. */
	fixed();
	decide(NBD_OPT_INFO, b, info_payload(b, "", 0, 0, NULL));
	refused_with(NBD_OPT_INFO, NBD_REP_ERR_UNKNOWN,
	    "no default export: name one (LIST shows them)");
}
END_TEST

START_TEST(info_refused)
{
	static const struct {
		enum opt_open_status status;
		uint32_t type;
		const char *why, *want;
	} cases[] = {
		{ OPT_OPEN_BAD_NAME, NBD_REP_ERR_POLICY,
		    "not a valid export name",
		    "export \"a/b\": not a valid export name" },
		{ OPT_OPEN_NOT_FOUND, NBD_REP_ERR_UNKNOWN, "no such export",
		    "export \"a/b\": no such export" },
		{ OPT_OPEN_ERROR, NBD_REP_ERR_UNKNOWN, "Permission denied",
		    "export \"a/b\": Permission denied" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixed();
		go(NBD_OPT_INFO, "a/b");
		opened(cases[i].status, cases[i].why, 0, 0);
		refused_with(NBD_OPT_INFO, cases[i].type, cases[i].want);
	}
}
END_TEST

START_TEST(go_served)
{
	static const uint16_t reqs[] = { NBD_INFO_NAME, NBD_INFO_DESCRIPTION,
	    NBD_INFO_BLOCK_SIZE };
	struct req_export caps;
	struct rep r[8];
	uint8_t b[64];

	fixed();
	decide(NBD_OPT_GO, b, info_payload(b, "pi4", 3, 3, reqs));
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_int_eq(d.claim, 1);
	opened(OPT_OPEN_OK, NULL, 64 * MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_uint_eq(d.opt, NBD_OPT_GO);
	ck_assert_int_eq(split(out, d.replylen, r, 8), 5);
	ck_assert_uint_eq(get16(r[0].data), NBD_INFO_EXPORT);
	ck_assert_uint_eq(get16(r[0].data + 10), st.tflags);
	ck_assert_uint_eq(st.tflags, opt_transmission_flags(0, 0, 1));
	ck_assert(memcmp(r[2].data + 2, "pi4.img", 7) == 0);
	ck_assert_uint_eq(r[2].len, 2 + 7);
	ck_assert_uint_eq(r[4].type, NBD_REP_ACK);
	opt_caps(&st, &caps);
	ck_assert_uint_eq(caps.size, 64 * MIB);
	ck_assert_int_eq(caps.read_only, 0);

	/* Without multi-conn (inetd mode). */
	start(NBD_FLAG_C_FIXED_NEWSTYLE, 0);
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_uint_eq(st.tflags & NBD_FLAG_CAN_MULTI_CONN, 0);

	/* No default export, without opening. */
	fixed();
	decide(NBD_OPT_GO, b, info_payload(b, "", 0, 0, NULL));
	refused_with(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN,
	    "no default export: name one (LIST shows them)");
}
END_TEST

START_TEST(go_refused)
{
	static const struct {
		enum opt_open_status status;
		uint32_t type;
		const char *why, *want;
	} cases[] = {
		{ OPT_OPEN_BAD_NAME, NBD_REP_ERR_POLICY,
		    "not a valid export name",
		    "export \"..\": not a valid export name" },
		{ OPT_OPEN_NOT_FOUND, NBD_REP_ERR_UNKNOWN, "no such export",
		    "export \"..\": no such export" },
		{ OPT_OPEN_ERROR, NBD_REP_ERR_UNKNOWN, "Input/output error",
		    "export \"..\": Input/output error" },
		/* The claim's message names the holder. */
		{ OPT_OPEN_CLAIMED, NBD_REP_ERR_POLICY,
		    "image pi is in use by 192.168.50.10 (one writer per "
		    "image)", "image pi is in use by 192.168.50.10 (one "
		    "writer per image)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixed();
		go(NBD_OPT_GO, "..");
		opened(cases[i].status, cases[i].why, 0, 0);
		refused_with(NBD_OPT_GO, cases[i].type, cases[i].want);
		/* The haggling goes on: GO again, served this time. */
		go(NBD_OPT_GO, "pi");
		opened(OPT_OPEN_OK, NULL, MIB, 0);
		ck_assert_int_eq(d.action, OPT_TRANSMIT);
	}
}
END_TEST

/* Names in messages: printable, 64 bytes at most. */
START_TEST(shown_names)
{
	char name[EXPORT_NAME_MAX + 100], want[600];
	uint8_t b[512];

	fixed();
	go(NBD_OPT_GO, "\x1b[2Jpi\n");
	opened(OPT_OPEN_BAD_NAME, "not a valid export name", 0, 0);
	refused_with(NBD_OPT_GO, NBD_REP_ERR_POLICY,
	    "export \"\\x1b[2Jpi\\x0a\": not a valid export name");
	memset(name, 'n', sizeof(name));
	decide(NBD_OPT_GO, b, info_payload(b, name, sizeof(name), 0, NULL));
	ck_assert_int_eq(d.action, OPT_OPEN);
	ck_assert_uint_eq(d.namelen, sizeof(name));
	opened(OPT_OPEN_BAD_NAME, "not a valid export name", 0, 0);
	snprintf(want, sizeof(want), "export \"%.64s\": not a valid export "
	    "name", name);
	refused_with(NBD_OPT_GO, NBD_REP_ERR_POLICY, want);
	/* An open that succeeded for a name no export can have is the
	 * caller's mistake: closed. */
	decide(NBD_OPT_GO, b, info_payload(b, name, sizeof(name), 0, NULL));
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
}
END_TEST

/* The longest export name with every information fits the reply. */
START_TEST(longest_reply)
{
	static const uint16_t reqs[] = { NBD_INFO_NAME, NBD_INFO_DESCRIPTION,
	    NBD_INFO_BLOCK_SIZE };
	char name[EXPORT_NAME_MAX];
	struct rep r[8];
	uint8_t b[512];

	fixed();
	memset(name, 'x', sizeof(name));
	decide(NBD_OPT_GO, b, info_payload(b, name, sizeof(name), 3, reqs));
	opened(OPT_OPEN_OK, NULL, MIB, 1);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_int_eq(split(out, d.replylen, r, 8), 5);
	ck_assert_uint_eq(r[1].len, 2 + EXPORT_NAME_MAX);
	ck_assert_uint_eq(r[2].len, 2 + EXPORT_NAME_MAX +
	    strlen(".img (shared base, copy-on-write)"));
	ck_assert_uint_eq(r[4].type, NBD_REP_ACK);
	/* The longest error message, too. */
	fixed();
	go(NBD_OPT_GO, "x");
	memset(b, 'w', sizeof(b));
	b[sizeof(b) - 1] = '\0';
	opened(OPT_OPEN_CLAIMED, (const char *)b, 0, 0);
	one_reply(NBD_OPT_GO, NBD_REP_ERR_POLICY, OPT_HAGGLE);
	ck_assert_uint_eq(d.replylen, HS_REPLY_HDR_SIZE + 511);
}
END_TEST

START_TEST(info_go_malformed)
{
	static const uint32_t opts[] = { NBD_OPT_INFO, NBD_OPT_GO };
	uint8_t b[64];
	size_t n;

	for (int k = 0; k < 2; k++) {
		uint32_t o = opts[k];
		const char *want = o == NBD_OPT_GO ? "malformed GO request" :
		    "malformed INFO request";
		uint16_t reqs[] = { NBD_INFO_NAME };

		fixed();
		n = info_payload(b, "pi4", 3, 1, reqs);
		/* Cut anywhere, or one byte too many. */
		for (size_t i = 0; i < n; i++) {
			decide(o, b, i);
			refused_with(o, NBD_REP_ERR_INVALID, want);
		}
		decide(o, b, n + 1);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* A name length past the end, or wrapping. */
		put32(b, 0xfffffffau);
		decide(o, b, n);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* A count promising more requests than sent. */
		n = info_payload(b, "pi4", 3, 1, reqs);
		put16(b + 7, 2);
		decide(o, b, n);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* A NUL in the name. */
		n = info_payload(b, "p\0i", 3, 0, NULL);
		decide(o, b, n);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* And then a good one is still served. */
		go(o, "pi4");
	}
}
END_TEST

START_TEST(list)
{
	struct rep r[4];
	uint8_t e[OPT_REPLY_MAX];
	size_t n;

	fixed();
	decide(NBD_OPT_LIST, "junk", 4);
	refused_with(NBD_OPT_LIST, NBD_REP_ERR_INVALID, "LIST takes no data");
	/* Not listing: entries are not built, the end closes. */
	ck_assert_uint_eq(opt_list_entry(&st, "pi4", 3, e), 0);
	decide(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(d.action, OPT_LIST);
	ck_assert_uint_eq(d.replylen, 0);
	n = opt_list_entry(&st, "pi4", 3, e);
	ck_assert_int_eq(split(e, n, r, 4), 1);
	ck_assert_uint_eq(r[0].opt, NBD_OPT_LIST);
	ck_assert_uint_eq(r[0].type, NBD_REP_SERVER);
	ck_assert_uint_eq(r[0].len, 4 + 3);
	ck_assert_uint_eq(get32(r[0].data), 3);
	ck_assert(memcmp(r[0].data + 4, "pi4", 3) == 0);
	n = opt_list_entry(&st, "raspios", 7, e);
	ck_assert_uint_eq(n, HS_REPLY_HDR_SIZE + 4 + 7);
	opt_listed(&st, NULL, out, &d);
	acked(NBD_OPT_LIST);
	ck_assert_uint_eq(opt_list_entry(&st, "pi4", 3, e), 0);
	/* An empty root: just the ACK. */
	decide(NBD_OPT_LIST, NULL, 0);
	opt_listed(&st, NULL, out, &d);
	acked(NBD_OPT_LIST);
	/* A root that cannot be read. */
	decide(NBD_OPT_LIST, NULL, 0);
	opt_listed(&st, "Permission denied", out, &d);
	refused_with(NBD_OPT_LIST, NBD_REP_ERR_PLATFORM,
	    "cannot read the export directory: Permission denied");
	/* The end of a list nobody asked for: the caller is confused. */
	opt_listed(&st, NULL, out, &d);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
}
END_TEST

START_TEST(structured_reply)
{
	fixed();
	decide(NBD_OPT_STRUCTURED_REPLY, "x", 1);
	refused_with(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_INVALID,
	    "STRUCTURED_REPLY takes no data");
	ck_assert_int_eq(st.structured, 0);
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
	ck_assert_int_eq(st.structured, 1);
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_uint_ne(st.tflags & NBD_FLAG_SEND_DF, 0);
}
END_TEST

START_TEST(meta_contexts)
{
	const char *alloc[] = { "base:allocation" };
	const char *ns[] = { "base:" };
	const char *other[] = { "qemu:dirty-bitmap:x", "base:allocation" };
	const char *none[] = { "qemu:dirty-bitmap:x" };

	fixed();
	/* SET before structured replies: refused, nothing opened. */
	decide(NBD_OPT_SET_META_CONTEXT, "x", 1);
	refused_with(NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID,
	    "negotiate structured replies first");
	/* LIST may come first; with no queries it lists everything. */
	meta(NBD_OPT_LIST_META_CONTEXT, "pi4", 0, NULL);
	ck_assert_int_eq(meta_answer(NBD_OPT_LIST_META_CONTEXT), 1);
	/* "base:" names the namespace: enough for LIST ... */
	meta(NBD_OPT_LIST_META_CONTEXT, "pi4", 1, ns);
	ck_assert_int_eq(meta_answer(NBD_OPT_LIST_META_CONTEXT), 1);
	meta(NBD_OPT_LIST_META_CONTEXT, "pi4", 1, none);
	ck_assert_int_eq(meta_answer(NBD_OPT_LIST_META_CONTEXT), 0);
	/* ... and listing selects nothing. */
	ck_assert_int_eq(st.meta, 0);
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
	/* ... not for SET, which must name the context. */
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 1, ns);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 0);
	ck_assert_int_eq(st.meta, 0);
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 2, other);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 1);
	ck_assert_int_eq(st.meta, 1);
	/* SET with no queries selects nothing: the old choice is gone. */
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 0, NULL);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 0);
	ck_assert_int_eq(st.meta, 0);
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 1, alloc);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 1);
	/* A failed SET leaves the choice as it was. */
	meta(NBD_OPT_SET_META_CONTEXT, "gone", 1, alloc);
	opened(OPT_OPEN_NOT_FOUND, "no such export", 0, 0);
	refused_with(NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_UNKNOWN,
	    "export \"gone\": no such export");
	ck_assert_int_eq(st.meta, 1);
	ck_assert_str_eq(st.meta_name, "pi4");
}
END_TEST

/* Contexts chosen for one export are not carried over to another. */
START_TEST(meta_other_export)
{
	const char *alloc[] = { "base:allocation" };
	struct req_export caps;

	fixed();
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 1, alloc);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 1);
	go(NBD_OPT_GO, "pi5");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	opt_caps(&st, &caps);
	ck_assert_int_eq(caps.structured, 1);
	ck_assert_int_eq(caps.meta_allocation, 0);

	fixed();
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 1, alloc);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 1);
	/* INFO on another export changes nothing. */
	go(NBD_OPT_INFO, "pi5");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	opt_caps(&st, &caps);
	ck_assert_int_eq(caps.meta_allocation, 1);
}
END_TEST

START_TEST(meta_malformed)
{
	const char *alloc[] = { "base:allocation" };
	static const uint32_t opts[] = { NBD_OPT_LIST_META_CONTEXT,
	    NBD_OPT_SET_META_CONTEXT };
	uint8_t b[128];
	size_t n;

	for (int k = 0; k < 2; k++) {
		uint32_t o = opts[k];
		const char *want = k == 0 ?
		    "malformed LIST_META_CONTEXT request" :
		    "malformed SET_META_CONTEXT request";

		fixed();
		decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
		n = meta_payload(b, "pi4", 1, alloc);
		for (size_t i = 0; i < n; i++) {
			decide(o, b, i);
			refused_with(o, NBD_REP_ERR_INVALID, want);
		}
		decide(o, b, n + 1);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* More queries promised than sent. */
		put32(b + 7, 2);
		decide(o, b, n);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* A query length past the end. */
		n = meta_payload(b, "pi4", 1, alloc);
		put32(b + 11, 0xfffffff0u);
		decide(o, b, n);
		refused_with(o, NBD_REP_ERR_INVALID, want);
		/* A bad export name is the export's business: looked up. */
		meta(o, "", 1, alloc);
		opened(OPT_OPEN_BAD_NAME, "not a valid export name", 0, 0);
		refused_with(o, NBD_REP_ERR_POLICY,
		    "export \"\": not a valid export name");
	}
}
END_TEST

START_TEST(starttls)
{
	fixed();
	decide(NBD_OPT_STARTTLS, NULL, 0);
	refused_with(NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY,
	    "TLS is not offered by this server");
	/* The haggling goes on in the clear. */
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
}
END_TEST

#define TLS_REQUIRED	"TLS is required by this server: send STARTTLS first"

/* STARTTLS accepted: the ACK, and the driver is to upgrade. */
static void
starttls_acked(void)
{
	const struct rep *r;

	decide(NBD_OPT_STARTTLS, NULL, 0);
	r = one_reply(NBD_OPT_STARTTLS, NBD_REP_ACK, OPT_STARTTLS);
	ck_assert_uint_eq(r->len, 0);
	ck_assert_int_eq(d.note, OPT_NOTE_NONE);
	ck_assert_int_eq(st.tls, 0);
	opt_tls_started(&st);
	ck_assert_int_eq(st.tls, 1);
}

START_TEST(starttls_allowed)
{
	struct rep r[4];

	/* Allowed: a client may go on in the clear ... */
	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_ALLOWED);
	decide(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(d.action, OPT_LIST);
	opt_listed(&st, NULL, out, &d);
	acked(NBD_OPT_LIST);
	go(NBD_OPT_INFO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_HAGGLE);
	/* ... or start TLS: data with it is refused, in the clear. */
	decide(NBD_OPT_STARTTLS, "x", 1);
	refused_with(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
	    "STARTTLS takes no data");
	ck_assert_int_eq(st.tls, 0);
	starttls_acked();
	/* Never twice, and never a TLS_REQD once TLS is on. */
	decide(NBD_OPT_STARTTLS, NULL, 0);
	refused_with(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
	    "TLS is already on");
	decide(NBD_OPT_STARTTLS, "x", 1);
	refused_with(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
	    "TLS is already on");
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_int_ge(split(out, d.replylen, r, 4), 2);
}
END_TEST

/* Required: before TLS nothing but STARTTLS and ABORT is answered, with
 * ERR_TLS_REQD; nothing is opened, listed or negotiated. */
START_TEST(tls_required_first)
{
	static const uint32_t opts[] = { NBD_OPT_GO, NBD_OPT_INFO,
	    NBD_OPT_LIST, NBD_OPT_STRUCTURED_REPLY,
	    NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT,
	    NBD_OPT_PEEK_EXPORT, NBD_OPT_EXTENDED_HEADERS, 0x7777 };
	const char *alloc[] = { "base:allocation" };
	uint8_t b[128];
	size_t n = info_payload(b, "pi4", 3, 0, NULL);

	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_REQUIRED);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		uint32_t o = opts[i];

		if (o == NBD_OPT_LIST_META_CONTEXT ||
		    o == NBD_OPT_SET_META_CONTEXT)
			decide(o, b, meta_payload(b, "pi4", 1, alloc));
		else
			decide(o, b, o == NBD_OPT_LIST ? 0 : n);
		refused_with(o, NBD_REP_ERR_TLS_REQD, TLS_REQUIRED);
	}
	ck_assert_int_eq(st.structured, 0);
	ck_assert_int_eq(st.meta, 0);
	/* Even an option too long to keep: discarded, then TLS_REQD. */
	decide(NBD_OPT_GO, NULL, 100000);
	one_reply(NBD_OPT_GO, NBD_REP_ERR_TLS_REQD, OPT_HAGGLE);
	ck_assert_uint_eq(d.discard, 100000);
	ck_assert_str_eq(d.why, TLS_REQUIRED);
	/* STARTTLS's own refusals still apply. */
	decide(NBD_OPT_STARTTLS, NULL, NBDD_MAX_OPTION + 1);
	one_reply(NBD_OPT_STARTTLS, NBD_REP_ERR_TOO_BIG, OPT_HAGGLE);
	decide(NBD_OPT_STARTTLS, "x", 1);
	refused_with(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID,
	    "STARTTLS takes no data");
	/* EXPORT_NAME cannot be refused: the connection ends. */
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
	ck_assert_str_eq(d.why, TLS_REQUIRED);
	/* ABORT is answered as ever. */
	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_REQUIRED);
	decide(NBD_OPT_ABORT, NULL, 0);
	one_reply(NBD_OPT_ABORT, NBD_REP_ACK, OPT_CLOSE);
	/* A client without fixed newstyle can never start TLS: its
	 * EXPORT_NAME ends it, like anything else it sends. */
	start_tls(0, 1, OPT_TLS_REQUIRED);
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_str_eq(d.why, TLS_REQUIRED);
	start_tls(0, 1, OPT_TLS_REQUIRED);
	decide(NBD_OPT_STARTTLS, NULL, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_int_eq(d.note, OPT_NOTE_NOT_FIXED);
}
END_TEST

/* Once TLS is up in required mode every option is answered as usual,
 * and none ever gets TLS_REQD. */
START_TEST(tls_required_then_on)
{
	static const uint32_t opts[] = { NBD_OPT_PEEK_EXPORT, 0x7777 };
	struct req_export caps;
	uint16_t flags;

	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, 1,
	    OPT_TLS_REQUIRED);
	starttls_acked();
	decide(NBD_OPT_LIST, NULL, 0);
	ck_assert_int_eq(d.action, OPT_LIST);
	opt_listed(&st, NULL, out, &d);
	acked(NBD_OPT_LIST);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		decide(opts[i], "x", 1);
		ck_assert_int_eq(d.action, OPT_HAGGLE);
		one_reply(opts[i], NBD_REP_ERR_UNSUP, OPT_HAGGLE);
	}
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
	decide(NBD_OPT_EXPORT_NAME, "pi4", 3);
	ck_assert_int_eq(d.action, OPT_OPEN);
	opened(OPT_OPEN_OK, NULL, 64 * MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_uint_eq(d.replylen, 10);
	flags = get16(out + 8);
	ck_assert_uint_ne(flags & NBD_FLAG_SEND_DF, 0);
	opt_caps(&st, &caps);
	ck_assert_int_eq(caps.structured, 1);
}
END_TEST

/* What was negotiated in the clear does not survive STARTTLS. */
START_TEST(starttls_forgets)
{
	const char *alloc[] = { "base:allocation" };
	struct req_export caps;

	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_ALLOWED);
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	acked(NBD_OPT_STRUCTURED_REPLY);
	meta(NBD_OPT_SET_META_CONTEXT, "pi4", 1, alloc);
	ck_assert_int_eq(meta_answer(NBD_OPT_SET_META_CONTEXT), 1);
	ck_assert_int_eq(st.meta, 1);
	/* A pending open does not either. */
	go(NBD_OPT_INFO, "pi4");
	starttls_acked();
	ck_assert_int_eq(st.structured, 0);
	ck_assert_int_eq(st.meta, 0);
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	/* SET_META_CONTEXT needs structured replies again. */
	decide(NBD_OPT_SET_META_CONTEXT, "x", 1);
	refused_with(NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID,
	    "negotiate structured replies first");
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);
	ck_assert_uint_eq(st.tflags & NBD_FLAG_SEND_DF, 0);
	opt_caps(&st, &caps);
	ck_assert_int_eq(caps.structured, 0);
	ck_assert_int_eq(caps.meta_allocation, 0);
}
END_TEST

/* The TLS identity may not open the export: POLICY with the rule's
 * reason, or for EXPORT_NAME the end of the connection. */
START_TEST(identity_denied)
{
	static const char rule[] = "boot entry abcd1234 points at another "
	    "image, and no export is named abcd1234";
	static const char want[] = "export \"jammy\": boot entry abcd1234 "
	    "points at another image, and no export is named abcd1234";
	const char *alloc[] = { "base:allocation" };

	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_REQUIRED);
	starttls_acked();
	go(NBD_OPT_GO, "jammy");
	opened(OPT_OPEN_DENIED, rule, 0, 0);
	refused_with(NBD_OPT_GO, NBD_REP_ERR_POLICY, want);
	go(NBD_OPT_INFO, "jammy");
	opened(OPT_OPEN_DENIED, rule, 0, 0);
	refused_with(NBD_OPT_INFO, NBD_REP_ERR_POLICY, want);
	meta(NBD_OPT_LIST_META_CONTEXT, "jammy", 1, alloc);
	opened(OPT_OPEN_DENIED, rule, 0, 0);
	refused_with(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_POLICY, want);
	/* The haggling goes on: another export may be the client's. */
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_TRANSMIT);

	start_tls(NBD_FLAG_C_FIXED_NEWSTYLE, 1, OPT_TLS_REQUIRED);
	starttls_acked();
	decide(NBD_OPT_EXPORT_NAME, "jammy", 5);
	opened(OPT_OPEN_DENIED, rule, 0, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
	ck_assert_int_eq(d.note, OPT_NOTE_REFUSED);
	ck_assert_str_eq(d.why, want);
}
END_TEST

/* An image whose mode says writable but that nbdd cannot write: POLICY
 * (not UNKNOWN: it is there) with the fix, for GO and INFO alike. */
START_TEST(unwritable_refused)
{
	static const char fix[] = "its mode says writable, but nbdd's user "
	    "nbd cannot write it: chown nbd /srv/pi4.img if it is one Pi's "
	    "disk, or chmod a-w /srv/pi4.img to share it as a base";
	char want[sizeof(fix) + 16];

	snprintf(want, sizeof(want), "export \"pi4\": %s", fix);
	start(NBD_FLAG_C_FIXED_NEWSTYLE, 0);
	go(NBD_OPT_GO, "pi4");
	opened(OPT_OPEN_UNWRITABLE, fix, 0, 0);
	refused_with(NBD_OPT_GO, NBD_REP_ERR_POLICY, want);
	go(NBD_OPT_INFO, "pi4");
	opened(OPT_OPEN_UNWRITABLE, fix, 0, 0);
	refused_with(NBD_OPT_INFO, NBD_REP_ERR_POLICY, want);
}
END_TEST

START_TEST(unknown_options)
{
	static const uint32_t opts[] = { NBD_OPT_PEEK_EXPORT,
	    NBD_OPT_EXTENDED_HEADERS, 0, 12, 0x7777, 0xffffffffu };
	char want[64];

	fixed();
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		decide(opts[i], "xyz", 3);
		snprintf(want, sizeof(want), "option %u is not supported",
		    opts[i]);
		refused_with(opts[i], NBD_REP_ERR_UNSUP, want);
	}
	go(NBD_OPT_GO, "pi4");
}
END_TEST

START_TEST(abort_option)
{
	fixed();
	decide(NBD_OPT_ABORT, NULL, 0);
	one_reply(NBD_OPT_ABORT, NBD_REP_ACK, OPT_CLOSE);
	ck_assert_int_eq(d.note, OPT_NOTE_ABORT);
}
END_TEST

START_TEST(transmission_flags)
{
	for (int ro = 0; ro < 2; ro++)
	for (int sr = 0; sr < 2; sr++)
	for (int mc = 0; mc < 2; mc++) {
		uint16_t f = opt_transmission_flags(ro, sr, mc);
		uint16_t w = NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
		    NBD_FLAG_SEND_FAST_ZERO;

		ck_assert_uint_ne(f & NBD_FLAG_HAS_FLAGS, 0);
		ck_assert_uint_ne(f & NBD_FLAG_SEND_FLUSH, 0);
		ck_assert_uint_ne(f & NBD_FLAG_SEND_FUA, 0);
		ck_assert_uint_ne(f & NBD_FLAG_SEND_CACHE, 0);
		ck_assert_int_eq(!!(f & NBD_FLAG_READ_ONLY), ro);
		ck_assert_uint_eq(f & w, ro ? 0 : w);
		ck_assert_int_eq(!!(f & NBD_FLAG_SEND_DF), sr);
		ck_assert_int_eq(!!(f & NBD_FLAG_CAN_MULTI_CONN), mc);
		ck_assert_uint_eq(f & (NBD_FLAG_ROTATIONAL |
		    NBD_FLAG_SEND_RESIZE), 0);
	}
}
END_TEST

/* opt_opened() without a pending open, and after one was answered. */
START_TEST(stray_results)
{
	fixed();
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	ck_assert_uint_eq(d.replylen, 0);
	go(NBD_OPT_INFO, "pi4");
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_HAGGLE);
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
	/* An option decided in between drops the pending open. */
	go(NBD_OPT_GO, "pi4");
	decide(NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	opened(OPT_OPEN_OK, NULL, MIB, 0);
	ck_assert_int_eq(d.action, OPT_CLOSE);
}
END_TEST

static Suite *
options_suite(void)
{
	Suite *s = suite_create("nbdd_options");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, client_flags);
	tcase_add_test(tc, not_fixed_newstyle);
	tcase_add_test(tc, export_name);
	tcase_add_test(tc, export_name_refused);
	tcase_add_test(tc, too_long);
	tcase_add_test(tc, info);
	tcase_add_test(tc, info_refused);
	tcase_add_test(tc, go_served);
	tcase_add_test(tc, go_refused);
	tcase_add_test(tc, shown_names);
	tcase_add_test(tc, longest_reply);
	tcase_add_test(tc, info_go_malformed);
	tcase_add_test(tc, list);
	tcase_add_test(tc, structured_reply);
	tcase_add_test(tc, meta_contexts);
	tcase_add_test(tc, meta_other_export);
	tcase_add_test(tc, meta_malformed);
	tcase_add_test(tc, starttls);
	tcase_add_test(tc, starttls_allowed);
	tcase_add_test(tc, tls_required_first);
	tcase_add_test(tc, tls_required_then_on);
	tcase_add_test(tc, starttls_forgets);
	tcase_add_test(tc, identity_denied);
	tcase_add_test(tc, unwritable_refused);
	tcase_add_test(tc, unknown_options);
	tcase_add_test(tc, abort_option);
	tcase_add_test(tc, transmission_flags);
	tcase_add_test(tc, stray_results);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(options_suite)
