/* The written-blocks map and its range arithmetic, against brute-force
 * oracles that look at every byte or block: edges, partial blocks, runs
 * across words, the short last block of a disk whose size is not a
 * multiple of 4 KiB, ranges whose end overflows, and the merged extents
 * of BLOCK_STATUS. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nbdd/blockmap.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"
#include "tests/unit/expect.h"

#define B	BM_BLOCK
#define HOLE	(NBD_STATE_HOLE | NBD_STATE_ZERO)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

/* A map of size bytes with its bits on the heap. */
static struct blockmap
new_map(uint64_t size)
{
	struct blockmap m;

	bm_init(&m, size, calloc(bm_words(size) + 1, sizeof(uint64_t)));
	ck_assert_ptr_nonnull(m.bits);
	return m;
}

/* Each block's bit at random, into the map and a plain array. */
static void
random_bits(struct blockmap *m, char *oracle, int density)
{
	for (uint64_t b = 0; b < m->nblocks; b++) {
		oracle[b] = (int)below(100) < density;
		if (oracle[b])
			bm_set(m, b, b + 1);
	}
}

static uint64_t
oracle_block_end(uint64_t size, uint64_t b)
{
	uint64_t e = (b + 1) * B;
	return e < size ? e : size;
}

START_TEST(words_and_blocks)
{
	struct blockmap m;
	uint64_t bits[4];

	ck_assert_uint_eq(bm_words(0), 0);
	ck_assert_uint_eq(bm_words(1), 1);
	ck_assert_uint_eq(bm_words(64 * (uint64_t)B), 1);
	ck_assert_uint_eq(bm_words(64 * (uint64_t)B + 1), 2);
	/* 1 bit per 4 KiB: 1 MiB of map for 32 GiB. */
	ck_assert_uint_eq(bm_words(32ULL << 30) * 8, 1 << 20);
	bm_init(&m, 3 * B + 100, bits);
	ck_assert_uint_eq(m.nblocks, 4);
	ck_assert_uint_eq(bm_block_start(3), 3 * B);
	ck_assert_uint_eq(bm_block_end(&m, 2), 3 * B);
	ck_assert_uint_eq(bm_block_end(&m, 3), 3 * B + 100);
	bm_init(&m, 4 * B, bits);
	ck_assert_uint_eq(m.nblocks, 4);
	ck_assert_uint_eq(bm_block_end(&m, 3), 4 * B);
}
END_TEST

START_TEST(range_overflow)
{
	ck_assert(bm_range_ok(100, 0, 100));
	ck_assert(bm_range_ok(100, 100, 0));
	ck_assert(bm_range_ok(100, 99, 1));
	ck_assert(!bm_range_ok(100, 99, 2));
	ck_assert(!bm_range_ok(100, 101, 0));
	ck_assert(!bm_range_ok(100, UINT64_MAX, 2));	/* off + len wraps */
	ck_assert(!bm_range_ok(100, 50, UINT64_MAX));
	ck_assert(!bm_range_ok(100, UINT64_MAX, UINT64_MAX));
	ck_assert(bm_range_ok(UINT64_MAX, UINT64_MAX, 0));
	ck_assert(!bm_range_ok(UINT64_MAX, UINT64_MAX, 1));
	ck_assert(bm_range_ok(UINT64_MAX, 1, UINT64_MAX - 1));
	ck_assert(!bm_range_ok(UINT64_MAX, 2, UINT64_MAX - 1));
	ck_assert(!bm_range_ok(0, 0, 1));
}
END_TEST

START_TEST(set_test_count)
{
	const uint64_t size = 300 * (uint64_t)B - 17;
	char oracle[300];

	for (int round = 0; round < 200; round++) {
		struct blockmap m = new_map(size);
		uint64_t n = 0;

		memset(oracle, 0, sizeof(oracle));
		for (int k = 0; k < 8; k++) {
			uint64_t a = below(m.nblocks), z = a + below(
			    m.nblocks - a + 1);
			bm_set(&m, a, z);
			for (uint64_t b = a; b < z; b++)
				oracle[b] = 1;
		}
		for (uint64_t b = 0; b < m.nblocks; b++) {
			EXPECT(bm_test(&m, b) == oracle[b], "round %d block "
			    "%llu", round, (unsigned long long)b);
			n += (uint64_t)oracle[b];
		}
		EXPECT(bm_count(&m) == n, "round %d: count", round);
		free(m.bits);
	}
	EXPECT_NONE();
	/* Whole words and their edges. */
	struct blockmap m = new_map(size);
	bm_set(&m, 63, 129);
	ck_assert(!bm_test(&m, 62));
	ck_assert(bm_test(&m, 63) && bm_test(&m, 64) && bm_test(&m, 128));
	ck_assert(!bm_test(&m, 129));
	ck_assert_uint_eq(bm_count(&m), 66);
	bm_set(&m, 5, 5);		/* empty */
	ck_assert_uint_eq(bm_count(&m), 66);
	free(m.bits);
}
END_TEST

/* Byte positions worth trying in a disk of size: around every block
 * boundary, and the ends. */
static int
positions(uint64_t size, uint64_t *out, int max)
{
	int n = 0;

	for (uint64_t s = 0; s <= size + B && n + 3 <= max; s += B)
		for (int d = -1; d <= 1; d++) {
			if ((int64_t)s + d < 0 || s + (uint64_t)(int64_t)d >
			    size)
				continue;
			out[n++] = s + (uint64_t)(int64_t)d;
		}
	if (n < max)
		out[n++] = size;
	if (n < max && size >= 2)
		out[n++] = size - 2;
	return n;
}

/* Where the run at off ends, byte by byte... block by block. */
static uint64_t
oracle_run(const char *bits, uint64_t off, uint64_t end, int *present)
{
	uint64_t p = off;

	*present = bits[off / B];
	while (p < end && bits[p / B] == *present)
		p = (p / B + 1) * B;
	return p < end ? p : end;
}

START_TEST(runs)
{
	const uint64_t sizes[] = { 1, B - 1, B, B + 1, 130 * (uint64_t)B,
	    130 * (uint64_t)B + 123, 200 * (uint64_t)B - 1 };
	static uint64_t pos[1000];
	static char oracle[256];

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (int density = 0; density <= 100; density += 25) {
			struct blockmap m = new_map(sizes[si]);
			int np = positions(sizes[si], pos, 1000);

			memset(oracle, 0, sizeof(oracle));
			random_bits(&m, oracle, density);
			for (int i = 0; i < np; i++)
				for (int j = 0; j < np; j++) {
					uint64_t off = pos[i], end = pos[j];
					int p1, p2;

					if (off >= end)
						continue;
					uint64_t r1 = bm_run(&m, off, end, &p1);
					uint64_t r2 = oracle_run(oracle, off,
					    end, &p2);

					EXPECT(r1 == r2 && p1 == p2, "size "
					    "%llu run %llu-%llu: %llu/%d, "
					    "want %llu/%d",
					    (unsigned long long)sizes[si],
					    (unsigned long long)off,
					    (unsigned long long)end,
					    (unsigned long long)r1, p1,
					    (unsigned long long)r2, p2);
				}
			free(m.bits);
		}
	}
	EXPECT_NONE();
}
END_TEST

/* Checks a split of [off, off + len) byte by byte: every block is whole
 * in the middle or a partial piece at an end, exactly. */
static void
check_split(const struct blockmap *m, uint64_t off, uint64_t len)
{
	struct bm_split s;
	uint64_t end = off + len;
	uint64_t fb = off / B, lb = (end - 1) / B;

	bm_split(m, off, len, &s);
	for (uint64_t b = fb; b <= lb; b++) {
		/* Inside, [first, end) is one interval: its ends will do. */
		if (b == fb + 3 && lb > fb + 6)
			b = lb - 3;
		uint64_t bs = b * B, be = oracle_block_end(m->size, b);
		uint64_t lo = off > bs ? off : bs, hi = end < be ? end : be;
		int whole = lo == bs && hi == be;
		int in_mid = b >= s.first && b < s.end;
		const struct bm_piece *p = s.head.valid && s.head.block == b ?
		    &s.head : s.tail.valid && s.tail.block == b ? &s.tail :
		    NULL;

		EXPECT(whole == in_mid && (p == NULL) == whole &&
		    (p == NULL || (p->off == lo && p->len == hi - lo &&
		    p->len > 0 && p->len < be - bs)), "size %llu off %llu "
		    "len %llu block %llu: whole %d, in the middle %d, piece "
		    "%d", (unsigned long long)m->size,
		    (unsigned long long)off, (unsigned long long)len,
		    (unsigned long long)b, whole, in_mid, p != NULL);
	}
	/* Nothing outside the range. */
	EXPECT(s.first >= fb && s.end <= lb + 1 && s.first <= s.end &&
	    (!s.head.valid || s.head.block == fb) &&
	    (!s.tail.valid || (s.tail.block == lb && lb != fb)) &&
	    (!s.head.valid || !s.tail.valid || s.first == fb + 1),
	    "size %llu off %llu len %llu: pieces outside the range",
	    (unsigned long long)m->size, (unsigned long long)off,
	    (unsigned long long)len);
}

START_TEST(splits)
{
	const uint64_t sizes[] = { 1, 2, B - 1, B, B + 1, 2 * (uint64_t)B,
	    3 * (uint64_t)B + 7, 5 * (uint64_t)B, 67 * (uint64_t)B + 4000 };
	static uint64_t pos[1000];

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		struct blockmap m = new_map(sizes[si]);
		int np = positions(sizes[si], pos, 1000);

		for (int i = 0; i < np; i++)
			for (int j = 0; j < np; j++)
				if (pos[i] < pos[j])
					check_split(&m, pos[i], pos[j] - pos[i]);
		free(m.bits);
	}
	/* At random in a large disk with a short last block. */
	struct blockmap m = new_map((1ULL << 30) + 1234);
	for (int k = 0; k < 100000; k++) {
		uint64_t off = below(m.size), len = 1 + below(
		    k % 2 ? 4 * B : m.size - off);
		if (off + len > m.size)
			len = m.size - off;
		check_split(&m, off, len);
	}
	free(m.bits);
	EXPECT_NONE();
}
END_TEST

/* A list of extents over n bytes from a per-byte array of flags. */
static int
compress(const uint32_t *flags, uint64_t n, struct bm_extent *out, int max)
{
	int k = 0;

	for (uint64_t i = 0; i < n; i++)
		if (bm_extent_add(out, &k, max, 1, flags[i]) == -1)
			break;
	return k;
}

static uint64_t
covered(const struct bm_extent *e, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += e[i].len;
	return sum;
}

START_TEST(merged_extents)
{
	enum { SIZE = 24 * B + 333 };
	static uint32_t ovl_at[SIZE], base_at[SIZE], want_at[SIZE];
	static char oracle[32];
	struct bm_extent ovl[256], base[256], want[64], got[64];

	for (int round = 0; round < 3000; round++) {
		struct blockmap m = new_map(SIZE);
		uint64_t off = below(SIZE), len = 1 + below(SIZE - off);
		uint64_t ovl_cover = below(len + 1), base_cover = below(len + 1);
		int max = 1 + (int)below(12), novl, nbase, nwant, ngot;
		uint64_t stop;

		if (round % 3 == 0)
			ovl_cover = base_cover = len;
		memset(oracle, 0, sizeof(oracle));
		random_bits(&m, oracle, (int)below(101));
		/* Random runs of data and holes in each file. */
		for (int f = 0; f < 2; f++) {
			uint32_t *at = f ? base_at : ovl_at, fl = 0;
			for (uint64_t i = 0; i < SIZE; i++) {
				if (below(3000) == 0)
					fl = fl ? 0 : HOLE;
				at[i] = fl;
			}
		}
		novl = compress(ovl_at + off, ovl_cover, ovl, 256);
		nbase = compress(base_at + off, base_cover, base, 256);
		ovl_cover = covered(ovl, novl);
		base_cover = covered(base, nbase);
		/* Byte by byte: the overlay's kind where its block is marked,
		 * the base's elsewhere, up to where a needed list ends. */
		for (stop = 0; stop < len; stop++) {
			uint64_t p = off + stop;
			int mine = oracle[p / B];
			if (stop >= (mine ? ovl_cover : base_cover))
				break;
			want_at[stop] = mine ? ovl_at[p] : base_at[p];
		}
		nwant = compress(want_at, stop, want, max);
		ngot = bm_merge_extents(&m, off, len, ovl, novl, base, nbase,
		    got, max);
		EXPECT(ngot == nwant, "round %d: %d extents, want %d", round,
		    ngot, nwant);
		for (int i = 0; i < ngot && i < nwant; i++)
			EXPECT(got[i].len == want[i].len &&
			    got[i].flags == want[i].flags &&
			    (i == 0 || got[i].flags != got[i - 1].flags),
			    "round %d extent %d: %llu/%u, want %llu/%u", round,
			    i, (unsigned long long)got[i].len, got[i].flags,
			    (unsigned long long)want[i].len, want[i].flags);
		free(m.bits);
	}
	EXPECT_NONE();
}
END_TEST

START_TEST(extent_add)
{
	struct bm_extent e[2];
	int n = 0;

	ck_assert_int_eq(bm_extent_add(e, &n, 2, 0, 0), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(bm_extent_add(e, &n, 2, 10, 0), 0);
	ck_assert_int_eq(bm_extent_add(e, &n, 2, 5, 0), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(e[0].len, 15);
	ck_assert_int_eq(bm_extent_add(e, &n, 2, 7, HOLE), 0);
	ck_assert_int_eq(bm_extent_add(e, &n, 2, 1, HOLE), 0);
	ck_assert_int_eq(bm_extent_add(e, &n, 2, 1, 0), -1);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(e[1].len, 8);
}
END_TEST

static Suite *
blockmap_suite(void)
{
	Suite *s = suite_create("nbdd_blockmap");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, words_and_blocks);
	tcase_add_test(tc, range_overflow);
	tcase_add_test(tc, set_test_count);
	tcase_add_test(tc, runs);
	tcase_add_test(tc, splits);
	tcase_add_test(tc, extent_add);
	tcase_add_test(tc, merged_extents);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockmap_suite)
