/* layer: pure */
/* The whole conversation with a host outside the allowed networks (-A),
 * as bytes: the greeting, then, to each of its first few options, the
 * reason it is refused, naming the host and the flag, so that a client
 * shows its user why (libnbd: "server error message: host 10.1.2.3 is not
 * in the networks this server allows (nbdd -A)"). Nothing else: no
 * export is named, opened or listed; a payload is skipped unread.
 * EXPORT_NAME (which has no error reply), ABORT, unknown client flags, a
 * bad option magic, an option longer than any served host may send, or
 * one option too many end it. Pure: turnaway.c feeds it what the host
 * sends and sends what it answers, from the main loop. */
#ifndef NBDD_REFUSAL_H
#define NBDD_REFUSAL_H

#include <stddef.h>
#include <stdint.h>

#include "nbdd/handshake.h"
#include "nbdd/namemax.h"

/* Options answered before the host is dropped: enough for any client to
 * reach the one whose error it shows. */
#define REFUSAL_OPTIONS_MAX	8
#define REFUSAL_MSG_MAX		(CLAIM_HOST_MAX + 64)
/* The most one call to refusal_feed writes. */
#define REFUSAL_REPLY_MAX	(HS_REPLY_HDR_SIZE + REFUSAL_MSG_MAX)

enum refusal_phase {
	REFUSAL_FLAGS,		/* the client's 4 bytes of flags */
	REFUSAL_HEADER,		/* an option's header */
	REFUSAL_PAYLOAD,	/* skipping its payload */
	REFUSAL_OVER,		/* send what was answered, then close */
};

struct refusal {
	enum refusal_phase phase;
	uint8_t hdr[HS_OPTION_HDR_SIZE];	/* flags, or a header, so far */
	size_t have;
	uint32_t skip;		/* payload bytes still to skip */
	int answered;		/* options refused so far */
	char msg[REFUSAL_MSG_MAX];
	size_t msglen;
};

/* host: the client's address as the message names it. */
void refusal_init(struct refusal *r, const char *host);

/* What to send first, before reading anything. */
size_t refusal_greeting(uint8_t out[HS_GREETING_SIZE]);

/* Takes bytes the host sent, in[0..len): returns how many it used,
 * stopping after an option's reply, which it writes to out (*outlen bytes;
 * 0 when there is none yet). Send the reply, then feed the rest. */
size_t refusal_feed(struct refusal *r, const uint8_t *in, size_t len,
    uint8_t out[REFUSAL_REPLY_MAX], size_t *outlen);

/* Whether the conversation is over: close once the last reply is sent. */
int refusal_over(const struct refusal *r);

#endif
