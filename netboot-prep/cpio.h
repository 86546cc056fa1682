/* layer: pure */
/* The newc cpio archives an initramfs is made of, read and written, and
 * the gzip wrapper of the archive netboot-prep appends. The kernel
 * unpacks the archives of an initramfs one after the other, each maybe
 * compressed, and a later file replaces an earlier one of the same name
 * (Documentation/driver-api/early-userspace/buffer-format.rst), which is
 * how an archive appended to a distribution's initramfs adds nbd-client
 * without rebuilding it. Pure. */
#ifndef NETBOOT_PREP_CPIO_H
#define NETBOOT_PREP_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define CPIO_HEADER_LEN	110
#define CPIO_NAME_MAX	4096

struct cpio_entry {
	char name[CPIO_NAME_MAX];	/* without a leading "./" or "/" */
	uint32_t mode;
	uint32_t mtime;
	const uint8_t *data;		/* file contents or symlink target */
	size_t size;
};

enum cpio_result {
	CPIO_OK,
	CPIO_END,	/* the trailer: the archive ends at *off */
	CPIO_BAD,	/* not a newc header, or it runs past the buffer */
};

/* Reads the entry at *off of buf and moves *off past it (4-byte
 * aligned). */
enum cpio_result cpio_next(const uint8_t *buf, size_t len, size_t *off,
    struct cpio_entry *e);

/* Whether buf at off starts a newc or crc cpio header. */
int cpio_is_header(const uint8_t *buf, size_t len, size_t off);

/* The compression a segment starts with, by magic: "gzip", "zstd",
 * "xz", "lz4", "lzma", "bzip2", or NULL when it is none of them. */
const char *compression_name(const uint8_t *buf, size_t len);

/* A growing archive. */
struct cpio_out {
	uint8_t *buf;
	size_t len, cap;
	uint32_t ino;
	int failed;		/* out of memory */
};

/* Adds an entry (name without leading "/"; mtime fixed by the caller, so
 * the same inputs give the same bytes). */
void cpio_add(struct cpio_out *o, const char *name, uint32_t mode,
    uint32_t mtime, const void *data, size_t size);
/* The trailer. */
void cpio_finish(struct cpio_out *o);
void cpio_free(struct cpio_out *o);

/* The gzip member's header with the name NAME (FNAME) in place of the
 * plain header that gzip -n writes: in is gzip -n's output, out gets
 * the same member named. The kernel's gunzip skips the name; the tool
 * finds its own archive by it. Returns out's length, or 0 when in is not
 * a plain gzip member or out is too small. */
size_t gzip_named(const uint8_t *in, size_t len, const char *name,
    uint8_t *out, size_t outlen);

/* The start of the appended archive named name in buf: the offset of a
 * gzip header with FNAME name, or len when there is none. */
size_t gzip_find_named(const uint8_t *buf, size_t len, const char *name);

#endif
