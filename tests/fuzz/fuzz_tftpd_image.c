/* libFuzzer harness over image mode's pure parsers: the partition table
 * (part_find) and FAT (fat_open, directory scans, lookups, chains). The
 * input is a sparse image so that small inputs describe images of many MiB
 * (a GPT at the end, FAT32's cluster counts):
 *
 *   u64 device size, then records of { u32 sector, u16 length, bytes },
 *   little-endian; the bytes land at sector * 512, everything else is 0.
 *
 * Checks beyond "no crash": once a partition is chosen, no read leaves it;
 * every run of a file lies inside the partition and covers the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/fat.h"
#include "common/part.h"

#define MAX_RECORDS 512
#define MAX_DEVICE (1ull << 40)

struct rec {
	uint64_t off;
	const uint8_t *data;
	size_t len;
};

struct sparse {
	struct rec r[MAX_RECORDS];
	int n;
	uint64_t size;
	uint64_t lo, hi;	/* reads must stay in [lo, hi) */
	uint64_t reads;
};

static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int
sparse_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct sparse *s = ctx;

	if (off > s->size || len > s->size - off)
		return -1;
	if (off < s->lo || off + len > s->hi)
		abort();	/* a read outside the partition */
	/* Bound the work a hostile image can cause. */
	if (++s->reads > 20000)
		return -1;
	memset(buf, 0, len);
	for (int i = 0; i < s->n; i++) {
		const struct rec *r = &s->r[i];
		uint64_t a = r->off > off ? r->off : off;
		uint64_t b = r->off + r->len < off + len ? r->off + r->len :
		    off + len;
		if (a < b)
			memcpy((uint8_t *)buf + (a - off),
			    r->data + (a - r->off), b - a);
	}
	return 0;
}

static void
sparse_parse(struct sparse *s, const uint8_t *data, size_t size)
{
	memset(s, 0, sizeof(*s));
	if (size < 8)
		return;
	s->size = get_le(data, 8) % MAX_DEVICE;
	s->hi = s->size;
	for (size_t p = 8; p + 6 <= size && s->n < MAX_RECORDS;) {
		uint64_t sec = get_le(data + p, 4);
		size_t len = (size_t)get_le(data + p + 4, 2);
		p += 6;
		if (len > size - p)
			len = size - p;
		s->r[s->n++] = (struct rec){ sec * 512, data + p, len };
		p += len;
	}
}

struct walk {
	struct fat_vol *v;
	struct sparse *s;
	int files, dirs, depth;
};

static void check_file(struct walk *w, const struct fat_dirent *de);

static int
walk_cb(void *arg, const struct fat_dirent *de)
{
	struct walk *w = arg;

	if (de->attr & FAT_ATTR_DIR) {
		if (w->depth < 3 && w->dirs < 16 && de->cluster != 0) {
			struct walk sub = *w;
			w->dirs++;
			sub.depth++;
			(void)fat_dir_scan(w->v, de->cluster, "d", walk_cb,
			    &sub);
		}
	} else if (w->files++ < 16) {
		check_file(w, de);
	}
	return 0;
}

static void
check_file(struct walk *w, const struct fat_dirent *de)
{
	struct fat_run *runs;
	size_t n;
	uint32_t tail;
	uint64_t total = 0;
	uint8_t buf[4096];

	if (fat_runs(w->v, de->cluster, de->size, &runs, &n, &tail) != FAT_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		if (runs[i].foff != total || runs[i].len == 0 ||
		    runs[i].off > w->v->len ||
		    runs[i].len > w->v->len - runs[i].off)
			abort();
		total += runs[i].len;
		size_t l = runs[i].len < sizeof(buf) ? runs[i].len :
		    sizeof(buf);
		(void)w->v->read(w->v->ctx, buf, l, w->v->base + runs[i].off);
	}
	if (total != de->size)
		abort();
	(void)fat_check_runs(w->v, runs, n, tail, 0, 1u << 20);
	free(runs);
}

static void
fuzz_fat(struct sparse *s, uint64_t base, uint64_t len)
{
	static const char *const paths[] = { "config.txt", "OVERLAYS/a.dtbo",
		"a/b/c/d", "../x", "a long name.txt" };
	struct fat_vol *v = malloc(sizeof(*v));
	struct fat_dirent de;

	if (v == NULL)
		return;
	s->lo = base;
	s->hi = base + len;
	s->reads = 0;
	if (fat_open(v, sparse_read, s, base, len) == FAT_OK) {
		struct walk w = { v, s, 0, 0, 0 };
		(void)fat_dir_scan(v, 0, "", walk_cb, &w);
		uint32_t big;

		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			if (fat_lookup(v, paths[i], &de) == FAT_OK)
				check_file(&w, &de);
			(void)fat_dir_biggest(v, paths[i], &big);
		}
	}
	s->lo = 0;
	s->hi = s->size;
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sparse s;
	struct blkdev dev;
	struct part p;
	char why[256];

	sparse_parse(&s, data, size);
	dev.read = sparse_read;
	dev.ctx = &s;
	dev.size = s.size;
	dev.sector_size = 0;
	for (int want = 0; want <= 5; want += 5) {
		s.reads = 0;
		if (part_find(&dev, want, &p, why, sizeof(why)) != PART_OK)
			continue;
		if (p.start > s.size || p.length > s.size - p.start ||
		    p.length == 0)
			abort();
		fuzz_fat(&s, p.start, p.length);
	}
	/* The FAT parser on its own, as if the image were a superfloppy. */
	fuzz_fat(&s, 0, s.size);
	return 0;
}
