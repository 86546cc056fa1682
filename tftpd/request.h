/* layer: pure */
/* The request port's decisions. For a datagram that arrived there: drop
 * it, refuse it (which TFTP error, which log line) or open its name with
 * the negotiated parameters; once the name was looked up, what the
 * outcome of the lookup gets. Pure: the host check and the open are the
 * I/O layer's (listener.c), which passes their results in and logs the
 * line each decision carries. */
#ifndef TFTPD_REQUEST_H
#define TFTPD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/loglevel.h"
#include "common/ratelimit.h"
#include "tftpd/packet.h"
#include "tftpd/source.h"

/* The request port's log lines, at most one per request, are caused by
 * whoever sends requests: this many may come at once (a lab trying out
 * its entries, a boot storm against a damaged image, each logged), then
 * this many a minute; the next line that gets through says how many were
 * held back. Debug lines (-v) are not counted: they were asked for. */
#define REQUEST_LOG_BURST	200
#define REQUEST_LOG_PER_MIN	60

#define REQUEST_LINE_LEN	(TFTPD_PATH_MAX + SOURCE_WHY_LEN + 96)

enum request_action {
	REQUEST_OPEN,		/* open name; transfer with params */
	REQUEST_REFUSE,		/* answer ERROR error, message */
	REQUEST_DROP,		/* answer nothing */
};

/* What the event loop knows when a datagram arrives. */
struct request_facts {
	unsigned ntransfers;		/* transfers running */
	unsigned max_transfers;		/* -m */
	int debug;			/* debug lines are logged (-v): only
					 * then are they written */
	/* Whether the sender is served (-A): 1 or 0. Called once, only for
	 * a datagram that will be answered, before its bytes are parsed: a
	 * host that is not served learns nothing else. It logs its own
	 * refusal. */
	int (*host_allowed)(void *ctx);
	void *ctx;
};

struct request_decision {
	enum request_action action;
	struct tftp_request req;	/* as parsed (filename NULL before);
					 * points into the datagram */
	struct tftp_params params;	/* REQUEST_OPEN: as negotiated */
	int debug;			/* facts.debug */
	uint16_t error;			/* REQUEST_REFUSE: the TFTP error code */
	const char *message;		/* ... and its text; NULL: the RFC's */
	/* The line to log after the client's address and ": ", at level;
	 * "" for none. It is printable: control bytes (in a name, or in a
	 * reason quoting it) are '?', so a request cannot forge a line. */
	enum log_level level;
	char line[REQUEST_LINE_LEN];
	char message_buf[64];
};

/* Decides what the datagram buf (len bytes) gets: a stray DATA, ACK,
 * ERROR or OACK of some transfer is dropped; a host that is not served,
 * a malformed request (EBADOP, or EOPTNEG for options repeated or too
 * many), a write request, a bad option value (EOPTNEG) and a request
 * beyond max_transfers are refused; any other request is opened. */
void request_decide(const uint8_t *buf, size_t len,
    const struct request_facts *f, struct request_decision *d);

/* After REQUEST_OPEN, the outcome of looking the name up: status st and
 * the source's reason why ("" or NULL for none). SOURCE_OK keeps d as it
 * is; any other status makes d a refusal with its error and line. */
void request_opened(struct request_decision *d, enum source_status st,
    const char *why);

/* Whether d's line is logged now, given the bucket rl and the time:
 * 0 when it has none or the bucket is empty (it is then counted as held
 * back); 1, with *held the lines held back before it, when it may be. */
int request_log_admit(const struct request_decision *d,
    struct ratelimit *rl, uint64_t now_ms, uint32_t *held);

#endif
