#include "nbdd/blockmap.h"

#define WORD_BITS	64

size_t
bm_words(uint64_t size)
{
	uint64_t blocks = (size + BM_BLOCK - 1) >> BM_BLOCK_SHIFT;

	return (size_t)((blocks + WORD_BITS - 1) / WORD_BITS);
}

void
bm_init(struct blockmap *m, uint64_t size, uint64_t *bits)
{
	m->size = size;
	m->nblocks = (size + BM_BLOCK - 1) >> BM_BLOCK_SHIFT;
	m->bits = bits;
}

int
bm_range_ok(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

uint64_t
bm_block_start(uint64_t b)
{
	return b << BM_BLOCK_SHIFT;
}

uint64_t
bm_block_end(const struct blockmap *m, uint64_t b)
{
	uint64_t e = (b + 1) << BM_BLOCK_SHIFT;

	return e < m->size ? e : m->size;
}

int
bm_test(const struct blockmap *m, uint64_t b)
{
	uint64_t w = __atomic_load_n(&m->bits[b / WORD_BITS],
	    __ATOMIC_ACQUIRE);

	return (w >> (b % WORD_BITS)) & 1;
}

/* Bits [lo, hi) of a word, lo < hi <= 64. */
static uint64_t
word_mask(unsigned lo, unsigned hi)
{
	uint64_t upto = hi == WORD_BITS ? ~0ULL : (1ULL << hi) - 1;

	return upto & ~((1ULL << lo) - 1);
}

void
bm_set(struct blockmap *m, uint64_t first, uint64_t end)
{
	while (first < end) {
		uint64_t w = first / WORD_BITS;
		unsigned lo = (unsigned)(first % WORD_BITS);
		unsigned hi = end - w * WORD_BITS >= WORD_BITS ? WORD_BITS :
		    (unsigned)(end - w * WORD_BITS);

		__atomic_fetch_or(&m->bits[w], word_mask(lo, hi),
		    __ATOMIC_RELEASE);
		first = (w + 1) * WORD_BITS;
	}
}

uint64_t
bm_count(const struct blockmap *m)
{
	size_t words = bm_words(m->size);
	uint64_t n = 0;

	for (size_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(__atomic_load_n(
		    &m->bits[i], __ATOMIC_RELAXED));
	return n;
}

/* The first block in [b, end) whose bit is not want, or end. */
static uint64_t
next_other(const struct blockmap *m, uint64_t b, uint64_t end, int want)
{
	while (b < end) {
		uint64_t w = b / WORD_BITS;
		uint64_t bits = __atomic_load_n(&m->bits[w], __ATOMIC_ACQUIRE);

		if (want)
			bits = ~bits;
		bits &= word_mask((unsigned)(b % WORD_BITS), WORD_BITS);
		if (bits != 0) {
			b = w * WORD_BITS + (uint64_t)__builtin_ctzll(bits);
			return b < end ? b : end;
		}
		b = (w + 1) * WORD_BITS;
	}
	return end;
}

uint64_t
bm_run(const struct blockmap *m, uint64_t off, uint64_t end, int *present)
{
	uint64_t b = off >> BM_BLOCK_SHIFT;
	uint64_t last = (end - 1) >> BM_BLOCK_SHIFT;
	uint64_t stop;

	*present = bm_test(m, b);
	stop = bm_block_start(next_other(m, b + 1, last + 1, *present));
	return stop < end ? stop : end;
}

/* Whether [off, end) covers block b whole. */
static int
covers(const struct blockmap *m, uint64_t b, uint64_t off, uint64_t end)
{
	return off <= bm_block_start(b) && end >= bm_block_end(m, b);
}

static struct bm_piece
piece(uint64_t b, uint64_t off, uint64_t end)
{
	return (struct bm_piece){ 1, b, off, end - off };
}

void
bm_split(const struct blockmap *m, uint64_t off, uint64_t len,
    struct bm_split *s)
{
	uint64_t end = off + len;
	uint64_t fb = off >> BM_BLOCK_SHIFT, lb = (end - 1) >> BM_BLOCK_SHIFT;

	*s = (struct bm_split){ .first = fb, .end = lb + 1 };
	if (!covers(m, fb, off, end)) {
		s->head = piece(fb, off, fb == lb ? end : bm_block_end(m, fb));
		s->first = fb + 1;
		if (fb == lb) {
			s->end = s->first;
			return;
		}
	}
	if (!covers(m, lb, off, end)) {
		s->tail = piece(lb, bm_block_start(lb), end);
		s->end = lb;
	}
}

int
bm_extent_add(struct bm_extent *out, int *n, int max, uint64_t len,
    uint32_t flags)
{
	if (len == 0)
		return 0;
	if (*n > 0 && out[*n - 1].flags == flags) {
		out[*n - 1].len += len;
		return 0;
	}
	if (*n >= max)
		return -1;
	out[(*n)++] = (struct bm_extent){ len, flags };
	return 0;
}

/* A cursor over an extent list that starts at a known offset. */
struct cursor {
	const struct bm_extent *ext;
	int n, i;
	uint64_t start;		/* where ext[i] begins */
};

/* Moves to the extent holding pos; 0, or -1 when the list ends first. */
static int
seek(struct cursor *c, uint64_t pos)
{
	while (c->i < c->n && c->start + c->ext[c->i].len <= pos) {
		c->start += c->ext[c->i].len;
		c->i++;
	}
	return c->i < c->n ? 0 : -1;
}

int
bm_merge_extents(const struct blockmap *m, uint64_t off, uint64_t len,
    const struct bm_extent *ovl, int novl, const struct bm_extent *base,
    int nbase, struct bm_extent *out, int max)
{
	struct cursor co = { ovl, novl, 0, off }, cb = { base, nbase, 0, off };
	uint64_t pos = off, end = off + len;
	int n = 0;

	while (pos < end) {
		int present;
		uint64_t stop = bm_run(m, pos, end, &present);
		struct cursor *c = present ? &co : &cb;
		uint64_t ext_end;

		if (seek(c, pos) == -1)
			break;
		ext_end = c->start + c->ext[c->i].len;
		if (ext_end < stop)
			stop = ext_end;
		if (bm_extent_add(out, &n, max, stop - pos,
		    c->ext[c->i].flags) == -1)
			break;
		pos = stop;
	}
	return n;
}
