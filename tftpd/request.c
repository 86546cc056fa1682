#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tftpd/request.h"

/* The file name asked for, for "%.*s": it holds no NUL (the parser ends
 * it at one); say() makes the line printable. */
#define NAME(d)	(int)(d)->req.filename_len, (d)->req.filename

static void
say(struct request_decision *d, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the line d is logged with; a debug line only if it will be. The
 * name and the reasons in it come from the request, and a reason may
 * quote the request's path: the whole line is made printable. */
static void
say(struct request_decision *d, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	d->level = level;
	if (level >= LOG_LEVEL_DEBUG && !d->debug) {
		d->line[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(d->line, sizeof(d->line), fmt, ap);
	va_end(ap);
	packet_printable(d->line, sizeof(d->line), d->line, strlen(d->line));
}

static void
refuse(struct request_decision *d, uint16_t error, const char *message)
{
	d->action = REQUEST_REFUSE;
	d->error = error;
	d->message = message;
}

void
request_decide(const uint8_t *buf, size_t len, const struct request_facts *f,
    struct request_decision *d)
{
	enum packet_status ps;
	const char *why;
	int op;

	/* Field by field: the line alone is larger than everything else,
	 * and the parser and negotiation clear what they fill. */
	d->action = REQUEST_DROP;
	d->req.filename = NULL;
	d->req.filename_len = 0;
	d->debug = f->debug;
	d->error = 0;
	d->message = NULL;
	d->level = LOG_LEVEL_DEBUG;
	d->line[0] = '\0';
	d->message_buf[0] = '\0';
	op = packet_opcode(buf, len);
	if (op >= TFTP_DATA && op <= TFTP_OACK) {
		/* A stray packet of some transfer: not ours to answer. */
		say(d, LOG_LEVEL_DEBUG, "opcode %d on the request port, "
		    "dropped", op);
		return;
	}
	/* Before the request is parsed: a host we do not serve gets
	 * nothing but the refusal (the check logged it). */
	if (!f->host_allowed(f->ctx)) {
		refuse(d, TFTP_EACCESS,
		    "Access violation: this host is not served");
		return;
	}
	if ((ps = packet_parse_request(buf, len, &d->req)) != PKT_OK) {
		refuse(d, ps == PKT_REPEATED_OPTION ||
		    ps == PKT_TOO_MANY_OPTIONS ? TFTP_EOPTNEG : TFTP_EBADOP,
		    packet_status_str(ps));
		say(d, LOG_LEVEL_DEBUG, "bad request: %s",
		    packet_status_str(ps));
		return;
	}
	if (d->req.opcode == TFTP_WRQ) {
		refuse(d, TFTP_EACCESS, "Access violation: read-only server");
		say(d, LOG_LEVEL_INFO, "write request for %.*s refused: "
		    "read-only", NAME(d));
		return;
	}
	if (packet_negotiate(&d->req, &d->params, &why) != PKT_OK) {
		snprintf(d->message_buf, sizeof(d->message_buf),
		    "bad value for option %s", why);
		refuse(d, TFTP_EOPTNEG, d->message_buf);
		say(d, LOG_LEVEL_DEBUG, "%.*s: %s", NAME(d), d->message_buf);
		return;
	}
	if (f->ntransfers >= f->max_transfers) {
		refuse(d, TFTP_EUNDEF,
		    "Server busy: too many transfers, try again");
		say(d, LOG_LEVEL_INFO, "%.*s refused: %u transfers running",
		    NAME(d), f->ntransfers);
		return;
	}
	d->action = REQUEST_OPEN;
}

void
request_opened(struct request_decision *d, enum source_status st,
    const char *why)
{
	int has_why = why != NULL && why[0] != '\0';

	switch (st) {
	case SOURCE_OK:
		return;
	case SOURCE_NOT_FOUND:
		refuse(d, TFTP_ENOTFOUND, NULL);
		/* A Pi probes for optional files all the time: a miss is
		 * quiet, a name that is there but never served is not. */
		if (has_why)
			say(d, LOG_LEVEL_INFO, "%.*s: %s: refused", NAME(d),
			    why);
		else
			say(d, LOG_LEVEL_DEBUG, "%.*s: not found", NAME(d));
		return;
	case SOURCE_BROKEN:
		/* The client cannot help it: "file not found", and the
		 * administrator is told what to repair. */
		refuse(d, TFTP_ENOTFOUND, NULL);
		say(d, LOG_LEVEL_WARN, "%.*s: %s", NAME(d),
		    has_why ? why : "its entry cannot be read as an image");
		return;
	case SOURCE_DENIED:
		refuse(d, TFTP_EACCESS, NULL);
		say(d, LOG_LEVEL_INFO, "%.*s: access violation%s%s", NAME(d),
		    has_why ? ": " : "", has_why ? why : "");
		return;
	case SOURCE_ERROR:
	default:
		refuse(d, TFTP_EUNDEF, "Cannot open file");
		say(d, LOG_LEVEL_WARN, "%.*s: cannot open%s%s", NAME(d),
		    has_why ? ": " : "", has_why ? why : "");
		return;
	}
}

int
request_log_admit(const struct request_decision *d, struct ratelimit *rl,
    uint64_t now_ms, uint32_t *held)
{
	*held = 0;
	if (d->line[0] == '\0')
		return 0;
	if (d->level >= LOG_LEVEL_DEBUG)
		return 1;
	return ratelimit_take(rl, now_ms, held);
}
