#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpio.h"

static int
hex8(const uint8_t *p, uint32_t *v)
{
	uint32_t x = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*v = x;
	return 0;
}

int
cpio_is_header(const uint8_t *buf, size_t len, size_t off)
{
	return off <= len && len - off >= CPIO_HEADER_LEN &&
	    (memcmp(buf + off, "070701", 6) == 0 ||
	    memcmp(buf + off, "070702", 6) == 0);
}

static size_t
align4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

enum cpio_result
cpio_next(const uint8_t *buf, size_t len, size_t *off, struct cpio_entry *e)
{
	uint32_t f[13];
	size_t o = *off, name_end, data_end;
	const char *name;

	if (!cpio_is_header(buf, len, o))
		return CPIO_BAD;
	for (int i = 0; i < 13; i++)
		if (hex8(buf + o + 6 + 8 * i, &f[i]) == -1)
			return CPIO_BAD;
	/* f[0] ino, f[1] mode, f[5] mtime, f[6] filesize, f[11] namesize */
	if (f[11] == 0 || f[11] > CPIO_NAME_MAX)
		return CPIO_BAD;
	name_end = o + CPIO_HEADER_LEN + f[11];
	if (name_end > len || buf[name_end - 1] != '\0')
		return CPIO_BAD;
	data_end = align4(name_end) + f[6];
	if (align4(name_end) > len || data_end > len)
		return CPIO_BAD;
	name = (const char *)buf + o + CPIO_HEADER_LEN;
	if (strcmp(name, "TRAILER!!!") == 0) {
		*off = align4(data_end);
		return CPIO_END;
	}
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (name[0] == '/')
		name++;
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, strlen(name) + 1);
	e->mode = f[1];
	e->mtime = f[5];
	e->data = buf + align4(name_end);
	e->size = f[6];
	*off = align4(data_end) > len ? len : align4(data_end);
	return CPIO_OK;
}

const char *
compression_name(const uint8_t *b, size_t len)
{
	if (len >= 2 && b[0] == 0x1f && (b[1] == 0x8b || b[1] == 0x9e))
		return "gzip";
	if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f &&
	    b[3] == 0xfd)
		return "zstd";
	if (len >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	if (len >= 4 && b[0] == 0x02 && b[1] == 0x21 && b[2] == 0x4c &&
	    b[3] == 0x18)
		return "lz4";
	if (len >= 3 && b[0] == 0x5d && b[1] == 0x00 && b[2] == 0x00)
		return "lzma";
	if (len >= 3 && memcmp(b, "BZh", 3) == 0)
		return "bzip2";
	return NULL;
}

static void
reserve(struct cpio_out *o, size_t more)
{
	size_t cap;
	uint8_t *nb;

	if (o->failed || o->len + more <= o->cap)
		return;
	cap = o->cap ? o->cap : 65536;
	while (cap < o->len + more)
		cap *= 2;
	if ((nb = realloc(o->buf, cap)) == NULL) {
		o->failed = 1;
		return;
	}
	o->buf = nb;
	o->cap = cap;
}

static void
add_raw(struct cpio_out *o, const char *name, uint32_t mode, uint32_t mtime,
    uint32_t nlink, const void *data, size_t size)
{
	size_t nl = strlen(name) + 1, need;
	char hdr[CPIO_HEADER_LEN + 1];

	need = align4(CPIO_HEADER_LEN + nl) + align4(size);
	reserve(o, need);
	if (o->failed)
		return;
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x"
	    "%08x%08x%08x%08x%08x%08x", ++o->ino, mode, 0u, 0u, nlink, mtime,
	    (uint32_t)size, 0u, 0u, 0u, 0u, (uint32_t)nl, 0u);
	memset(o->buf + o->len, 0, need);
	memcpy(o->buf + o->len, hdr, CPIO_HEADER_LEN);
	memcpy(o->buf + o->len + CPIO_HEADER_LEN, name, nl);
	if (size)
		memcpy(o->buf + o->len + align4(CPIO_HEADER_LEN + nl), data,
		    size);
	o->len += need;
}

void
cpio_add(struct cpio_out *o, const char *name, uint32_t mode, uint32_t mtime,
    const void *data, size_t size)
{
	while (name[0] == '/')
		name++;
	add_raw(o, name, mode, mtime, (mode & 0170000) == 0040000 ? 2 : 1,
	    data, size);
}

void
cpio_finish(struct cpio_out *o)
{
	add_raw(o, "TRAILER!!!", 0, 0, 1, NULL, 0);
}

void
cpio_free(struct cpio_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

size_t
gzip_named(const uint8_t *in, size_t len, const char *name, uint8_t *out,
    size_t outlen)
{
	size_t nl = strlen(name) + 1;

	/* gzip -n: deflate, no flags, no name, no time. */
	if (len < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 ||
	    in[3] != 0 || len + nl > outlen)
		return 0;
	memcpy(out, in, 10);
	out[3] = 0x08;			/* FNAME */
	memcpy(out + 10, name, nl);
	memcpy(out + 10 + nl, in + 10, len - 10);
	return len + nl;
}

size_t
gzip_find_named(const uint8_t *buf, size_t len, const char *name)
{
	size_t nl = strlen(name) + 1;

	if (len < 10 + nl)
		return len;
	for (size_t i = 0; i + 10 + nl <= len; i++) {
		if (buf[i] != 0x1f)
			continue;
		if (buf[i + 1] == 0x8b && buf[i + 2] == 8 && buf[i + 3] == 8 &&
		    memcmp(buf + i + 4, "\0\0\0\0", 4) == 0 &&
		    memcmp(buf + i + 10, name, nl) == 0)
			return i;
	}
	return len;
}
