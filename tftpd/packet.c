#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/byteorder.h"
#include "tftpd/packet.h"

const char *
packet_status_str(enum packet_status st)
{
	switch (st) {
	case PKT_OK:			return "ok";
	case PKT_TRUNCATED:		return "truncated packet";
	case PKT_BAD_OPCODE:		return "unknown opcode";
	case PKT_NO_NUL:		return "string without terminator";
	case PKT_EMPTY_NAME:		return "empty file name";
	case PKT_NAME_TOO_LONG:		return "file name too long";
	case PKT_BAD_MODE:		return "unknown transfer mode";
	case PKT_TOO_MANY_OPTIONS:	return "too many options";
	case PKT_REPEATED_OPTION:	return "repeated option";
	case PKT_BAD_OPTION:		return "bad option value";
	}
	return "unknown status";
}

const char *
packet_error_text(uint16_t code)
{
	switch (code) {
	case TFTP_ENOTFOUND:	return "File not found";
	case TFTP_EACCESS:	return "Access violation";
	case TFTP_ENOSPACE:	return "Disk full or allocation exceeded";
	case TFTP_EBADOP:	return "Illegal TFTP operation";
	case TFTP_EBADID:	return "Unknown transfer ID";
	case TFTP_EEXISTS:	return "File already exists";
	case TFTP_ENOUSER:	return "No such user";
	case TFTP_EOPTNEG:	return "Option negotiation failed";
	}
	return "Undefined error";
}

int
packet_opcode(const uint8_t *buf, size_t len)
{
	if (len < 2)
		return -1;
	return get16(buf);
}

/* The NUL-terminated string starting at *pos, or NULL when it runs off the
 * end of the packet. Advances *pos past the terminator. */
static const char *
next_string(const uint8_t *buf, size_t len, size_t *pos, size_t *slen)
{
	const uint8_t *start = buf + *pos, *nul;

	if (*pos >= len)
		return NULL;
	if ((nul = memchr(start, '\0', len - *pos)) == NULL)
		return NULL;
	*slen = (size_t)(nul - start);
	*pos += *slen + 1;
	return (const char *)start;
}

enum packet_status
packet_parse_request(const uint8_t *buf, size_t len, struct tftp_request *req)
{
	const char *mode, *name, *value;
	size_t pos = 2, slen;
	int op = packet_opcode(buf, len);

	memset(req, 0, sizeof(*req));
	if (op == -1)
		return PKT_TRUNCATED;
	if (op != TFTP_RRQ && op != TFTP_WRQ)
		return PKT_BAD_OPCODE;
	req->opcode = op;
	if (len == 2)
		return PKT_TRUNCATED;
	if ((req->filename = next_string(buf, len, &pos, &slen)) == NULL)
		return PKT_NO_NUL;
	req->filename_len = slen;
	if (slen == 0)
		return PKT_EMPTY_NAME;
	if (slen > TFTPD_PATH_MAX)
		return PKT_NAME_TOO_LONG;
	if (pos == len)
		return PKT_TRUNCATED;
	if ((mode = next_string(buf, len, &pos, &slen)) == NULL)
		return PKT_NO_NUL;
	if (strcasecmp(mode, "netascii") == 0)
		req->netascii = 1;
	else if (strcasecmp(mode, "octet") != 0)
		return PKT_BAD_MODE;
	/* Options: name/value pairs to the end of the packet. Some clients
	 * pad with NULs, so a lone empty string at the end is tolerated. */
	while (pos < len) {
		if ((name = next_string(buf, len, &pos, &slen)) == NULL)
			return PKT_NO_NUL;
		if (slen == 0 && pos == len)
			break;
		if ((value = next_string(buf, len, &pos, &slen)) == NULL)
			return PKT_NO_NUL;
		for (size_t i = 0; i < req->nopts; i++)
			if (strcasecmp(req->opts[i].name, name) == 0)
				return PKT_REPEATED_OPTION;
		if (req->nopts == TFTPD_OPTIONS_MAX)
			return PKT_TOO_MANY_OPTIONS;
		req->opts[req->nopts].name = name;
		req->opts[req->nopts].value = value;
		req->nopts++;
	}
	return PKT_OK;
}

/* A decimal number with no sign, no spaces and no trailing bytes, at most
 * max. Returns 0 and stores it, or -1. */
static int
parse_decimal(const char *s, unsigned long long max, unsigned long long *v)
{
	unsigned long long n = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (max - (unsigned)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned)(*s - '0');
	}
	*v = n;
	return 0;
}

enum packet_status
packet_negotiate(const struct tftp_request *req, struct tftp_params *p,
    const char **why)
{
	unsigned long long v;
	const char *name, *value;

	memset(p, 0, sizeof(*p));
	p->blksize = TFTP_DEFAULT_BLKSIZE;
	p->windowsize = 1;
	p->timeout = TFTPD_DEFAULT_TIMEOUT;
	*why = NULL;
	for (size_t i = 0; i < req->nopts; i++) {
		name = req->opts[i].name;
		value = req->opts[i].value;
		if (strcasecmp(name, "blksize") == 0) {
			/* Any huge number is "larger than the server can
			 * handle": answer the maximum. */
			if (parse_decimal(value, ~0ULL, &v) == -1 ||
			    v < TFTP_BLKSIZE_MIN) {
				*why = "blksize";
				return PKT_BAD_OPTION;
			}
			p->blksize = v > TFTP_BLKSIZE_MAX ? TFTP_BLKSIZE_MAX :
			    (unsigned)v;
			p->blksize_asked = 1;
		} else if (strcasecmp(name, "windowsize") == 0) {
			if (parse_decimal(value, ~0ULL, &v) == -1 ||
			    v < TFTP_WINDOWSIZE_MIN || v > TFTP_WINDOWSIZE_MAX) {
				*why = "windowsize";
				return PKT_BAD_OPTION;
			}
			p->windowsize = (unsigned)v;
			p->windowsize_asked = 1;
		} else if (strcasecmp(name, "timeout") == 0) {
			if (parse_decimal(value, TFTP_TIMEOUT_MAX, &v) == -1 ||
			    v < TFTP_TIMEOUT_MIN) {
				*why = "timeout";
				return PKT_BAD_OPTION;
			}
			p->timeout = (unsigned)v;
			p->timeout_asked = 1;
		} else if (strcasecmp(name, "tsize") == 0) {
			/* A reader sends 0; any number is taken as "tell
			 * me", but it has to be a number. */
			if (parse_decimal(value, ~0ULL, &v) == -1) {
				*why = "tsize";
				return PKT_BAD_OPTION;
			}
			p->tsize_asked = 1;
		}
		/* Unknown options are ignored (RFC 2347). */
	}
	/* The window is held in memory: keep it within bounds. */
	if (p->windowsize > TFTPD_WINDOWSIZE_CAP)
		p->windowsize = TFTPD_WINDOWSIZE_CAP;
	while (p->windowsize > 1 &&
	    (size_t)p->windowsize * p->blksize > TFTPD_WINDOW_BYTES_MAX)
		p->windowsize--;
	return PKT_OK;
}

enum packet_status
packet_parse_ack(const uint8_t *buf, size_t len, uint16_t *block)
{
	int op = packet_opcode(buf, len);

	if (op == -1)
		return PKT_TRUNCATED;
	if (op != TFTP_ACK)
		return PKT_BAD_OPCODE;
	if (len < TFTP_HDR_LEN)
		return PKT_TRUNCATED;
	*block = get16(buf + 2);
	return PKT_OK;
}

enum packet_status
packet_parse_error(const uint8_t *buf, size_t len, uint16_t *code, char *msg,
    size_t msgsz)
{
	int op = packet_opcode(buf, len);
	size_t n = 0;

	if (msgsz > 0)
		msg[0] = '\0';
	if (op == -1)
		return PKT_TRUNCATED;
	if (op != TFTP_ERROR)
		return PKT_BAD_OPCODE;
	if (len < TFTP_HDR_LEN)
		return PKT_TRUNCATED;
	*code = get16(buf + 2);
	for (size_t i = TFTP_HDR_LEN; i < len && buf[i] != '\0' &&
	    n + 1 < msgsz; i++, n++)
		msg[n] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? (char)buf[i] :
		    '?';
	if (msgsz > 0)
		msg[n] = '\0';
	return PKT_OK;
}

void
packet_data_header(uint8_t hdr[TFTP_HDR_LEN], uint16_t block)
{
	put16(hdr, TFTP_DATA);
	put16(hdr + 2, block);
}

size_t
packet_build_error(uint8_t *buf, size_t cap, uint16_t code, const char *msg)
{
	size_t mlen;

	if (cap < TFTP_HDR_LEN + 1)
		return 0;
	if (msg == NULL)
		msg = packet_error_text(code);
	put16(buf, TFTP_ERROR);
	put16(buf + 2, code);
	mlen = strlen(msg);
	if (mlen > cap - TFTP_HDR_LEN - 1)
		mlen = cap - TFTP_HDR_LEN - 1;
	memcpy(buf + TFTP_HDR_LEN, msg, mlen);
	buf[TFTP_HDR_LEN + mlen] = '\0';
	return TFTP_HDR_LEN + mlen + 1;
}

/* Appends "name\0value\0"; returns the new length or 0 when full. */
static size_t
append_option(uint8_t *buf, size_t cap, size_t len, const char *name,
    unsigned long long value)
{
	char num[24];
	size_t nlen = strlen(name), vlen;

	vlen = (size_t)snprintf(num, sizeof(num), "%llu", value);
	if (len == 0 || len + nlen + 1 + vlen + 1 > cap)
		return 0;
	memcpy(buf + len, name, nlen + 1);
	memcpy(buf + len + nlen + 1, num, vlen + 1);
	return len + nlen + 1 + vlen + 1;
}

size_t
packet_build_oack(uint8_t *buf, size_t cap, const struct tftp_params *p,
    int tsize_known, uint64_t tsize)
{
	size_t len = 2;

	if (cap < 2)
		return 0;
	put16(buf, TFTP_OACK);
	if (p->blksize_asked)
		len = append_option(buf, cap, len, "blksize", p->blksize);
	if (p->tsize_asked && tsize_known)
		len = append_option(buf, cap, len, "tsize", tsize);
	if (p->timeout_asked)
		len = append_option(buf, cap, len, "timeout", p->timeout);
	if (p->windowsize_asked)
		len = append_option(buf, cap, len, "windowsize",
		    p->windowsize);
	return len;
}

size_t
packet_build_request(uint8_t *buf, size_t cap, int opcode, const char *file,
    const char *mode, const char *const *opts, size_t nopts)
{
	const char *parts[2 + 2 * TFTPD_OPTIONS_MAX];
	size_t n = 0, len = 2, slen;

	if (cap < 2 || nopts > TFTPD_OPTIONS_MAX)
		return 0;
	put16(buf, (uint16_t)opcode);
	parts[n++] = file;
	parts[n++] = mode;
	for (size_t i = 0; i < 2 * nopts; i++)
		parts[n++] = opts[i];
	for (size_t i = 0; i < n; i++) {
		slen = strlen(parts[i]);
		if (len + slen + 1 > cap)
			return 0;
		memcpy(buf + len, parts[i], slen + 1);
		len += slen + 1;
	}
	return len;
}

void
packet_printable(char *out, size_t outlen, const char *text, size_t len)
{
	if (len > outlen - 1)
		len = outlen - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[len] = '\0';
}
