/* The handshake driver: reads options, asks export.c and claim.c, and
 * answers with what handshake.c builds. Everything read here is bounded:
 * a whole handshake must finish within the timeout, and no option payload
 * longer than NBDD_MAX_OPTION is ever buffered. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/log.h"
#include "nbdd/conn.h"
#include "nbdd/handshake.h"
#include "nbdd/proto.h"
#include "nbdd/sockio.h"

/* Lines about a host outside the allowed networks are debug only: it was
 * logged, rate-limited, when it connected, and a scan must not get a line
 * per try. */
#define HS_LOG(c, ...)	((c)->refused ? log_debug(__VA_ARGS__) :	\
			    log_info(__VA_ARGS__))

#define REPLY_BUF	8192
#define REFUSED_TIMEOUT_S	5
#define REFUSED_OPTIONS		8

struct hs {
	struct conn *c;
	int64_t deadline;
	uint8_t *payload;	/* NBDD_MAX_OPTION bytes */
	uint8_t out[REPLY_BUF];
	size_t outlen;
	int fixed;		/* fixed newstyle client */
	int refusals;		/* options refused to a host not allowed */
};

static int
hs_flush(struct hs *h)
{
	if (h->outlen == 0)
		return 0;
	if (sock_write_full(h->c->fd, h->out, h->outlen, 0) == -1) {
		HS_LOG(h->c, "%s: handshake: sending: %s", h->c->peer,
		    strerror(errno));
		return -1;
	}
	h->outlen = 0;
	return 0;
}

/* Makes room for n bytes of reply, flushing what is queued. */
static uint8_t *
hs_room(struct hs *h, size_t n)
{
	if (REPLY_BUF - h->outlen < n && hs_flush(h) == -1)
		return NULL;
	return h->out + h->outlen;
}

/* Queues a reply built by one of the handshake.c builders. */
#define QUEUE(h, need, call) do {					\
	uint8_t *o_ = hs_room((h), (need));				\
	size_t n_;							\
	if (o_ == NULL)							\
		return -1;						\
	n_ = (call);							\
	(h)->outlen += n_;						\
} while (0)

static int
reply_simple(struct hs *h, uint32_t opt, uint32_t type)
{
	QUEUE(h, HS_REPLY_HDR_SIZE,
	    hs_reply(o_, REPLY_BUF - h->outlen, opt, type, NULL, 0));
	return hs_flush(h);
}

/* An error reply with a message for the human at the client. */
static int
reply_error(struct hs *h, uint32_t opt, uint32_t type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
reply_error(struct hs *h, uint32_t opt, uint32_t type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	HS_LOG(h->c, "%s: %s refused: %s", h->c->peer, hs_option_name(opt),
	    msg);
	QUEUE(h, HS_REPLY_HDR_SIZE + (size_t)n,
	    hs_reply(o_, REPLY_BUF - h->outlen, opt, type, msg, (size_t)n));
	return hs_flush(h);
}

/* Name for log lines: printable, at most 64 bytes. */
static void
loggable(char *out, size_t outlen, const char *s, size_t len)
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

static uint32_t
open_error(enum export_status st)
{
	return st == EXPORT_BAD_NAME ? NBD_REP_ERR_POLICY : NBD_REP_ERR_UNKNOWN;
}

/* Opens the export for GO or EXPORT_NAME and claims it when writable.
 * 0, or an NBD_REP_ERR_* with the reason in why. */
static uint32_t
open_and_claim(struct hs *h, const char *name, size_t len, char *why,
    size_t whylen)
{
	struct conn *c = h->c;
	enum export_status st;
	const char *reason;
	char shown[300];

	if (len == 0) {
		snprintf(why, whylen, "no default export: name one (LIST "
		    "shows them)");
		return NBD_REP_ERR_UNKNOWN;
	}
	if ((st = export_open(c->ctx->rootfd, name, len, &c->ex, &reason)) !=
	    EXPORT_OK) {
		loggable(shown, sizeof(shown), name, len);
		snprintf(why, whylen, "export \"%s\": %s", shown, reason);
		return open_error(st);
	}
	if (!c->ex.read_only) {
		c->claim = claim_take(&c->ctx->claims, &c->ex, c->host, why,
		    whylen);
		if (c->claim == NULL) {
			export_close(&c->ex);
			return NBD_REP_ERR_POLICY;
		}
	}
	/* Contexts chosen for another export do not carry over. */
	if (c->meta && strcmp(c->meta_name, c->ex.name) != 0)
		c->meta = 0;
	c->tflags = export_flags(&c->ex, c->structured, c->ctx->multi_conn);
	return 0;
}

static void
log_export(struct hs *h, const char *how)
{
	struct conn *c = h->c;

	log_info("%s: export %s (%s, %llu bytes%s%s) via %s", c->peer,
	    c->ex.name, c->ex.read_only ? "read-only" : "read-write",
	    (unsigned long long)c->ex.size,
	    c->structured ? ", structured replies" : "",
	    c->meta ? ", base:allocation" : "", how);
}

static int
opt_export_name(struct hs *h, uint32_t len)
{
	uint8_t reply[HS_EXPORT_NAME_REPLY];
	char why[512];
	size_t n;

	/* No error reply exists for EXPORT_NAME: refusing is closing. */
	if (open_and_claim(h, (const char *)h->payload, len, why,
	    sizeof(why)) != 0) {
		log_info("%s: EXPORT_NAME refused, closing: %s", h->c->peer,
		    why);
		return -1;
	}
	n = hs_export_name_reply(reply, h->c->ex.size, h->c->tflags,
	    h->c->no_zeroes);
	if (sock_write_full(h->c->fd, reply, n, 0) == -1) {
		HS_LOG(h->c, "%s: handshake: sending: %s", h->c->peer,
		    strerror(errno));
		return -1;
	}
	log_export(h, "EXPORT_NAME");
	return 1;
}

static int
list_one(void *ctx, const char *name, size_t len)
{
	struct hs *h = ctx;

	if (hs_room(h, HS_REPLY_HDR_SIZE + 4 + len) == NULL)
		return -1;
	h->outlen += hs_reply_server(h->out + h->outlen,
	    REPLY_BUF - h->outlen, NBD_OPT_LIST, name, len);
	return 0;
}

static int
opt_list(struct hs *h, uint32_t len)
{
	if (len != 0)
		return reply_error(h, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
		    "LIST takes no data");
	if (export_list(h->c->ctx->rootfd, list_one, h) == -1)
		return reply_error(h, NBD_OPT_LIST, NBD_REP_ERR_PLATFORM,
		    "cannot read the export directory: %s", strerror(errno));
	return reply_simple(h, NBD_OPT_LIST, NBD_REP_ACK);
}

static int
opt_info_go(struct hs *h, uint32_t opt, uint32_t len)
{
	struct conn *c = h->c;
	struct hs_info_req r;
	char why[512], desc[300];
	uint32_t err;
	int want_name = 0, want_desc = 0, want_bs = 0;

	if (hs_parse_info(h->payload, len, &r) == -1)
		return reply_error(h, opt, NBD_REP_ERR_INVALID,
		    "malformed %s request", hs_option_name(opt));
	for (uint16_t i = 0; i < r.nreqs; i++) {
		switch (get16(r.reqs + 2 * i)) {
		case NBD_INFO_NAME:
			want_name = 1;
			break;
		case NBD_INFO_DESCRIPTION:
			want_desc = 1;
			break;
		case NBD_INFO_BLOCK_SIZE:
			want_bs = 1;
			break;
		}
	}
	if (opt == NBD_OPT_INFO) {
		/* INFO looks without claiming. */
		enum export_status st;
		const char *reason;
		char shown[300];

		if (r.namelen == 0)
			return reply_error(h, opt, NBD_REP_ERR_UNKNOWN,
			    "no default export: name one (LIST shows them)");
		st = export_open(c->ctx->rootfd, r.name, r.namelen, &c->ex,
		    &reason);
		if (st != EXPORT_OK) {
			loggable(shown, sizeof(shown), r.name, r.namelen);
			return reply_error(h, opt, open_error(st),
			    "export \"%s\": %s", shown, reason);
		}
		c->tflags = export_flags(&c->ex, c->structured,
		    c->ctx->multi_conn);
	} else if ((err = open_and_claim(h, r.name, r.namelen, why,
	    sizeof(why))) != 0)
		return reply_error(h, opt, err, "%s", why);

	QUEUE(h, HS_REPLY_HDR_SIZE + 12, hs_reply_info_export(o_,
	    REPLY_BUF - h->outlen, opt, c->ex.size, c->tflags));
	if (want_name)
		QUEUE(h, HS_REPLY_HDR_SIZE + 2 + strlen(c->ex.name),
		    hs_reply_info_string(o_, REPLY_BUF - h->outlen, opt,
		    NBD_INFO_NAME, c->ex.name, strlen(c->ex.name)));
	if (want_desc) {
		snprintf(desc, sizeof(desc), "%s%s%s", c->ex.name,
		    EXPORT_SUFFIX, c->ex.read_only ? " (read-only)" : "");
		QUEUE(h, HS_REPLY_HDR_SIZE + 2 + strlen(desc),
		    hs_reply_info_string(o_, REPLY_BUF - h->outlen, opt,
		    NBD_INFO_DESCRIPTION, desc, strlen(desc)));
	}
	if (want_bs)
		QUEUE(h, HS_REPLY_HDR_SIZE + 14, hs_reply_info_block_size(o_,
		    REPLY_BUF - h->outlen, opt, NBDD_MIN_BLOCK,
		    NBDD_PREF_BLOCK, NBDD_MAX_PAYLOAD));
	if (reply_simple(h, opt, NBD_REP_ACK) == -1)
		return -1;
	if (opt == NBD_OPT_INFO) {
		export_close(&c->ex);
		return 0;
	}
	log_export(h, "GO");
	return 1;
}

static int
opt_meta(struct hs *h, uint32_t opt, uint32_t len)
{
	struct conn *c = h->c;
	int listing = opt == NBD_OPT_LIST_META_CONTEXT;
	struct hs_meta_req r;
	struct export ex;
	enum export_status st;
	const char *reason, *q;
	uint32_t qlen;
	size_t pos = 0;
	int found = 0;

	if (!listing && !c->structured)
		return reply_error(h, opt, NBD_REP_ERR_INVALID,
		    "negotiate structured replies first");
	if (hs_parse_meta(h->payload, len, &r) == -1)
		return reply_error(h, opt, NBD_REP_ERR_INVALID,
		    "malformed %s request", hs_option_name(opt));
	st = export_open(c->ctx->rootfd, r.name, r.namelen, &ex, &reason);
	if (st != EXPORT_OK) {
		char shown[300];
		loggable(shown, sizeof(shown), r.name, r.namelen);
		return reply_error(h, opt, open_error(st),
		    "export \"%s\": %s", shown, reason);
	}
	export_close(&ex);
	if (listing && r.nqueries == 0)
		found = 1;
	while (!found && hs_meta_next(&r, &pos, &q, &qlen))
		found = hs_meta_matches(q, qlen, listing);
	if (!listing) {
		c->meta = found;
		memcpy(c->meta_name, r.name, r.namelen);
		c->meta_name[r.namelen] = '\0';
	}
	if (found)
		QUEUE(h, HS_REPLY_HDR_SIZE + 4 + 16,
		    hs_reply_meta_context(o_, REPLY_BUF - h->outlen, opt,
		    listing ? 0 : NBDD_META_ID_ALLOCATION,
		    NBDD_META_BASE_ALLOCATION));
	return reply_simple(h, opt, NBD_REP_ACK);
}

/* One option. -1 to close, 0 to go on haggling, 1 for transmission. */
static int
option(struct hs *h, uint32_t opt, uint32_t len)
{
	struct conn *c = h->c;

	if (c->refused) {
		/* Logged when it connected. Every option gets the reason, so
		 * a client that goes on to GO (as libnbd does) shows it to
		 * its user; a few are enough, and EXPORT_NAME, which has no
		 * error reply, or ABORT ends it. */
		if (opt == NBD_OPT_EXPORT_NAME || opt == NBD_OPT_ABORT ||
		    ++h->refusals > REFUSED_OPTIONS)
			return -1;
		return reply_error(h, opt, NBD_REP_ERR_POLICY,
		    "host %s is not in the networks this server allows "
		    "(nbdd -A)", c->host);
	}
	if (!h->fixed && opt != NBD_OPT_EXPORT_NAME) {
		log_info("%s: option %s from a client without fixed newstyle: "
		    "closing", c->peer, hs_option_name(opt));
		return -1;
	}
	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(h, len);
	case NBD_OPT_ABORT:
		/* The client may already be gone; that is fine. */
		(void)reply_simple(h, opt, NBD_REP_ACK);
		log_debug("%s: ABORT", c->peer);
		return -1;
	case NBD_OPT_LIST:
		return opt_list(h, len);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(h, opt, len);
	case NBD_OPT_STRUCTURED_REPLY:
		if (len != 0)
			return reply_error(h, opt, NBD_REP_ERR_INVALID,
			    "STRUCTURED_REPLY takes no data");
		c->structured = 1;
		return reply_simple(h, opt, NBD_REP_ACK);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(h, opt, len);
	case NBD_OPT_STARTTLS:
		return reply_error(h, opt, NBD_REP_ERR_POLICY,
		    "TLS is not offered by this server");
	default:
		return reply_error(h, opt, NBD_REP_ERR_UNSUP,
		    "option %u is not supported", opt);
	}
}

static const char *
read_error(void)
{
	if (errno == 0)
		return "client closed the connection";
	if (errno == ETIMEDOUT)
		return "timed out";
	return strerror(errno);
}

int
negotiate(struct conn *c)
{
	struct hs *h;
	uint8_t b[HS_OPTION_HDR_SIZE];
	struct hs_option o;
	uint32_t cflags;
	int rc = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->payload = malloc(NBDD_MAX_OPTION)) == NULL) {
		log_err("%s: handshake: out of memory", c->peer);
		free(h);
		return 0;
	}
	h->c = c;
	h->deadline = sock_now_ms() + (int64_t)c->ctx->timeout * 1000;
	/* A refused host gets a short while to read why, no more. */
	if (c->refused && c->ctx->timeout > REFUSED_TIMEOUT_S)
		h->deadline = sock_now_ms() + REFUSED_TIMEOUT_S * 1000;
	h->outlen = hs_greeting(h->out);
	if (hs_flush(h) == -1)
		goto out;
	if (sock_read_full(c->fd, b, 4, h->deadline) == -1) {
		HS_LOG(c, "%s: handshake: no client flags (%s); an oldstyle "
		    "client? nbdd speaks fixed newstyle only", c->peer,
		    read_error());
		goto out;
	}
	if (hs_parse_client_flags(b, &cflags) == -1) {
		HS_LOG(c, "%s: handshake: unknown client flags %#x "
		    "(oldstyle or broken client): closing", c->peer, cflags);
		goto out;
	}
	h->fixed = (cflags & NBD_FLAG_C_FIXED_NEWSTYLE) != 0;
	c->no_zeroes = (cflags & NBD_FLAG_C_NO_ZEROES) != 0;
	for (;;) {
		if (sock_read_full(c->fd, b, sizeof(b), h->deadline) == -1) {
			HS_LOG(c, "%s: handshake: %s", c->peer, read_error());
			break;
		}
		if (hs_parse_option(b, &o) == -1) {
			HS_LOG(c, "%s: handshake: bad option magic: closing",
			    c->peer);
			break;
		}
		log_trace("%s: option %s (%u), %u bytes", c->peer,
		    hs_option_name(o.opt), o.opt, o.len);
		if (o.len > NBDD_MAX_OPTION) {
			/* Never buffered. Discarding a little keeps the
			 * client in step; more is not worth the time. */
			if (o.len > NBDD_MAX_DISCARD ||
			    o.opt == NBD_OPT_EXPORT_NAME) {
				HS_LOG(c, "%s: %s option of %u bytes: closing",
				    c->peer, hs_option_name(o.opt), o.len);
				break;
			}
			if (sock_discard(c->fd, o.len, h->deadline) == -1) {
				HS_LOG(c, "%s: handshake: %s", c->peer,
				    read_error());
				break;
			}
			if (reply_error(h, o.opt, NBD_REP_ERR_TOO_BIG,
			    "option of %u bytes is longer than any this "
			    "server takes (%u)", o.len, NBDD_MAX_OPTION) == -1)
				break;
			continue;
		}
		if (sock_read_full(c->fd, h->payload, o.len, h->deadline) ==
		    -1) {
			HS_LOG(c, "%s: handshake: %s in the middle of %s",
			    c->peer, read_error(), hs_option_name(o.opt));
			break;
		}
		rc = option(h, o.opt, o.len);
		if (rc != 0)
			break;
	}
out:
	if (rc != 1) {
		claim_release(&c->ctx->claims, c->claim);
		c->claim = NULL;
		export_close(&c->ex);
		rc = 0;
	}
	free(h->payload);
	free(h);
	return rc;
}
