/* netascii (RFC 764 via RFC 1350): LF becomes CR LF, a bare CR becomes
 * CR NUL. The output is longer than the file by an amount known only after
 * reading it all, so the wrapper keeps a cursor and converts front to
 * back. */
#include <stdlib.h>
#include <string.h>

#include "tftpd/netascii.h"

#define NETASCII_CHUNK 8192

struct netascii {
	struct source base;
	struct source *inner;
	uint64_t in_off;	/* next byte of the file to convert */
	uint64_t out_off;	/* output offset the next read continues */
	int pending;		/* second byte of a pair cut off, or -1 */
	uint8_t chunk[NETASCII_CHUNK];
	size_t chunk_len, chunk_pos;
};

/* Converts up to len output bytes into buf; returns how many, or -1. */
static ssize_t
convert(struct netascii *na, uint8_t *buf, size_t len)
{
	size_t n = 0;
	ssize_t got;

	while (n < len) {
		if (na->pending != -1) {
			buf[n++] = (uint8_t)na->pending;
			na->pending = -1;
			continue;
		}
		if (na->chunk_pos == na->chunk_len) {
			got = source_read(na->inner, na->chunk,
			    sizeof(na->chunk), na->in_off);
			if (got == -1)
				return -1;
			if (got == 0)
				break;
			na->in_off += (uint64_t)got;
			na->chunk_len = (size_t)got;
			na->chunk_pos = 0;
		}
		uint8_t c = na->chunk[na->chunk_pos++];
		if (c == '\n') {
			buf[n++] = '\r';
			na->pending = '\n';
		} else if (c == '\r') {
			buf[n++] = '\r';
			na->pending = '\0';
		} else
			buf[n++] = c;
	}
	na->out_off += n;
	return (ssize_t)n;
}

static ssize_t
netascii_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	struct netascii *na = (struct netascii *)src;
	uint8_t skip[512];
	ssize_t got;

	if (off < na->out_off) {
		/* Rewind: start over from the beginning of the file. */
		na->in_off = na->out_off = 0;
		na->pending = -1;
		na->chunk_len = na->chunk_pos = 0;
	}
	while (na->out_off < off) {
		uint64_t want = off - na->out_off;
		got = convert(na, skip, want < sizeof(skip) ? (size_t)want :
		    sizeof(skip));
		if (got <= 0)
			return got;
	}
	return convert(na, buf, len);
}

static void
netascii_close(struct source *src)
{
	struct netascii *na = (struct netascii *)src;

	source_close(na->inner);
	free(na);
}

static const struct source_ops netascii_ops = {
	.read = netascii_read,
	.close = netascii_close,
};

enum source_status
netascii_wrap(struct source *inner, struct source **out)
{
	struct netascii *na;

	*out = NULL;
	if ((na = calloc(1, sizeof(*na))) == NULL) {
		source_close(inner);
		return SOURCE_ERROR;
	}
	na->base.ops = &netascii_ops;
	na->base.size = SOURCE_SIZE_UNKNOWN;	/* known once converted */
	na->base.size_hint = inner->size;
	memcpy(na->base.name, inner->name, sizeof(na->base.name));
	na->inner = inner;
	na->pending = -1;
	*out = &na->base;
	return SOURCE_OK;
}
