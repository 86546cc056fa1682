/* layer: pure */
/* The written-blocks map of a copy-on-write overlay, and the range
 * arithmetic over it: which parts of a request come from the overlay and
 * which from the base, which edge blocks a write must first copy from the
 * base, and the merged view's extents for BLOCK_STATUS.
 *
 * One bit per 4 KiB block of the disk: set once the block lives in the
 * overlay (written, zeroed or trimmed there), never cleared, since an
 * overlay is thrown away whole. The last block of a disk whose size is
 * not a multiple of 4 KiB is short: it ends at the disk's end.
 *
 * Pure: no files, no allocation, no errno. The caller owns the bits
 * (bm_words() of them, zeroed). Bits are set and read with atomics, so
 * that one thread may read the map while another marks blocks: a block
 * is marked only after its data is in the overlay, and a reader that sees
 * the mark sees that data. */
#ifndef NBDD_BLOCKMAP_H
#define NBDD_BLOCKMAP_H

#include <stddef.h>
#include <stdint.h>

#define BM_BLOCK_SHIFT	12
#define BM_BLOCK	(1u << BM_BLOCK_SHIFT)

/* The largest disk a map describes: an off_t, less a block so that block
 * arithmetic never wraps. */
#define BM_SIZE_MAX	((uint64_t)INT64_MAX - BM_BLOCK)

struct blockmap {
	uint64_t size;		/* bytes */
	uint64_t nblocks;	/* size / BM_BLOCK, rounded up */
	uint64_t *bits;		/* bm_words(size) words */
};

/* Words of bits for a disk of size bytes. */
size_t bm_words(uint64_t size);
/* bits: bm_words(size) zeroed words, owned by the caller. */
void bm_init(struct blockmap *m, uint64_t size, uint64_t *bits);

/* Whether [off, off + len) lies inside a disk of size bytes (len 0 too),
 * without overflow whatever the values. */
int bm_range_ok(uint64_t size, uint64_t off, uint64_t len);

/* Where block b starts, and where it ends (the disk's end for the last). */
uint64_t bm_block_start(uint64_t b);
uint64_t bm_block_end(const struct blockmap *m, uint64_t b);

int bm_test(const struct blockmap *m, uint64_t b);
/* Marks blocks [first, end). */
void bm_set(struct blockmap *m, uint64_t first, uint64_t end);
/* Blocks marked. */
uint64_t bm_count(const struct blockmap *m);

/* The run starting at byte off: *present says whether its blocks are in
 * the overlay; returns where the run ends, at most end (off < end). */
uint64_t bm_run(const struct blockmap *m, uint64_t off, uint64_t end,
    int *present);

/* A range cut at block boundaries: the blocks it covers whole, and a
 * partial block at either end. Partial means the range leaves part of the
 * block out; the short last block covered up to the disk's end is whole. */
struct bm_piece {
	int valid;
	uint64_t block;
	uint64_t off, len;	/* bytes of the range in that block */
};

struct bm_split {
	struct bm_piece head;	/* the partial first block, if any */
	uint64_t first, end;	/* whole blocks [first, end); may be none */
	struct bm_piece tail;	/* the partial last block, if any */
};

/* [off, off + len) must be inside the disk and len > 0. When the range
 * lies inside one partial block, that block is the head. */
void bm_split(const struct blockmap *m, uint64_t off, uint64_t len,
    struct bm_split *s);

/* Extents as BLOCK_STATUS reports them. */
struct bm_extent {
	uint64_t len;
	uint32_t flags;		/* NBD_STATE_HOLE | NBD_STATE_ZERO */
};

/* Appends an extent to out[0..*n), merging it into the last one when the
 * flags agree; returns 0, or -1 when it needed a slot past max. */
int bm_extent_add(struct bm_extent *out, int *n, int max, uint64_t len,
    uint32_t flags);

/* The merged view's extents over [off, off + len): for blocks in the
 * overlay the overlay file's extents (ovl), for the others the base's
 * (base). Each list describes consecutive bytes from off and may cover
 * less than len (a list of n 0 covers nothing); the answer stops where it
 * would need a list that has run out, or after max extents. Returns how
 * many extents (0 only when nothing could be said). */
int bm_merge_extents(const struct blockmap *m, uint64_t off, uint64_t len,
    const struct bm_extent *ovl, int novl, const struct bm_extent *base,
    int nbase, struct bm_extent *out, int max);

#endif
