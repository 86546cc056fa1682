/* layer: pure */
/* FAT12, FAT16 and FAT32 file systems read through a callback: boot
 * sector, FAT entries, directories with VFAT long names, cluster chains.
 * Pure: no file descriptors, no globals, so unit tests and fuzzers drive it
 * with a buffer. Nothing outside [base, base + len) is ever read. */
#ifndef COMMON_FAT_H
#define COMMON_FAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/part.h"

#define FAT_WINDOW	8192	/* bytes of the FAT read at a time */
#define FAT_NAME_MAX	(255 * 3 + 1)	/* a long name in UTF-8, with NUL */
#define FAT_WHY_MAX	256
#define FAT_DIR_MAX	(65536 * 32)	/* the largest directory FAT allows */

enum fat_result {
	FAT_OK,
	FAT_NOT_FOUND,
	FAT_IS_DIR,	/* the path names a directory */
	FAT_DENIED,	/* the path leaves the file system ("..") */
	FAT_BAD,	/* the file system is damaged; why says how */
	FAT_IO,		/* the device could not be read */
};

struct fat_vol {
	blk_read_fn read;
	void *ctx;
	uint64_t base;		/* the partition: first byte on the device */
	uint64_t len;		/* and its length */
	int bits;		/* 12, 16 or 32 */
	uint32_t bps;		/* bytes per sector */
	uint32_t cluster_size;	/* bytes */
	uint64_t fat_off;	/* the first FAT, from base */
	uint64_t fat_bytes;	/* its length */
	uint64_t root_off;	/* FAT12/16 root directory, from base */
	uint32_t root_bytes;
	uint32_t root_cluster;	/* FAT32 root directory */
	uint64_t data_off;	/* cluster 2, from base */
	uint32_t max_cluster;	/* valid clusters are 2..max_cluster */
	/* What went wrong (FAT_BAD, FAT_IO), or the first oddity seen in a
	 * directory on the way (a broken long name, a garbage entry), which
	 * explains a "not found". */
	char why[FAT_WHY_MAX];
	char note[FAT_WHY_MAX];
	/* A window on the FAT, so that following a chain costs one read per
	 * FAT_WINDOW bytes of entries. Dropped by fat_forget(). */
	uint64_t win_off;
	uint32_t win_len;
	uint8_t win[FAT_WINDOW];
};

#define FAT_ATTR_RO	0x01
#define FAT_ATTR_HIDDEN	0x02
#define FAT_ATTR_SYSTEM	0x04
#define FAT_ATTR_VOLUME	0x08
#define FAT_ATTR_DIR	0x10
#define FAT_ATTR_ARCHIVE 0x20
#define FAT_ATTR_LFN	0x0f

#define FAT_EOC		0xffffffffu	/* fat_next: end of the chain */

struct fat_dirent {
	char name[FAT_NAME_MAX];	/* long name in UTF-8, else 8.3 */
	char short_name[13];		/* "NAME.EXT" */
	uint8_t attr;
	uint32_t cluster;		/* first cluster, 0 for none */
	uint32_t size;
};

/* A stretch of consecutive clusters of a file: file bytes [foff, foff+len)
 * are partition bytes [off, off+len). */
struct fat_run {
	uint64_t foff;
	uint64_t off;
	uint64_t len;
	uint32_t cluster;	/* the first of the run */
	uint32_t count;		/* clusters in the run */
};

/* Whether a 512-byte sector looks like a FAT boot sector (jump, sane BPB);
 * used to find FAT partitions and superfloppies. */
int fat_boot_plausible(const uint8_t *bs, size_t len);

/* Reads and checks the boot sector of the partition at base, len bytes. */
enum fat_result fat_open(struct fat_vol *v, blk_read_fn read, void *ctx,
    uint64_t base, uint64_t len);

/* Drops the FAT window, so the next fat_next() reads the FAT anew. */
void fat_forget(struct fat_vol *v);

/* The FAT entry of cluster c: the next cluster (2..max_cluster) or
 * FAT_EOC; FAT_BAD when it is free, bad or out of range. */
enum fat_result fat_next(struct fat_vol *v, uint32_t c, uint32_t *next);

/* Calls cb for each entry of a directory (cluster 0: the root) except
 * "." "..", deleted entries, volume labels and garbage; stops early when
 * cb returns non-zero. path is the directory's name for messages. */
typedef int (*fat_dir_cb)(void *arg, const struct fat_dirent *de);
enum fat_result fat_dir_scan(struct fat_vol *v, uint32_t cluster,
    const char *path, fat_dir_cb cb, void *arg);

/* Looks up a '/'-separated path from the root, case-insensitively, by long
 * or short name. "." and empty components are skipped, ".." goes up but
 * never above the root (FAT_DENIED). */
enum fat_result fat_lookup(struct fat_vol *v, const char *path,
    struct fat_dirent *out);

/* The size of the biggest file (not directory) in the directory that
 * holds path: what a boot reading files from there may want at most. */
enum fat_result fat_dir_biggest(struct fat_vol *v, const char *path,
    uint32_t *size);

/* The runs of a file of size bytes starting at cluster first, in file
 * order; *runs is allocated (free it). FAT_BAD when the chain is shorter
 * than the size, leaves the volume, or loops. *tail is the FAT entry of
 * the last cluster (FAT_EOC normally), for fat_check_runs(). */
enum fat_result fat_runs(struct fat_vol *v, uint32_t first, uint32_t size,
    struct fat_run **runs, size_t *nruns, uint32_t *tail);

/* Re-reads the FAT entries of clusters [from, to) of the file (counted
 * from 0 in file order) and checks they still link as runs say. */
enum fat_result fat_check_runs(struct fat_vol *v, const struct fat_run *runs,
    size_t nruns, uint32_t tail, uint64_t from, uint64_t to);

#endif
