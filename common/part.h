/* layer: pure */
/* Partition tables of OS images: MBR (with extended and logical
 * partitions), GPT behind its protective MBR, or none at all (a bare FAT
 * file system, a "superfloppy"). Pure: every byte comes through the read
 * callback, so unit tests and fuzzers drive it with a buffer. */
#ifndef COMMON_PART_H
#define COMMON_PART_H

#include <stddef.h>
#include <stdint.h>

#define PART_NUMBER_MAX 128	/* the highest partition number one picks */

/* Reads exactly len bytes at byte offset off of the device into buf.
 * Returns 0, or -1 when it could not (short read, I/O error). */
typedef int (*blk_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

struct blkdev {
	blk_read_fn read;
	void *ctx;
	uint64_t size;		/* bytes */
	unsigned sector_size;	/* 512 or 4096 when known (a block device's
				 * logical sector size), 0 to probe */
};

enum part_scheme {
	PART_SCHEME_NONE,	/* superfloppy: the whole device is FAT */
	PART_SCHEME_MBR,
	PART_SCHEME_GPT,
};

struct part {
	int number;		/* as Linux numbers it: 1-4 primary, 5- logical,
				 * GPT entry index from 1 */
	uint64_t start;		/* bytes from the start of the device */
	uint64_t length;	/* bytes */
	enum part_scheme scheme;
	unsigned sector_size;
	uint8_t mbr_type;	/* MBR only */
};

enum part_result {
	PART_OK,
	PART_NONE,	/* a sound table without the partition asked for */
	PART_BAD,	/* a table that cannot be trusted */
	PART_IO,	/* the device could not be read */
};

/* Finds partition want (1-128), or with want 0 the first FAT partition:
 * MBR types 0x01 0x04 0x06 0x0b 0x0c 0x0e, GPT basic data or EFI system
 * partitions whose first sector is a FAT boot sector. The whole table is
 * checked first: every partition inside the device, none overlapping,
 * GPT CRCs, extended chains without loops. On anything but PART_OK, why
 * says what was wrong in a few words for a log line. */
enum part_result part_find(const struct blkdev *dev, int want,
    struct part *out, char *why, size_t whylen);

/* CRC-32 as GPT (and zlib) compute it. */
uint32_t part_crc32(const void *buf, size_t len);

#endif
