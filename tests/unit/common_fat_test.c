/* FAT12/16/32 parser: every file read through fat_lookup and fat_runs
 * equals what mcopy extracts, byte for byte (long names, 8.3 names, deep
 * directories, sizes around every cluster boundary, fragmented files), and
 * each kind of damage is refused with a reason. */
#include "tests/unit/tftpd_image_fixture.h"
#include "tests/unit/check_main.h"
#include "common/fat.h"

#define LONG_NAME "A long file name with spaces.txt"
#define UTF8_NAME "\xc3\xbc" "berl\xc3\xa4nge-\xc3\xb1" "ame.dtb"

static const char *const images[] = { "f12.img", "f16.img", "f32.img",
	"f4k.img" };

/* Sizes around the first three cluster boundaries. */
static size_t
boundary_size(unsigned i, uint32_t cs)
{
	static const int k[] = { 0, 0, 1, 1, 1, 2, 2, 2, 3 };
	static const int d[] = { 0, 1, -1, 0, 1, -1, 0, 1, 7 };

	return (size_t)((long)k[i] * cs + d[i]);
}
#define NBOUNDARY 9

static uint32_t
cluster_size(const char *img)
{
	return (uint32_t)(fx_read_le(img, 11, 2) * fx_read_le(img, 13, 1));
}

static void
populate(const char *img, unsigned seed)
{
	uint32_t cs = cluster_size(img);

	fx_make_file("long.bin", 3 * cs + 100, seed);
	fx_make_file("utf8.bin", 2 * cs, seed + 1);
	fx_make_file("cfg.bin", 300, seed + 2);
	fx_make_file("deep.bin", cs + 1, seed + 3);
	fx_sh("mcopy -i %s cfg.bin ::CONFIG.TXT && "
	    "mcopy -i %s long.bin '::" LONG_NAME "' && "
	    "LANG=C.UTF-8 mcopy -i %s utf8.bin '::" UTF8_NAME "' && "
	    "mmd -i %s ::a ::a/b ::a/b/c ::a/b/c/d ::a/b/c/d/e ::a/b/c/d/e/f "
	    "::a/b/c/d/e/f/g ::a/b/c/d/e/f/g/h ::a/b/c/d/e/f/g/h/i "
	    "::a/b/c/d/e/f/g/h/i/j ::a/b/c/d/e/f/g/h/i/j/k ::overlays && "
	    "mcopy -i %s deep.bin ::a/b/c/d/e/f/g/h/i/j/k/deep-file.bin",
	    img, img, img, img, img);
	for (unsigned i = 0; i < NBOUNDARY; i++) {
		fx_make_file("b.bin", boundary_size(i, cs), seed + 10 + i);
		fx_sh("mcopy -i %s b.bin ::size%u.bin", img, i);
	}
	/* More entries than one cluster of the directory holds. */
	fx_sh("for i in $(seq 1 200); do echo overlay $i > "
	    "overlay-number-$i.dtbo; done && mcopy -i %s overlay-number-*.dtbo "
	    "::overlays/ && rm overlay-number-*.dtbo", img);
	/* A fragmented file: the hole left by gap.bin, then after tail.bin. */
	fx_make_file("x.bin", 3 * cs, seed + 4);
	fx_sh("mcopy -i %s x.bin ::gap.bin && mcopy -i %s x.bin ::tail.bin && "
	    "mdel -i %s ::gap.bin", img, img, img);
	fx_make_file("frag.bin", 7 * cs + 5, seed + 5);
	fx_sh("mcopy -i %s frag.bin ::frag.bin", img);
	/* Three clusters each, to be damaged by the tests. */
	for (unsigned i = 0; i < 6; i++) {
		fx_make_file("v.bin", 3 * cs, seed + 20 + i);
		fx_sh("mcopy -i %s v.bin ::VICTIM%u.BIN", img, i);
	}
}

static void
setup(void)
{
	fx_setup_dir();
	fx_sh("mkfs.vfat -C -F 12 f12.img 4096 && "
	    "mkfs.vfat -C -F 16 -s 4 f16.img 32768 && "
	    "mkfs.vfat -C -F 32 -s 1 f32.img 40960 && "
	    "mkfs.vfat -C -F 16 -S 4096 -s 1 f4k.img 32768");
	for (unsigned i = 0; i < 4; i++)
		populate(images[i], 100 * i);
}

static void
teardown(void)
{
	fx_teardown_dir();
}

struct vol {
	struct fx_dev d;
	struct fat_vol *v;
};

static enum fat_result
vol_open(struct vol *vo, const char *img)
{
	fx_dev_open(&vo->d, img);
	vo->v = malloc(sizeof(*vo->v));
	ck_assert_ptr_nonnull(vo->v);
	return fat_open(vo->v, vo->d.dev.read, vo->d.dev.ctx, 0,
	    vo->d.dev.size);
}

static void
vol_close(struct vol *vo)
{
	free(vo->v);
	fx_dev_close(&vo->d);
}

/* Reads a file the way image mode does: lookup, runs, one read per run. */
static enum fat_result
read_file(struct vol *vo, const char *path, uint8_t **data, size_t *len,
    size_t *nruns)
{
	struct fat_dirent de;
	struct fat_run *runs;
	uint32_t tail;
	enum fat_result r;

	if ((r = fat_lookup(vo->v, path, &de)) != FAT_OK)
		return r;
	if ((r = fat_runs(vo->v, de.cluster, de.size, &runs, nruns, &tail)) !=
	    FAT_OK)
		return r;
	*data = malloc(de.size + 1);
	ck_assert_ptr_nonnull(*data);
	uint64_t total = 0;
	for (size_t i = 0; i < *nruns; i++) {
		ck_assert_uint_eq(runs[i].foff, total);
		ck_assert_int_eq(fx_read(vo->d.dev.ctx, *data + runs[i].foff,
		    runs[i].len, runs[i].off), 0);
		total += runs[i].len;
	}
	ck_assert_uint_eq(total, de.size);
	*len = de.size;
	free(runs);
	return FAT_OK;
}

/* The file at path in the image equals what mcopy extracts. */
static void
assert_same(const char *img, const char *path)
{
	struct vol vo;
	uint8_t *got, *want;
	size_t glen, wlen, nruns;

	fx_sh("rm -f want.bin && LANG=C.UTF-8 mcopy -n -i %s '::%s' want.bin",
	    img, path);
	want = fx_slurp(fx_path("want.bin"), &wlen);
	ck_assert_int_eq(vol_open(&vo, img), FAT_OK);
	ck_assert_msg(read_file(&vo, path, &got, &glen, &nruns) == FAT_OK,
	    "%s: %s: %s", img, path, vo.v->why);
	ck_assert_msg(glen == wlen && memcmp(got, want, wlen) == 0,
	    "%s: %s differs from mcopy (%zu vs %zu bytes)", img, path, glen,
	    wlen);
	free(got);
	free(want);
	vol_close(&vo);
}

START_TEST(types_by_cluster_count)
{
	static const int bits[] = { 12, 16, 32, 16 };
	struct vol vo;

	ck_assert_int_eq(vol_open(&vo, images[_i]), FAT_OK);
	ck_assert_int_eq(vo.v->bits, bits[_i]);
	ck_assert_uint_eq(vo.v->cluster_size, cluster_size(images[_i]));
	vol_close(&vo);
}
END_TEST

START_TEST(files_equal_mcopy)
{
	const char *img = images[_i];
	char path[64];

	assert_same(img, "CONFIG.TXT");
	assert_same(img, LONG_NAME);
	assert_same(img, UTF8_NAME);
	assert_same(img, "a/b/c/d/e/f/g/h/i/j/k/deep-file.bin");
	assert_same(img, "frag.bin");
	assert_same(img, "overlays/overlay-number-1.dtbo");
	assert_same(img, "overlays/overlay-number-200.dtbo");
	for (unsigned i = 0; i < NBOUNDARY; i++) {
		snprintf(path, sizeof(path), "size%u.bin", i);
		assert_same(img, path);
	}
}
END_TEST

/* The biggest file mcopy finds in directory dir of img ("" the root). */
static uint32_t
mtools_biggest(const char *img, const char *dir)
{
	uint8_t *out;
	size_t len;
	uint32_t n;

	fx_sh("rm -rf bigdir && mkdir bigdir && LANG=C.UTF-8 mcopy -n -i %s "
	    "'::%s/*' bigdir/ 2>/dev/null; find bigdir -maxdepth 1 -type f "
	    "-printf '%%s\\n' | sort -n | tail -1 > big.txt", img, dir);
	out = fx_slurp(fx_path("big.txt"), &len);
	n = (uint32_t)strtoul((char *)out, NULL, 10);
	free(out);
	return n;
}

START_TEST(biggest_beside)
{
	struct vol vo;
	uint32_t size, want;

	ck_assert_int_eq(vol_open(&vo, images[_i]), FAT_OK);
	/* The root: subdirectories do not count, files do. */
	want = mtools_biggest(images[_i], "");
	ck_assert_uint_gt(want, 0);
	ck_assert_int_eq(fat_dir_biggest(vo.v, "config.txt", &size), FAT_OK);
	ck_assert_uint_eq(size, want);
	ck_assert_int_eq(fat_dir_biggest(vo.v, "/./CONFIG.TXT", &size), FAT_OK);
	ck_assert_uint_eq(size, want);
	/* A file not there: the directory's is known all the same. */
	ck_assert_int_eq(fat_dir_biggest(vo.v, "missing.txt", &size), FAT_OK);
	ck_assert_uint_eq(size, want);
	want = mtools_biggest(images[_i], "overlays");
	ck_assert_int_eq(fat_dir_biggest(vo.v, "overlays/x.dtbo", &size),
	    FAT_OK);
	ck_assert_uint_eq(size, want);
	want = mtools_biggest(images[_i], "a/b/c/d/e/f/g/h/i/j/k");
	ck_assert_uint_eq(want, cluster_size(images[_i]) + 1);
	ck_assert_int_eq(fat_dir_biggest(vo.v,
	    "a/b/c/d/e/f/g/h/i/j/k/deep-file.bin", &size), FAT_OK);
	ck_assert_uint_eq(size, want);
	/* Only a directory holds files. */
	ck_assert_int_eq(fat_dir_biggest(vo.v, "missing/x", &size),
	    FAT_NOT_FOUND);
	ck_assert_int_eq(fat_dir_biggest(vo.v, "config.txt/x", &size),
	    FAT_NOT_FOUND);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(fat_dir_biggest(vo.v, "../x", &size), FAT_DENIED);
	vol_close(&vo);
}
END_TEST

START_TEST(case_insensitive_lookup)
{
	struct vol vo;
	struct fat_dirent a, b;

	ck_assert_int_eq(vol_open(&vo, images[_i]), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "config.txt", &a), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "Config.Txt", &b), FAT_OK);
	ck_assert_uint_eq(a.cluster, b.cluster);
	ck_assert_int_eq(fat_lookup(vo.v, "a long FILE name with SPACES.TXT",
	    &a), FAT_OK);
	ck_assert_str_eq(a.name, LONG_NAME);
	/* The short alias finds the same file. */
	ck_assert_int_eq(fat_lookup(vo.v, a.short_name, &b), FAT_OK);
	ck_assert_uint_eq(a.cluster, b.cluster);
	ck_assert_int_eq(fat_lookup(vo.v, "A/B/C/D/E/F/G/H/I/J/K/DEEP-FILE.BIN",
	    &b), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "OVERLAYS/overlay-number-150.DTBO",
	    &b), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "missing.txt", &b), FAT_NOT_FOUND);
	ck_assert_str_eq(vo.v->note, "");
	vol_close(&vo);
}
END_TEST

START_TEST(paths)
{
	struct vol vo;
	struct fat_dirent de;

	ck_assert_int_eq(vol_open(&vo, images[_i]), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "a/b/../b/./c/d/e/f/g/h/i/j/k//"
	    "deep-file.bin", &de), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "a/../CONFIG.TXT", &de), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "../CONFIG.TXT", &de), FAT_DENIED);
	ck_assert_int_eq(fat_lookup(vo.v, "a/../../CONFIG.TXT", &de),
	    FAT_DENIED);
	ck_assert_int_eq(fat_lookup(vo.v, "overlays", &de), FAT_IS_DIR);
	ck_assert_int_eq(fat_lookup(vo.v, "", &de), FAT_IS_DIR);
	ck_assert_int_eq(fat_lookup(vo.v, "CONFIG.TXT/x", &de), FAT_NOT_FOUND);
	ck_assert_int_eq(fat_lookup(vo.v, "a/b/nothing/x", &de),
	    FAT_NOT_FOUND);
	vol_close(&vo);
}
END_TEST

/* --- damage ------------------------------------------------------------- */


/* A copy of an image to damage. */
static const char *
damaged(const char *img, const char *tag)
{
	static char name[64];

	snprintf(name, sizeof(name), "%s-%s", tag, img);
	fx_sh("cp %s %s", img, name);
	return name;
}

static void
assert_open_bad(const char *img, const char *why)
{
	struct vol vo;

	ck_assert_int_eq(vol_open(&vo, img), FAT_BAD);
	ck_assert_str_eq(vo.v->why, why);
	vol_close(&vo);
}

START_TEST(boot_sector_bad_fields)
{
	const char *img = images[_i], *d;

	d = damaged(img, "bps0");
	fx_patch_le(d, 11, 0, 2);
	assert_open_bad(d, "FAT bytes per sector 0 is not a power of two "
	    "from 512 to 4096");
	d = damaged(img, "bps1000");
	fx_patch_le(d, 11, 1000, 2);
	assert_open_bad(d, "FAT bytes per sector 1000 is not a power of two "
	    "from 512 to 4096");
	d = damaged(img, "spc0");
	fx_patch_le(d, 13, 0, 1);
	assert_open_bad(d, "FAT sectors per cluster 0 is not a power of two");
	d = damaged(img, "spc3");
	fx_patch_le(d, 13, 3, 1);
	assert_open_bad(d, "FAT sectors per cluster 3 is not a power of two");
	d = damaged(img, "jump");
	fx_patch_le(d, 0, 0, 1);
	assert_open_bad(d, "no FAT boot sector (first byte 0x00)");
	d = damaged(img, "big");
	fx_patch_le(d, 19, 0, 2);
	fx_patch_le(d, 32, 0x7fffffff, 4);
	struct vol vo;
	ck_assert_int_eq(vol_open(&vo, d), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "larger than its partition") != NULL,
	    "%s", vo.v->why);
	vol_close(&vo);
}
END_TEST

/* The 8.3 entry of name (11 bytes as on disk) in the image. */
static uint64_t
entry_of(const char *img, const char *name11)
{
	int64_t off = fx_find(img, name11, 11);

	ck_assert_msg(off >= 0, "%.11s not in %s", name11, img);
	return (uint64_t)off;
}

static uint32_t
entry_cluster(const char *img, uint64_t e)
{
	return (uint32_t)(fx_read_le(img, e + 26, 2) |
	    fx_read_le(img, e + 20, 2) << 16);
}

/* Offset of cluster c's entry in the first FAT, and its width. */
static uint64_t
fat_entry(struct vol *vo, uint32_t c, size_t *width)
{
	*width = vo->v->bits == 32 ? 4 : 2;
	return vo->v->fat_off + (vo->v->bits == 12 ? c + c / 2 :
	    (uint64_t)c * (vo->v->bits / 8));
}

/* Sets cluster c's FAT entry to val in every FAT (so no repair tool would
 * prefer another copy), keeping FAT12's neighbouring nibble. */
static void
set_fat(struct vol *vo, const char *img, uint32_t c, uint32_t val)
{
	size_t w;
	uint64_t off = fat_entry(vo, c, &w);
	uint64_t old = fx_read_le(img, off, w);

	if (vo->v->bits == 12)
		val = c & 1 ? (uint32_t)((old & 0x000f) | (val << 4)) :
		    (uint32_t)((old & 0xf000) | (val & 0xfff));
	fx_patch_le(img, off, val, w);
}

static enum fat_result
open_victim(const char *img, unsigned n, struct vol *vo, uint8_t **data)
{
	char path[32];
	size_t len, nruns;

	snprintf(path, sizeof(path), "VICTIM%u.BIN", n);
	ck_assert_int_eq(vol_open(vo, img), FAT_OK);
	*data = NULL;
	return read_file(vo, path, data, &len, &nruns);
}

START_TEST(fragmented_file_has_runs)
{
	const char *d = damaged(images[_i], "swap");
	struct vol vo;
	uint8_t *data;
	size_t len, nruns;
	uint32_t c[4];

	/* Whether mtools left frag.bin in one piece depends on its
	 * allocator; relink the first four clusters of its chain as c0, c2,
	 * c1, c3 so it is in pieces for sure, which mcopy follows too. */
	c[0] = entry_cluster(d, entry_of(d, "FRAG    BIN"));
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	for (int i = 1; i < 4; i++)
		ck_assert_int_eq(fat_next(vo.v, c[i - 1], &c[i]), FAT_OK);
	set_fat(&vo, d, c[0], c[2]);
	set_fat(&vo, d, c[2], c[1]);
	set_fat(&vo, d, c[1], c[3]);
	vol_close(&vo);
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(read_file(&vo, "frag.bin", &data, &len, &nruns),
	    FAT_OK);
	ck_assert_uint_ge(nruns, 3);
	free(data);
	/* A contiguous file is one run, however many clusters. */
	ck_assert_int_eq(read_file(&vo, "size8.bin", &data, &len, &nruns),
	    FAT_OK);
	ck_assert_uint_eq(nruns, 1);
	free(data);
	vol_close(&vo);
	assert_same(d, "frag.bin");
}
END_TEST

START_TEST(cluster_out_of_range)
{
	const char *d = damaged(images[_i], "range");
	struct vol vo;
	uint8_t *data;
	uint64_t e = entry_of(d, "VICTIM0 BIN");
	uint32_t c = entry_cluster(d, e);

	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	uint32_t bogus = vo.v->max_cluster + 1;
	set_fat(&vo, d, c, bogus);
	vol_close(&vo);
	ck_assert_int_eq(open_victim(d, 0, &vo, &data), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "out of range") != NULL, "%s",
	    vo.v->why);
	vol_close(&vo);
	/* And a first cluster out of range in the directory entry. */
	fx_patch_le(d, e + 26, 1, 2);
	ck_assert_int_eq(open_victim(d, 0, &vo, &data), FAT_BAD);
	ck_assert_msg(strncmp(vo.v->why, "first cluster 1 out of range 2-",
	    31) == 0, "%s", vo.v->why);
	vol_close(&vo);
}
END_TEST

START_TEST(cluster_loop)
{
	const char *d = damaged(images[_i], "loop");
	struct vol vo;
	uint8_t *data;
	uint32_t c = entry_cluster(d, entry_of(d, "VICTIM1 BIN"));

	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	/* The second cluster links back to the first. */
	set_fat(&vo, d, c + 1, c);
	vol_close(&vo);
	ck_assert_int_eq(open_victim(d, 1, &vo, &data), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "loops") != NULL, "%s", vo.v->why);
	vol_close(&vo);
}
END_TEST

START_TEST(free_cluster_in_chain)
{
	const char *d = damaged(images[_i], "free");
	struct vol vo;
	uint8_t *data;
	uint32_t c = entry_cluster(d, entry_of(d, "VICTIM2 BIN"));

	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	set_fat(&vo, d, c, 0);
	vol_close(&vo);
	ck_assert_int_eq(open_victim(d, 2, &vo, &data), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "is free but inside a chain") != NULL,
	    "%s", vo.v->why);
	vol_close(&vo);
}
END_TEST

START_TEST(size_past_chain)
{
	const char *d = damaged(images[_i], "size");
	struct vol vo;
	uint8_t *data;
	uint64_t e = entry_of(d, "VICTIM3 BIN");

	fx_patch_le(d, e + 28, 10 * cluster_size(d), 4);
	ck_assert_int_eq(open_victim(d, 3, &vo, &data), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "runs past its chain of 3 clusters") !=
	    NULL, "%s", vo.v->why);
	vol_close(&vo);
	/* A size beyond what the volume could hold. */
	fx_patch_le(d, e + 28, 0xffffffff, 4);
	ck_assert_int_eq(open_victim(d, 3, &vo, &data), FAT_BAD);
	vol_close(&vo);
}
END_TEST

START_TEST(garbage_entry)
{
	const char *d = damaged(images[_i], "garbage");
	struct vol vo;
	uint8_t *data;
	uint64_t e = entry_of(d, "VICTIM4 BIN");

	fx_patch(d, e, "VICT\x01\x02*?BIN", 11);
	ck_assert_int_eq(open_victim(d, 4, &vo, &data), FAT_NOT_FOUND);
	ck_assert_msg(strstr(vo.v->note, "is garbage") != NULL, "%s",
	    vo.v->note);
	vol_close(&vo);
	/* Reserved attribute bits: garbage as well; others still found. */
	fx_patch(d, e, "VICTIM4 BIN\xc0", 12);
	ck_assert_int_eq(open_victim(d, 4, &vo, &data), FAT_NOT_FOUND);
	ck_assert_msg(strstr(vo.v->note, "is garbage") != NULL, "%s",
	    vo.v->note);
	vol_close(&vo);
	ck_assert_int_eq(open_victim(d, 5, &vo, &data), FAT_OK);
	free(data);
	vol_close(&vo);
}
END_TEST

/* The long-name entry holding the first 13 characters of LONG_NAME. */
static uint64_t
lfn_first(const char *img)
{
	const char *n = LONG_NAME;
	uint8_t u[10];

	for (int i = 0; i < 5; i++) {
		u[2 * i] = (uint8_t)n[i];
		u[2 * i + 1] = 0;
	}
	int64_t off = fx_find(img, u, sizeof(u));
	ck_assert_int_gt(off, 0);
	return (uint64_t)off - 1;
}

START_TEST(long_name_bad_checksum)
{
	const char *d = damaged(images[_i], "lfnsum");
	struct vol vo;
	struct fat_dirent de;
	uint64_t e = lfn_first(d);

	/* Every entry of the name agrees, but not with the 8.3 entry. */
	for (uint64_t p = e;; p -= 32) {
		fx_patch_le(d, p + 13, fx_read_le(d, p + 13, 1) ^ 0x5a, 1);
		if (fx_read_le(d, p, 1) & 0x40)
			break;
	}
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, LONG_NAME, &de), FAT_NOT_FOUND);
	ck_assert_msg(strstr(vo.v->note, "wrong checksum") != NULL, "%s",
	    vo.v->note);
	/* Still there under its short name, as on any FAT driver. */
	ck_assert_int_eq(fat_lookup(vo.v, "ALONGF~1.TXT", &de), FAT_OK);
	vol_close(&vo);
}
END_TEST

START_TEST(long_name_does_not_chain)
{
	const char *d = damaged(images[_i], "lfnchain");
	struct vol vo;
	struct fat_dirent de;
	uint64_t e = lfn_first(d);

	fx_patch_le(d, e, 7, 1);	/* ordinal 1 -> 7 */
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, LONG_NAME, &de), FAT_NOT_FOUND);
	ck_assert_msg(strstr(vo.v->note, "does not chain") != NULL, "%s",
	    vo.v->note);
	vol_close(&vo);
}
END_TEST

START_TEST(directory_loop)
{
	const char *d = damaged(images[_i], "dirloop");
	struct vol vo;
	struct fat_dirent de;

	/* The first cluster of overlays/ (full: 200 long names) links to
	 * itself, so no end-of-directory entry is ever reached. */
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "overlays", &de), FAT_IS_DIR);
	set_fat(&vo, d, de.cluster, de.cluster);
	vol_close(&vo);
	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "overlays/nothing", &de), FAT_BAD);
	ck_assert_str_eq(vo.v->why, "directory /overlays: cluster chain loops "
	    "or exceeds 65536 entries");
	vol_close(&vo);
}
END_TEST

START_TEST(check_runs_sees_changes)
{
	const char *d = damaged(images[_i], "recheck");
	struct vol vo;
	struct fat_dirent de;
	struct fat_run *runs;
	size_t nruns;
	uint32_t tail;

	ck_assert_int_eq(vol_open(&vo, d), FAT_OK);
	ck_assert_int_eq(fat_lookup(vo.v, "frag.bin", &de), FAT_OK);
	ck_assert_int_eq(fat_runs(vo.v, de.cluster, de.size, &runs, &nruns,
	    &tail), FAT_OK);
	ck_assert_int_eq(fat_check_runs(vo.v, runs, nruns, tail, 0, 8),
	    FAT_OK);
	ck_assert_int_eq(fat_check_runs(vo.v, runs, nruns, tail, 3, 5),
	    FAT_OK);
	/* The file is deleted under us: its clusters are free. */
	fx_sh("mdel -i %s ::frag.bin", d);
	ck_assert_int_eq(fat_check_runs(vo.v, runs, nruns, tail, 0, 8),
	    FAT_BAD);
	free(runs);
	vol_close(&vo);
}
END_TEST

START_TEST(read_outside_partition_refused)
{
	struct vol vo;
	struct fat_dirent de;

	/* The partition claims less than the file system needs. */
	fx_dev_open(&vo.d, images[_i]);
	vo.v = malloc(sizeof(*vo.v));
	ck_assert_int_eq(fat_open(vo.v, vo.d.dev.read, vo.d.dev.ctx, 0,
	    vo.d.dev.size / 2), FAT_BAD);
	ck_assert_msg(strstr(vo.v->why, "larger than its partition") != NULL,
	    "%s", vo.v->why);
	(void)de;
	vol_close(&vo);
}
END_TEST

static Suite *
fat_suite(void)
{
	Suite *s = suite_create("common_fat");
	TCase *tc = tcase_create("fat");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, types_by_cluster_count, 0, 4);
	tcase_add_loop_test(tc, files_equal_mcopy, 0, 4);
	tcase_add_loop_test(tc, case_insensitive_lookup, 0, 4);
	tcase_add_loop_test(tc, biggest_beside, 0, 4);
	tcase_add_loop_test(tc, paths, 0, 4);
	tcase_add_loop_test(tc, fragmented_file_has_runs, 0, 4);
	tcase_add_loop_test(tc, boot_sector_bad_fields, 0, 4);
	tcase_add_loop_test(tc, cluster_out_of_range, 0, 4);
	tcase_add_loop_test(tc, cluster_loop, 0, 4);
	tcase_add_loop_test(tc, free_cluster_in_chain, 0, 4);
	tcase_add_loop_test(tc, size_past_chain, 0, 4);
	tcase_add_loop_test(tc, garbage_entry, 0, 4);
	tcase_add_loop_test(tc, long_name_bad_checksum, 0, 4);
	tcase_add_loop_test(tc, long_name_does_not_chain, 0, 4);
	tcase_add_loop_test(tc, directory_loop, 0, 4);
	tcase_add_loop_test(tc, check_runs_sees_changes, 0, 4);
	tcase_add_loop_test(tc, read_outside_partition_refused, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fat_suite)
