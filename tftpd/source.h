/* layer: pure */
/* Where a transfer's bytes come from. The protocol and transfer code see
 * only this interface; a file beneath a directory entry and a file inside
 * an OS image's FAT partition are two implementations of it. */
#ifndef TFTPD_SOURCE_H
#define TFTPD_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct source;

struct source_ops {
	/* Reads up to len bytes at offset off into buf. Returns the number
	 * of bytes read (short only at the end of the file), or -1 when the
	 * file cannot be read any more (the image changed under a transfer,
	 * an I/O error); the source has then logged one line naming the file
	 * and the reason, and the transfer ends with a TFTP error. */
	ssize_t (*read)(struct source *src, void *buf, size_t len,
	    uint64_t off);
	/* Releases everything the source holds. */
	void (*close)(struct source *src);
	/* The size of the biggest file in the directory this one is in,
	 * or 0 when not known: what the client's boot may want at most
	 * (the overload scheduler's hint, sched.h). NULL: never known. */
	uint64_t (*biggest_beside)(struct source *src);
};

/* A size known only at the end (netascii adds a CR per LF). */
#define SOURCE_SIZE_UNKNOWN	UINT64_MAX

struct source {
	const struct source_ops *ops;
	uint64_t size;		/* for tsize and for the last block, or
				 * SOURCE_SIZE_UNKNOWN */
	uint64_t size_hint;	/* with SOURCE_SIZE_UNKNOWN: the file's own
				 * size, the least the transfer will send */
	char name[256];		/* for log lines: the path as requested */
};

/* How opening a source failed. The opener logs nothing: it returns the
 * status and, where there is one, a reason in the caller's buffer of
 * SOURCE_WHY_LEN bytes ("" for none); the request port (request.h) turns
 * both into the TFTP error and the one log line the request gets. */
enum source_status {
	SOURCE_OK = 0,
	SOURCE_NOT_FOUND,	/* no such file; with a reason, something that
				 * is there but never served as a file (an
				 * entry, a FIFO in the root): refused */
	SOURCE_BROKEN,		/* the entry is broken (a symlink that
				 * dangles, an image this user may not
				 * read: bootdir.h) or cannot be read as an
				 * image (a damaged table or FAT, a
				 * partition that is not there): the reason
				 * names it */
	SOURCE_DENIED,		/* a path that may not be followed */
	SOURCE_ERROR,		/* the server's own failure (I/O, memory) */
	SOURCE_IN_CEPH,		/* not opened yet: the entry leads to an
				 * image in Ceph, read away from the event
				 * loop (resolve.h, rbdfetch.h) */
};

#define SOURCE_WHY_LEN	1024

/* The bytes a transfer of src will send, as near as is known before it
 * ends: what the overload scheduler weighs. Never the unknown size
 * itself, which would make one netascii request look like a file no link
 * can carry in a Pi's time and start the waves for every Pi. */
static inline uint64_t
source_expected_size(const struct source *src)
{
	return src->size != SOURCE_SIZE_UNKNOWN ? src->size : src->size_hint;
}

static inline ssize_t
source_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	return src->ops->read(src, buf, len, off);
}

static inline uint64_t
source_biggest_beside(struct source *src)
{
	return src->ops->biggest_beside != NULL ?
	    src->ops->biggest_beside(src) : 0;
}

static inline void
source_close(struct source *src)
{
	src->ops->close(src);
}

#endif
