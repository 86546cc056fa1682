#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/byteorder.h"
#include "nbdd/handshake.h"
#include "nbdd/options.h"
#include "nbdd/proto.h"

#define NO_DEFAULT_EXPORT	"no default export: name one (LIST shows them)"
#define TLS_REQUIRED		"TLS is required by this server: send " \
				"STARTTLS first"
#define SHARED_BASE_DESC	" (shared base, copy-on-write)"

void
opt_init(struct opt_state *st, const struct opt_config *cfg)
{
	memset(st, 0, sizeof(*st));
	st->cfg = *cfg;
	st->pending.action = OPT_HAGGLE;
}

int
opt_client_flags(struct opt_state *st, const uint8_t in[4], uint32_t *flags)
{
	if (hs_parse_client_flags(in, flags) == -1)
		return -1;
	st->fixed = (*flags & NBD_FLAG_C_FIXED_NEWSTYLE) != 0;
	st->no_zeroes = (*flags & NBD_FLAG_C_NO_ZEROES) != 0;
	return 0;
}

uint16_t
opt_transmission_flags(int read_only, int structured, int multi_conn)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
	    NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_CACHE;

	if (read_only)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
		    NBD_FLAG_SEND_FAST_ZERO;
	/* DF needs structured replies to mean anything. */
	if (structured)
		f |= NBD_FLAG_SEND_DF;
	/* Every connection opens the same file and FLUSH is fdatasync,
	 * which covers writes made through any descriptor; on a shared
	 * base the connections of a host share its overlay. */
	if (multi_conn)
		f |= NBD_FLAG_CAN_MULTI_CONN;
	return f;
}

static void
decision(struct opt_decision *d, uint32_t opt, enum opt_action action)
{
	memset(d, 0, sizeof(*d));
	d->opt = opt;
	d->action = action;
}

/* An answer without payload (ACK) and what follows it. */
static void
answer(struct opt_decision *d, uint8_t *out, uint32_t type,
    enum opt_action action)
{
	d->action = action;
	d->replylen += hs_reply(out + d->replylen, OPT_REPLY_MAX - d->replylen,
	    d->opt, type, NULL, 0);
}

/* Words the reason for a refusal, for the client and the log. */
static size_t
vsay(struct opt_state *st, struct opt_decision *d, const char *fmt,
    va_list ap)
{
	int n;

	n = vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	if (n < 0) {
		st->msg[0] = '\0';
		n = 0;
	}
	if ((size_t)n >= sizeof(st->msg))
		n = sizeof(st->msg) - 1;
	d->note = OPT_NOTE_REFUSED;
	d->why = st->msg;
	return (size_t)n;
}

/* An error reply with a message for the human at the client (and the
 * log), then the haggling goes on. */
static void
refuse(struct opt_state *st, struct opt_decision *d, uint8_t *out,
    uint32_t type, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
refuse(struct opt_state *st, struct opt_decision *d, uint8_t *out,
    uint32_t type, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vsay(st, d, fmt, ap);
	va_end(ap);
	d->action = OPT_HAGGLE;
	d->replylen = hs_reply(out, OPT_REPLY_MAX, d->opt, type, st->msg, n);
}

/* A refusal where the protocol has no error reply (EXPORT_NAME): the
 * connection is closed, the reason only logged. */
static void
refuse_closing(struct opt_state *st, struct opt_decision *d,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refuse_closing(struct opt_state *st, struct opt_decision *d,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsay(st, d, fmt, ap);
	va_end(ap);
	d->action = OPT_CLOSE;
	d->replylen = 0;
}

/* A name for messages: printable, at most 64 bytes of it. */
static void
shown_name(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i, j = 0;

	for (i = 0; i < len && j + 5 < outlen && i < 64; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch >= 0x7f)
			j += (size_t)snprintf(out + j, outlen - j, "\\x%02x",
			    ch);
		else
			out[j++] = (char)ch;
	}
	out[j] = '\0';
}

/* Asks the I/O layer to open the export name for purpose. */
static void
open_export(struct opt_state *st, struct opt_decision *d,
    enum opt_purpose purpose, const char *name, size_t len)
{
	struct opt_pending *p = &st->pending;
	size_t keep = len < EXPORT_NAME_MAX ? len : EXPORT_NAME_MAX;

	memset(p, 0, sizeof(*p));
	p->action = OPT_OPEN;
	p->opt = d->opt;
	p->purpose = purpose;
	memcpy(p->name, name, keep);
	p->name[keep] = '\0';
	p->namelen = len;
	d->action = OPT_OPEN;
	d->name = name;
	d->namelen = len;
	d->purpose = purpose;
	d->claim = purpose == OPT_FOR_GO || purpose == OPT_FOR_EXPORT_NAME;
}

static void
opt_export_name(struct opt_state *st, const uint8_t *p, uint32_t len,
    struct opt_decision *d)
{
	/* No error reply exists for EXPORT_NAME: refusing is closing. */
	if (len == 0) {
		refuse_closing(st, d, NO_DEFAULT_EXPORT);
		return;
	}
	open_export(st, d, OPT_FOR_EXPORT_NAME, (const char *)p, len);
}

static void
opt_info_go(struct opt_state *st, const uint8_t *p, uint32_t len,
    uint8_t *out, struct opt_decision *d)
{
	struct opt_pending *pd = &st->pending;
	struct hs_info_req r;

	if (hs_parse_info(p, len, &r) == -1) {
		refuse(st, d, out, NBD_REP_ERR_INVALID, "malformed %s request",
		    hs_option_name(d->opt));
		return;
	}
	if (r.namelen == 0) {
		refuse(st, d, out, NBD_REP_ERR_UNKNOWN, NO_DEFAULT_EXPORT);
		return;
	}
	open_export(st, d, d->opt == NBD_OPT_GO ? OPT_FOR_GO : OPT_FOR_INFO,
	    r.name, r.namelen);
	for (uint16_t i = 0; i < r.nreqs; i++) {
		switch (get16(r.reqs + 2 * i)) {
		case NBD_INFO_NAME:
			pd->want_name = 1;
			break;
		case NBD_INFO_DESCRIPTION:
			pd->want_desc = 1;
			break;
		case NBD_INFO_BLOCK_SIZE:
			pd->want_block_size = 1;
			break;
		}
	}
}

static void
opt_meta(struct opt_state *st, const uint8_t *p, uint32_t len, uint8_t *out,
    struct opt_decision *d)
{
	int listing = d->opt == NBD_OPT_LIST_META_CONTEXT;
	struct hs_meta_req r;
	const char *q;
	uint32_t qlen;
	size_t pos = 0;
	int found = 0;

	if (!listing && !st->structured) {
		refuse(st, d, out, NBD_REP_ERR_INVALID,
		    "negotiate structured replies first");
		return;
	}
	if (hs_parse_meta(p, len, &r) == -1) {
		refuse(st, d, out, NBD_REP_ERR_INVALID, "malformed %s request",
		    hs_option_name(d->opt));
		return;
	}
	/* A LIST without queries asks for every context there is. */
	if (listing && r.nqueries == 0)
		found = 1;
	while (!found && hs_meta_next(&r, &pos, &q, &qlen))
		found = hs_meta_matches(q, qlen, listing);
	/* The export must exist, even for a listing. */
	open_export(st, d, OPT_FOR_META, r.name, r.namelen);
	st->pending.meta_found = found;
}

/* In required mode, before TLS, only STARTTLS and ABORT are answered. */
static int
needs_tls(const struct opt_state *st, uint32_t opt)
{
	return st->cfg.tls == OPT_TLS_REQUIRED && !st->tls &&
	    opt != NBD_OPT_STARTTLS && opt != NBD_OPT_ABORT;
}

/* Any other option before TLS in required mode: nothing about the
 * exports is told, nothing is opened or negotiated. EXPORT_NAME has no
 * error reply, so it ends the connection. */
static void
opt_tls_required(struct opt_state *st, uint8_t *out, struct opt_decision *d)
{
	if (d->opt == NBD_OPT_EXPORT_NAME)
		refuse_closing(st, d, "%s", TLS_REQUIRED);
	else
		refuse(st, d, out, NBD_REP_ERR_TLS_REQD, "%s", TLS_REQUIRED);
}

static void
opt_starttls(struct opt_state *st, uint32_t len, uint8_t *out,
    struct opt_decision *d)
{
	if (st->cfg.tls == OPT_TLS_OFF) {
		refuse(st, d, out, NBD_REP_ERR_POLICY,
		    "TLS is not offered by this server");
		return;
	}
	if (st->tls) {
		refuse(st, d, out, NBD_REP_ERR_INVALID, "TLS is already on");
		return;
	}
	if (len != 0) {
		refuse(st, d, out, NBD_REP_ERR_INVALID,
		    "STARTTLS takes no data");
		return;
	}
	answer(d, out, NBD_REP_ACK, OPT_STARTTLS);
}

void
opt_tls_started(struct opt_state *st)
{
	st->tls = 1;
	st->structured = 0;
	st->meta = 0;
	memset(st->meta_name, 0, sizeof(st->meta_name));
	st->pending.action = OPT_HAGGLE;
}

/* An option whose payload is longer than any real client sends: never
 * buffered. Discarding a little keeps the client in step; more is not
 * worth the time, and EXPORT_NAME has no error reply to give. */
static void
opt_too_long(struct opt_state *st, uint32_t len, uint8_t *out,
    struct opt_decision *d)
{
	if (len > NBDD_MAX_DISCARD || d->opt == NBD_OPT_EXPORT_NAME) {
		d->action = OPT_CLOSE;
		d->note = OPT_NOTE_TOO_LONG;
		return;
	}
	/* Before TLS in required mode, TLS_REQD even for this. */
	if (needs_tls(st, d->opt))
		refuse(st, d, out, NBD_REP_ERR_TLS_REQD, "%s", TLS_REQUIRED);
	else
		refuse(st, d, out, NBD_REP_ERR_TOO_BIG, "option of %u bytes "
		    "is longer than any this server takes (%u)", len,
		    NBDD_MAX_OPTION);
	d->discard = len;
}

void
opt_decide(struct opt_state *st, uint32_t opt, const uint8_t *payload,
    uint32_t len, uint8_t out[OPT_REPLY_MAX], struct opt_decision *d)
{
	decision(d, opt, OPT_HAGGLE);
	st->pending.action = OPT_HAGGLE;
	if (len > NBDD_MAX_OPTION || (payload == NULL && len > 0)) {
		if (len > NBDD_MAX_OPTION)
			opt_too_long(st, len, out, d);
		else
			d->action = OPT_CLOSE;	/* a caller's mistake */
		return;
	}
	if (!st->fixed && opt != NBD_OPT_EXPORT_NAME) {
		d->action = OPT_CLOSE;
		d->note = OPT_NOTE_NOT_FIXED;
		return;
	}
	if (needs_tls(st, opt)) {
		opt_tls_required(st, out, d);
		return;
	}
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		opt_export_name(st, payload, len, d);
		break;
	case NBD_OPT_ABORT:
		/* The client may already be gone; that is fine. */
		answer(d, out, NBD_REP_ACK, OPT_CLOSE);
		d->note = OPT_NOTE_ABORT;
		break;
	case NBD_OPT_LIST:
		if (len != 0) {
			refuse(st, d, out, NBD_REP_ERR_INVALID,
			    "LIST takes no data");
			break;
		}
		st->pending.action = OPT_LIST;
		st->pending.opt = opt;
		d->action = OPT_LIST;
		break;
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		opt_info_go(st, payload, len, out, d);
		break;
	case NBD_OPT_STRUCTURED_REPLY:
		if (len != 0) {
			refuse(st, d, out, NBD_REP_ERR_INVALID,
			    "STRUCTURED_REPLY takes no data");
			break;
		}
		st->structured = 1;
		answer(d, out, NBD_REP_ACK, OPT_HAGGLE);
		break;
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		opt_meta(st, payload, len, out, d);
		break;
	case NBD_OPT_STARTTLS:
		opt_starttls(st, len, out, d);
		break;
	default:
		refuse(st, d, out, NBD_REP_ERR_UNSUP,
		    "option %u is not supported", opt);
		break;
	}
}

static uint32_t
open_error(enum opt_open_status status)
{
	switch (status) {
	case OPT_OPEN_BAD_NAME:
	case OPT_OPEN_CLAIMED:
	case OPT_OPEN_DENIED:
	/* Not "unknown" (libnbd shows ENOENT for that): the image is there,
	 * and it is a matter of permissions. */
	case OPT_OPEN_UNWRITABLE:
		return NBD_REP_ERR_POLICY;
	default:
		return NBD_REP_ERR_UNKNOWN;
	}
}

/* The INFO replies GO and INFO send before their ACK. */
static void
info_replies(struct opt_state *st, uint8_t *out, struct opt_decision *d,
    const char *name, uint64_t size, int shared_base, uint16_t tflags)
{
	const struct opt_pending *p = &st->pending;
	size_t namelen = strlen(name);
	char desc[EXPORT_NAME_MAX + sizeof(EXPORT_SUFFIX) +
	    sizeof(SHARED_BASE_DESC)];

	d->replylen += hs_reply_info_export(out + d->replylen,
	    OPT_REPLY_MAX - d->replylen, d->opt, size, tflags);
	if (p->want_name)
		d->replylen += hs_reply_info_string(out + d->replylen,
		    OPT_REPLY_MAX - d->replylen, d->opt, NBD_INFO_NAME, name,
		    namelen);
	if (p->want_desc) {
		snprintf(desc, sizeof(desc), "%s%s%s", name, EXPORT_SUFFIX,
		    shared_base ? SHARED_BASE_DESC : "");
		d->replylen += hs_reply_info_string(out + d->replylen,
		    OPT_REPLY_MAX - d->replylen, d->opt, NBD_INFO_DESCRIPTION,
		    desc, strlen(desc));
	}
	if (p->want_block_size)
		d->replylen += hs_reply_info_block_size(out + d->replylen,
		    OPT_REPLY_MAX - d->replylen, d->opt, NBDD_MIN_BLOCK,
		    NBDD_PREF_BLOCK, NBDD_MAX_PAYLOAD);
}

/* The export could not be opened or claimed. */
static void
refuse_open(struct opt_state *st, const struct opt_opened *res, uint8_t *out,
    struct opt_decision *d)
{
	const struct opt_pending *p = &st->pending;
	const char *why = res->why ? res->why : "cannot be opened";
	char shown[300];

	if (res->status == OPT_OPEN_CLAIMED) {
		/* The message names the holder and the image already. */
		if (p->purpose == OPT_FOR_EXPORT_NAME)
			refuse_closing(st, d, "%s", why);
		else
			refuse(st, d, out, open_error(res->status), "%s", why);
		return;
	}
	shown_name(shown, sizeof(shown), p->name,
	    p->namelen < EXPORT_NAME_MAX ? p->namelen : EXPORT_NAME_MAX);
	if (p->purpose == OPT_FOR_EXPORT_NAME)
		refuse_closing(st, d, "export \"%s\": %s", shown, why);
	else
		refuse(st, d, out, open_error(res->status),
		    "export \"%s\": %s", shown, why);
}

/* GO and EXPORT_NAME: the export is served. */
static void
serve(struct opt_state *st, const struct opt_opened *res, uint8_t *out,
    struct opt_decision *d)
{
	const struct opt_pending *p = &st->pending;

	memcpy(st->name, p->name, sizeof(st->name));
	st->size = res->size;
	st->shared_base = res->shared_base;
	/* Contexts chosen for another export do not carry over. */
	if (st->meta && strcmp(st->meta_name, st->name) != 0)
		st->meta = 0;
	/* A shared base is a writable disk to each host, through its own
	 * overlay: the same flags as an image written directly. */
	st->tflags = opt_transmission_flags(0, st->structured,
	    st->cfg.multi_conn);
	d->action = OPT_TRANSMIT;
	if (p->purpose == OPT_FOR_EXPORT_NAME) {
		d->replylen = hs_export_name_reply(out, st->size, st->tflags,
		    st->no_zeroes);
		return;
	}
	info_replies(st, out, d, st->name, st->size, st->shared_base,
	    st->tflags);
	answer(d, out, NBD_REP_ACK, OPT_TRANSMIT);
}

void
opt_opened(struct opt_state *st, const struct opt_opened *res,
    uint8_t out[OPT_REPLY_MAX], struct opt_decision *d)
{
	struct opt_pending *p = &st->pending;

	decision(d, p->opt, OPT_CLOSE);
	/* Nothing was asked to be opened, or a name that no export can
	 * have was: the caller is confused, and the client goes. */
	if (p->action != OPT_OPEN ||
	    (res->status == OPT_OPEN_OK && p->namelen > EXPORT_NAME_MAX)) {
		p->action = OPT_HAGGLE;
		return;
	}
	p->action = OPT_HAGGLE;
	if (res->status != OPT_OPEN_OK) {
		refuse_open(st, res, out, d);
		return;
	}
	switch (p->purpose) {
	case OPT_FOR_GO:
	case OPT_FOR_EXPORT_NAME:
		serve(st, res, out, d);
		break;
	case OPT_FOR_INFO:
		/* INFO looks without claiming or choosing. */
		info_replies(st, out, d, p->name, res->size, res->shared_base,
		    opt_transmission_flags(0, st->structured,
		    st->cfg.multi_conn));
		answer(d, out, NBD_REP_ACK, OPT_HAGGLE);
		break;
	case OPT_FOR_META:
		if (p->opt == NBD_OPT_SET_META_CONTEXT) {
			st->meta = p->meta_found;
			memcpy(st->meta_name, p->name, sizeof(st->meta_name));
		}
		if (p->meta_found)
			d->replylen = hs_reply_meta_context(out, OPT_REPLY_MAX,
			    p->opt, p->opt == NBD_OPT_SET_META_CONTEXT ?
			    NBDD_META_ID_ALLOCATION : 0,
			    NBDD_META_BASE_ALLOCATION);
		answer(d, out, NBD_REP_ACK, OPT_HAGGLE);
		break;
	}
}

size_t
opt_list_entry(struct opt_state *st, const char *name, size_t len,
    uint8_t out[OPT_REPLY_MAX])
{
	if (st->pending.action != OPT_LIST)
		return 0;
	return hs_reply_server(out, OPT_REPLY_MAX, NBD_OPT_LIST, name, len);
}

void
opt_listed(struct opt_state *st, const char *why, uint8_t out[OPT_REPLY_MAX],
    struct opt_decision *d)
{
	int listing = st->pending.action == OPT_LIST;

	decision(d, NBD_OPT_LIST, OPT_CLOSE);
	st->pending.action = OPT_HAGGLE;
	if (!listing)
		return;
	if (why != NULL)
		refuse(st, d, out, NBD_REP_ERR_PLATFORM,
		    "cannot read the export directory: %s", why);
	else
		answer(d, out, NBD_REP_ACK, OPT_HAGGLE);
}

void
opt_caps(const struct opt_state *st, struct req_export *caps)
{
	caps->size = st->size;
	caps->read_only = 0;	/* a shared base too: see serve() */
	caps->structured = st->structured;
	caps->meta_allocation = st->meta;
}
