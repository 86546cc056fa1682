/* layer: state */
/* The handshake's decisions: what to answer to each option, and what the
 * I/O layer must do next (read another option, close, open an export,
 * list the exports, start transmission). No sockets, no files: the I/O
 * layer (negotiate.c) reads an option, asks opt_decide(), sends the reply
 * bytes it gets, and comes back with what it found when it was asked to
 * open or list something. Unit tests and the fuzzer drive it directly. */
#ifndef NBDD_OPTIONS_H
#define NBDD_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "nbdd/namemax.h"
#include "nbdd/request.h"

/* Every call writes at most this many reply bytes into its out buffer. */
#define OPT_REPLY_MAX		1024

/* NBD over TLS, as doc/proto.md's server modes. */
enum opt_tls {
	OPT_TLS_OFF,		/* NOTLS: STARTTLS refused (no credentials) */
	OPT_TLS_ALLOWED,	/* SELECTIVETLS with no TLS-only export: the
				 * client may start TLS, or not */
	OPT_TLS_REQUIRED,	/* FORCEDTLS: before TLS every option but
				 * STARTTLS and ABORT gets ERR_TLS_REQD, and
				 * EXPORT_NAME closes */
};

/* What the handshake knows before the first option. */
struct opt_config {
	int multi_conn;		/* CAN_MULTI_CONN may be advertised */
	enum opt_tls tls;
};

enum opt_action {
	OPT_HAGGLE,		/* send the reply, read the next option */
	OPT_CLOSE,		/* send the reply (if any), then close */
	OPT_OPEN,		/* open the export named, then opt_opened() */
	OPT_LIST,		/* opt_list_entry() per export, then
				 * opt_listed() */
	OPT_TRANSMIT,		/* send the reply, start transmission */
	OPT_STARTTLS,		/* throw away any plaintext that came after
				 * the option, send the reply (the ACK),
				 * run the TLS handshake, then
				 * opt_tls_started() and read the next
				 * option; a failed handshake closes */
};

/* Why an export is opened. GO and EXPORT_NAME serve it (and so claim it
 * when it is writable, or get the host's overlay when it is a shared
 * base); INFO and the META_CONTEXT options only look. */
enum opt_purpose {
	OPT_FOR_INFO,
	OPT_FOR_GO,
	OPT_FOR_EXPORT_NAME,
	OPT_FOR_META,
};

/* What the log should say about a decision; the I/O layer words it. */
enum opt_note {
	OPT_NOTE_NONE,
	OPT_NOTE_REFUSED,	/* an error reply (or, for EXPORT_NAME, a
				 * close) for the reason in why */
	OPT_NOTE_TOO_LONG,	/* closing: an option too long to discard */
	OPT_NOTE_NOT_FIXED,	/* closing: an option from a client without
				 * fixed newstyle */
	OPT_NOTE_ABORT,		/* the client said goodbye */
};

struct opt_decision {
	enum opt_action action;
	uint32_t opt;		/* the option decided on */
	size_t replylen;	/* reply bytes written to out, to be sent */
	uint32_t discard;	/* payload bytes to read and drop first */
	enum opt_note note;
	const char *why;	/* OPT_NOTE_REFUSED: the reason, as sent */
	/* OPT_OPEN: the name as the client sent it (pointing into the
	 * payload), and whether to claim the export when writable (or take
	 * the host's overlay over a shared base). */
	const char *name;
	size_t namelen;
	enum opt_purpose purpose;
	int claim;
};

/* What the I/O layer found when it opened (and, when asked, claimed) the
 * export. */
enum opt_open_status {
	OPT_OPEN_OK,
	OPT_OPEN_BAD_NAME,	/* not a name nbdd serves */
	OPT_OPEN_NOT_FOUND,	/* no such image */
	OPT_OPEN_ERROR,		/* there, but it cannot be opened */
	OPT_OPEN_CLAIMED,	/* another host writes to it */
	OPT_OPEN_DENIED,	/* the TLS identity may not open it
				 * (tlsauth.h); why is the rule's reason */
	OPT_OPEN_UNWRITABLE,	/* its mode says writable, but nbdd cannot
				 * write it (imagekind.h); why names the
				 * fix */
};

struct opt_opened {
	enum opt_open_status status;
	/* For a failure: the reason. OPT_OPEN_CLAIMED's is the whole
	 * message (it names the holder); the others are prefixed with the
	 * export's name. */
	const char *why;
	uint64_t size;		/* for GO and EXPORT_NAME on a shared base,
				 * the size of the host's overlay */
	int shared_base;	/* an image nbdd may not write: served all
				 * the same, writable, through the host's
				 * copy-on-write overlay */
	int blockdev;
};

/* The option waiting for an export to be opened or listed. */
struct opt_pending {
	enum opt_action action;	/* OPT_OPEN, OPT_LIST, or OPT_HAGGLE when
				 * nothing waits */
	uint32_t opt;
	enum opt_purpose purpose;
	int want_name;		/* INFO/GO: information asked for */
	int want_desc;
	int want_block_size;
	int meta_found;		/* META_CONTEXT: base:allocation matched */
	/* The name asked for: its first EXPORT_NAME_MAX bytes, and its
	 * whole length. */
	char name[EXPORT_NAME_MAX + 1];
	size_t namelen;
};

struct opt_state {
	struct opt_config cfg;
	int fixed;		/* fixed newstyle client */
	int no_zeroes;
	int tls;		/* TLS is up (opt_tls_started) */
	int structured;		/* structured replies negotiated */
	int meta;		/* base:allocation selected ... */
	char meta_name[EXPORT_NAME_MAX + 1];	/* ... for this export */
	struct opt_pending pending;
	/* The export served, once OPT_TRANSMIT was decided. */
	char name[EXPORT_NAME_MAX + 1];
	uint64_t size;
	int shared_base;
	uint16_t tflags;	/* transmission flags sent */
	char msg[512];		/* the last error message */
};

void opt_init(struct opt_state *st, const struct opt_config *cfg);

/* The client's flags after the greeting: 0, or -1 when a bit we do not
 * know is set (the connection must then be closed). */
int opt_client_flags(struct opt_state *st, const uint8_t in[4],
    uint32_t *flags);

/* One option. payload holds the len bytes received, or is NULL when len
 * is over NBDD_MAX_OPTION: such a payload is never buffered, and the
 * decision says whether to discard it (d->discard) or close. */
void opt_decide(struct opt_state *st, uint32_t opt, const uint8_t *payload,
    uint32_t len, uint8_t out[OPT_REPLY_MAX], struct opt_decision *d);

/* After OPT_STARTTLS: the TLS handshake succeeded. What was negotiated
 * in the clear is forgotten (structured replies, meta contexts), as
 * proto.md wants, and every option is answered from now on. */
void opt_tls_started(struct opt_state *st);

/* After OPT_OPEN: what was found. The export stays open only if the
 * decision is OPT_TRANSMIT. */
void opt_opened(struct opt_state *st, const struct opt_opened *res,
    uint8_t out[OPT_REPLY_MAX], struct opt_decision *d);

/* After OPT_LIST: one export's entry, its bytes written to out (0 when
 * nothing is listed for it). */
size_t opt_list_entry(struct opt_state *st, const char *name, size_t len,
    uint8_t out[OPT_REPLY_MAX]);
/* ... and the end of the list: why is NULL when the root was read, else
 * the reason it could not be. */
void opt_listed(struct opt_state *st, const char *why,
    uint8_t out[OPT_REPLY_MAX], struct opt_decision *d);

/* Once OPT_TRANSMIT was decided: what requests are checked against. */
void opt_caps(const struct opt_state *st, struct req_export *caps);

/* Transmission flags that tell the truth about an export. nbdd serves
 * every export writable (a shared base through an overlay), so it asks
 * with read_only 0; the flag stays for the protocol's sake. */
uint16_t opt_transmission_flags(int read_only, int structured,
    int multi_conn);

#endif
