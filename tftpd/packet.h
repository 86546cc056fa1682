/* layer: pure */
/* The TFTP wire format: requests, ACKs and ERRORs parsed from bytes into
 * structs; DATA headers, OACKs and ERRORs built into buffers. Nothing here
 * touches a socket, a file or global state. */
#ifndef TFTPD_PACKET_H
#define TFTPD_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "tftpd/proto.h"

/* Why a packet was refused. */
enum packet_status {
	PKT_OK = 0,
	PKT_TRUNCATED,		/* shorter than its opcode needs */
	PKT_BAD_OPCODE,		/* not an opcode this parser takes */
	PKT_NO_NUL,		/* a string runs off the end */
	PKT_EMPTY_NAME,		/* RRQ or WRQ without a file name */
	PKT_NAME_TOO_LONG,	/* longer than TFTPD_PATH_MAX */
	PKT_BAD_MODE,		/* not octet or netascii */
	PKT_TOO_MANY_OPTIONS,
	PKT_REPEATED_OPTION,
	PKT_BAD_OPTION,		/* an option value is out of range */
};

/* One option as received; both strings point into the packet. */
struct tftp_option {
	const char *name;
	const char *value;
};

struct tftp_request {
	int opcode;			/* TFTP_RRQ or TFTP_WRQ */
	const char *filename;		/* points into the packet */
	size_t filename_len;
	int netascii;			/* mode netascii, else octet */
	struct tftp_option opts[TFTPD_OPTIONS_MAX];
	size_t nopts;
};

/* What the server agreed to. A field's *_asked flag says the client sent
 * the option, so the OACK answers it. */
struct tftp_params {
	unsigned blksize;
	unsigned windowsize;
	unsigned timeout;		/* seconds */
	int blksize_asked;
	int windowsize_asked;
	int timeout_asked;
	int tsize_asked;
};

/* A human-readable reason for a status, for log lines and ERROR text. */
const char *packet_status_str(enum packet_status st);

/* The opcode of a packet, or -1 when it is shorter than two bytes. */
int packet_opcode(const uint8_t *buf, size_t len);

/* Parses an RRQ or WRQ. The packet buffer must outlive req. Option names
 * are compared without case; options tftpd does not know are kept too
 * (negotiation ignores them), repeated ones are refused. */
enum packet_status packet_parse_request(const uint8_t *buf, size_t len,
    struct tftp_request *req);

/* Turns the request's options into parameters: defaults for what was not
 * asked, values clamped where the RFCs let the server answer smaller
 * (blksize above 65464, windowsize beyond what tftpd keeps in memory),
 * PKT_BAD_OPTION for values no RFC allows (blksize below 8, timeout
 * outside 1-255, windowsize 0, tsize not a decimal number); *why then
 * names the option. */
enum packet_status packet_negotiate(const struct tftp_request *req,
    struct tftp_params *p, const char **why);

/* Parses an ACK: stores its block number. */
enum packet_status packet_parse_ack(const uint8_t *buf, size_t len,
    uint16_t *block);

/* Parses an ERROR: stores its code and copies its message into msg (at
 * most msgsz - 1 bytes, always terminated, unprintable bytes as '?'). A
 * missing terminator is tolerated: the message ends with the packet. */
enum packet_status packet_parse_error(const uint8_t *buf, size_t len,
    uint16_t *code, char *msg, size_t msgsz);

/* Writes the 4-byte DATA header for a block number. */
void packet_data_header(uint8_t hdr[TFTP_HDR_LEN], uint16_t block);

/* Builds an ERROR; a NULL msg takes the RFC's text for the code. Returns
 * the length (the message is cut to fit), or 0 if cap is under 5. */
size_t packet_build_error(uint8_t *buf, size_t cap, uint16_t code,
    const char *msg);

/* Builds an OACK answering the options in p that were asked, tsize with
 * the value given (tsize_known 0 leaves tsize out). Returns the length, or
 * 0 if it does not fit cap. */
size_t packet_build_oack(uint8_t *buf, size_t cap,
    const struct tftp_params *p, int tsize_known, uint64_t tsize);

/* Builds an RRQ (for tests and fuzzers): file, mode, then name/value
 * pairs. Returns the length or 0 if it does not fit. */
size_t packet_build_request(uint8_t *buf, size_t cap, int opcode,
    const char *file, const char *mode, const char *const *opts,
    size_t nopts);

/* The RFC's text for an error code. */
const char *packet_error_text(uint16_t code);

/* Copies text (len bytes, from a packet) into out (outlen bytes, at
 * least 1) for log lines: control bytes become '?', so a file name cannot
 * start a forged line; other bytes (UTF-8) stay. Cut to fit; out may be
 * text itself. */
void packet_printable(char *out, size_t outlen, const char *text,
    size_t len);

#endif
