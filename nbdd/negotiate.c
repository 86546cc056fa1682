/* The handshake driver: reads options, carries out what options.c decides
 * (opening and claiming exports through hold.c, listing them) and sends
 * the replies it builds. Everything read here is bounded: a whole
 * handshake must finish within the timeout, and no option payload longer
 * than NBDD_MAX_OPTION is ever buffered. After STARTTLS everything goes
 * through TLS (c->tp), and nothing read is kept across it: options are
 * read exactly, so the only plaintext there can be is what waits in the
 * socket, and that is thrown away unread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "nbdd/ctx.h"
#include "nbdd/handshake.h"
#include "nbdd/hold.h"
#include "nbdd/negotiate.h"
#include "nbdd/options.h"
#include "nbdd/proto.h"
#include "nbdd/rbdexport.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/transport.h"

#define REPLY_BUF	8192

struct hs {
	struct conn *c;
	struct opt_state st;
	int64_t deadline;
	uint8_t *payload;	/* NBDD_MAX_OPTION bytes */
	uint8_t out[REPLY_BUF];
	size_t outlen;
	int send_failed;	/* while listing */
	int quiet;		/* the refusal was logged, rate-limited */
};

/* How a handshake ends. */
enum hs_end {
	HS_HAGGLE,		/* not yet: read the next option */
	HS_CLOSE,
	HS_TRANSMIT,
};

static int
hs_flush(struct hs *h)
{
	if (h->outlen == 0)
		return 0;
	if (tp_write_full(&h->c->tp, h->out, h->outlen, 0) == -1) {
		log_info("%s: handshake: sending: %s", h->c->peer,
		    tp_strerror(&h->c->tp, errno));
		return -1;
	}
	h->outlen = 0;
	return 0;
}

/* Room for the longest reply the pure layer builds, flushing what is
 * queued. */
static uint8_t *
hs_room(struct hs *h)
{
	if (REPLY_BUF - h->outlen < OPT_REPLY_MAX && hs_flush(h) == -1)
		return NULL;
	return h->out + h->outlen;
}

/* Why a read failed, for log lines: a peer gone, at a message boundary
 * (n == 0) or part way (ECONNRESET), closed the connection. */
static const char *
read_error(const struct hs *h, ssize_t n)
{
	if (n == 0 || errno == ECONNRESET)
		return "client closed the connection";
	if (errno == ETIMEDOUT)
		return "timed out";
	return tp_strerror(&h->c->tp, errno);
}

/* Lets go of an export opened for an option that did not end in
 * transmission. */
static void
close_export(struct hs *h)
{
	hold_release(h->c);
}

static int
list_one(void *ctx, const char *name, size_t len)
{
	struct hs *h = ctx;
	uint8_t *o;

	if (!hold_listable(h->c, name, len))
		return 0;
	if ((o = hs_room(h)) == NULL) {
		h->send_failed = 1;
		return -1;
	}
	h->outlen += opt_list_entry(&h->st, name, len, o);
	return 0;
}

/* Lists the exports into the reply queue; what comes after the list is
 * decided into d. -1 when sending failed. */
static int
list_exports(struct hs *h, struct opt_decision *d)
{
	const char *why = NULL;
	uint8_t *o;

	h->send_failed = 0;
	if (export_list(h->c->ctx->rootfd, list_one, h) == -1)
		why = strerror(errno);
	if (h->send_failed || (o = hs_room(h)) == NULL)
		return -1;
	opt_listed(&h->st, why, o, d);
	return 0;
}

static void
log_note(struct hs *h, const struct opt_decision *d, uint32_t len)
{
	struct conn *c = h->c;

	switch (d->note) {
	case OPT_NOTE_NONE:
		break;
	case OPT_NOTE_REFUSED:
		if (h->quiet)
			log_debug("%s: %s refused%s: %s", c->peer,
			    hs_option_name(d->opt),
			    d->action == OPT_CLOSE ? ", closing" : "", d->why);
		else
			log_info("%s: %s refused%s: %s", c->peer,
			    hs_option_name(d->opt),
			    d->action == OPT_CLOSE ? ", closing" : "", d->why);
		h->quiet = 0;
		break;
	case OPT_NOTE_TOO_LONG:
		log_info("%s: %s option of %u bytes: closing", c->peer,
		    hs_option_name(d->opt), len);
		break;
	case OPT_NOTE_NOT_FIXED:
		log_info("%s: option %s from a client without fixed newstyle: "
		    "closing", c->peer, hs_option_name(d->opt));
		break;
	case OPT_NOTE_ABORT:
		log_debug("%s: ABORT", c->peer);
		break;
	}
}

static void
log_export(struct hs *h, uint32_t opt)
{
	struct conn *c = h->c;

	log_info("%s: export %s (%s%s%s, %llu bytes%s%s) via %s", c->peer,
	    c->ex.name, c->ovl != NULL ? "shared base, through the host's "
	    "overlay" : "read-write", c->ex.rbd != NULL ? ", in Ceph as " :
	    "", c->ex.rbd != NULL ? c->ex.rbd->str : "",
	    (unsigned long long)h->st.size,
	    h->st.structured ? ", structured replies" : "",
	    h->st.meta ? ", base:allocation" : "", hs_option_name(opt));
}

/* STARTTLS acknowledged (the ACK queued): whatever plaintext came with
 * or after the option is thrown away unread, so no one can slip options
 * in ahead of the handshake; then the ACK, then the handshake, which
 * must finish by the handshake's deadline. */
static enum hs_end
start_tls(struct hs *h)
{
	struct conn *c = h->c;
	char why[512], desc[64];
	const char *who;
	ssize_t junk;

	if ((junk = sock_drain(c->fd, NBDD_MAX_DISCARD)) == -1) {
		log_info("%s: STARTTLS: %s: closing", c->peer,
		    errno == EMSGSIZE ? "a flood of plaintext after it" :
		    strerror(errno));
		return HS_CLOSE;
	}
	if (junk > 0)
		log_info("%s: STARTTLS: %zd bytes of plaintext sent after it, "
		    "before TLS began: thrown away unread", c->peer, junk);
	if (hs_flush(h) == -1)
		return HS_CLOSE;
	if (tp_starttls(&c->tp, c->ctx->tls, h->deadline, why,
	    sizeof(why)) == -1) {
		log_info("%s: TLS: %s: closing", c->peer, why);
		return HS_CLOSE;
	}
	opt_tls_started(&h->st);
	tls_describe(c->tp.tls, desc, sizeof(desc));
	who = tp_identity(&c->tp);
	log_info("%s: TLS: %s, %s%s", c->peer, desc, who ? "identity " :
	    "no client identity", who ? who : "");
	return HS_HAGGLE;
}

/* Carries out a decision on an option of len bytes, and those it leads
 * to, until the option is answered. */
static enum hs_end
carry_out(struct hs *h, struct opt_decision *d, uint32_t len)
{
	struct conn *c = h->c;
	struct opt_opened res;
	char why[512];
	uint8_t *o;

	for (;;) {
		if (d->discard > 0 && tp_discard(&c->tp, d->discard,
		    h->deadline) == -1) {
			log_info("%s: handshake: %s", c->peer,
			    read_error(h, -1));
			return HS_CLOSE;
		}
		log_note(h, d, len);
		h->outlen += d->replylen;
		switch (d->action) {
		case OPT_HAGGLE:
			return hs_flush(h) == -1 ? HS_CLOSE : HS_HAGGLE;
		case OPT_CLOSE:
			(void)hs_flush(h);
			return HS_CLOSE;
		case OPT_STARTTLS:
			return start_tls(h);
		case OPT_TRANSMIT:
			/* Before the client reads that it is in: it may
			 * open its next connection at once. */
			if (c->start->established != NULL)
				c->start->established(c->start->arg);
			if (hs_flush(h) == -1)
				return HS_CLOSE;
			log_export(h, d->opt);
			return HS_TRANSMIT;
		case OPT_OPEN:
			hold_open(c, d->name, d->namelen, d->claim,
			    &h->quiet, &res, why, sizeof(why));
			if ((o = hs_room(h)) == NULL)
				return HS_CLOSE;
			opt_opened(&h->st, &res, o, d);
			if (d->action != OPT_TRANSMIT)
				close_export(h);
			break;
		case OPT_LIST:
			if (list_exports(h, d) == -1)
				return HS_CLOSE;
			break;
		}
	}
}

/* One option: its header read, its payload read unless too long. */
static enum hs_end
option(struct hs *h, const struct hs_option *o)
{
	struct conn *c = h->c;
	struct opt_decision d;
	const uint8_t *payload = NULL;
	uint8_t *out;
	ssize_t n;

	if (o->len <= NBDD_MAX_OPTION) {
		if (o->len > 0 && (n = tp_read_full(&c->tp, h->payload,
		    o->len, h->deadline)) != (ssize_t)o->len) {
			log_info("%s: handshake: %s in the middle of %s",
			    c->peer, read_error(h, n), hs_option_name(o->opt));
			return HS_CLOSE;
		}
		payload = h->payload;
	}
	if ((out = hs_room(h)) == NULL)
		return HS_CLOSE;
	opt_decide(&h->st, o->opt, payload, o->len, out, &d);
	return carry_out(h, &d, o->len);
}

int
negotiate(struct conn *c)
{
	struct opt_config cfg = { .multi_conn = c->ctx->multi_conn,
	    .tls = c->ctx->tls_mode };
	struct hs *h;
	uint8_t b[HS_OPTION_HDR_SIZE];
	struct hs_option o;
	uint32_t cflags;
	enum hs_end end = HS_CLOSE;
	ssize_t n;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->payload = malloc(NBDD_MAX_OPTION)) == NULL) {
		log_err("%s: handshake: out of memory", c->peer);
		free(h);
		return -1;
	}
	h->c = c;
	opt_init(&h->st, &cfg);
	h->deadline = sock_now_ms() + (int64_t)c->ctx->timeout * 1000;
	h->outlen = hs_greeting(h->out);
	if (hs_flush(h) == -1)
		goto out;
	if ((n = tp_read_full(&c->tp, b, 4, h->deadline)) != 4) {
		log_info("%s: handshake: no client flags (%s); an oldstyle "
		    "client? nbdd speaks fixed newstyle only", c->peer,
		    read_error(h, n));
		goto out;
	}
	if (opt_client_flags(&h->st, b, &cflags) == -1) {
		log_info("%s: handshake: unknown client flags %#x "
		    "(oldstyle or broken client): closing", c->peer, cflags);
		goto out;
	}
	for (;;) {
		if ((n = tp_read_full(&c->tp, b, sizeof(b), h->deadline)) !=
		    sizeof(b)) {
			log_info("%s: handshake: %s", c->peer,
			    read_error(h, n));
			break;
		}
		if (hs_parse_option(b, &o) == -1) {
			log_info("%s: handshake: bad option magic: closing",
			    c->peer);
			break;
		}
		log_trace("%s: option %s (%u), %u bytes", c->peer,
		    hs_option_name(o.opt), o.opt, o.len);
		if ((end = option(h, &o)) != HS_HAGGLE)
			break;
	}
out:
	if (end == HS_TRANSMIT)
		opt_caps(&h->st, &c->caps);
	else
		close_export(h);
	free(h->payload);
	free(h);
	return end == HS_TRANSMIT ? 0 : -1;
}
