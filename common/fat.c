/* FAT12/16/32 after Microsoft's "FAT: General Overview of On-Disk Format"
 * 1.03, with the leniencies of Linux's vfat driver where images in the
 * wild need them (FAT32 told by a zero 16-bit FAT size, lower-case short
 * names). Nothing is cached across calls except the FAT window, which the
 * caller drops with fat_forget(); every read is bounds-checked against the
 * partition first. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/fat.h"

#define DIRENT_SIZE	32
#define LFN_UNITS	13	/* UTF-16 units in one long-name entry */
#define LFN_MAX_ORD	20	/* 20 * 13 >= 255 */
#define PATH_DEPTH_MAX	128
#define RUNS_MAX	(1u << 20)

static enum fat_result __attribute__((format(printf, 3, 4)))
fail(struct fat_vol *v, enum fat_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return r;
}

/* Keeps the first oddity seen: that is the one that explains a miss. */
static void __attribute__((format(printf, 2, 3)))
note(struct fat_vol *v, const char *fmt, ...)
{
	va_list ap;

	if (v->note[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(v->note, sizeof(v->note), fmt, ap);
	va_end(ap);
}

static int
pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Reads len bytes at off from the start of the partition. */
static enum fat_result
vread(struct fat_vol *v, void *buf, size_t len, uint64_t off)
{
	if (off > v->len || len > v->len - off)
		return fail(v, FAT_BAD, "read of %zu bytes at %ju leaves the "
		    "partition (%ju bytes)", len, (uintmax_t)off,
		    (uintmax_t)v->len);
	if (v->read(v->ctx, buf, len, v->base + off) == -1)
		return fail(v, FAT_IO, "cannot read %zu bytes at partition "
		    "offset %ju", len, (uintmax_t)off);
	return FAT_OK;
}

int
fat_boot_plausible(const uint8_t *bs, size_t len)
{
	if (len < 512 || (bs[0] != 0xeb && bs[0] != 0xe9))
		return 0;
	uint32_t bps = le16(bs + 11), spc = bs[13];
	return bps >= 512 && bps <= 4096 && pow2(bps) && pow2(spc) &&
	    le16(bs + 14) != 0 && bs[16] != 0 &&
	    (bs[21] == 0xf0 || bs[21] >= 0xf8) &&
	    (le16(bs + 19) != 0 || le32(bs + 32) != 0);
}

enum fat_result
fat_open(struct fat_vol *v, blk_read_fn read, void *ctx, uint64_t base,
    uint64_t len)
{
	uint8_t bs[512];
	enum fat_result r;

	memset(v, 0, offsetof(struct fat_vol, win));
	v->read = read;
	v->ctx = ctx;
	v->base = base;
	v->len = len;
	if ((r = vread(v, bs, sizeof(bs), 0)) != FAT_OK)
		return r;
	if (bs[0] != 0xeb && bs[0] != 0xe9)
		return fail(v, FAT_BAD, "no FAT boot sector (first byte "
		    "0x%02x)", bs[0]);
	uint32_t bps = le16(bs + 11), spc = bs[13], rsvd = le16(bs + 14);
	uint32_t nfats = bs[16], root_ent = le16(bs + 17);
	uint64_t tot = le16(bs + 19) ? le16(bs + 19) : le32(bs + 32);
	uint64_t fatsz = le16(bs + 22);
	if (!pow2(bps) || bps < 512 || bps > 4096)
		return fail(v, FAT_BAD, "FAT bytes per sector %u is not a "
		    "power of two from 512 to 4096", bps);
	if (!pow2(spc))
		return fail(v, FAT_BAD, "FAT sectors per cluster %u is not a "
		    "power of two", spc);
	if (rsvd == 0 || nfats == 0 || tot == 0)
		return fail(v, FAT_BAD, "FAT boot sector has %u reserved "
		    "sectors, %u FATs, %ju sectors", rsvd, nfats,
		    (uintmax_t)tot);
	v->bits = fatsz != 0 ? 16 : 32;
	if (fatsz == 0) {
		fatsz = le32(bs + 36);
		v->root_cluster = le32(bs + 44);
		root_ent = 0;
	}
	if (fatsz == 0)
		return fail(v, FAT_BAD, "FAT size is 0");
	if (tot > len / bps)
		return fail(v, FAT_BAD, "FAT file system of %ju bytes is "
		    "larger than its partition (%ju bytes)",
		    (uintmax_t)(tot * bps), (uintmax_t)len);
	uint64_t root_secs = ((uint64_t)root_ent * DIRENT_SIZE + bps - 1) /
	    bps;
	uint64_t meta = rsvd + nfats * fatsz + root_secs;
	if (meta >= tot)
		return fail(v, FAT_BAD, "FATs and root directory (%ju "
		    "sectors) fill the whole file system (%ju sectors)",
		    (uintmax_t)meta, (uintmax_t)tot);
	uint64_t clusters = (tot - meta) / spc;
	if (clusters == 0)
		return fail(v, FAT_BAD, "FAT file system has no data clusters");
	if (v->bits == 16 && clusters < 4085)
		v->bits = 12;
	v->bps = bps;
	v->cluster_size = bps * spc;
	v->fat_off = (uint64_t)rsvd * bps;
	v->fat_bytes = fatsz * bps;
	v->root_off = v->fat_off + nfats * v->fat_bytes;
	v->root_bytes = root_ent * DIRENT_SIZE;
	v->data_off = meta * bps;
	/* Cluster numbers the FAT can hold and the format allows. */
	uint64_t max = clusters + 1;
	uint64_t fat_cap = v->fat_bytes * 8 / v->bits - 1;
	uint64_t fmt_cap = v->bits == 12 ? 0xff6 : v->bits == 16 ? 0xfff6 :
	    0x0ffffff6;
	if (max > fat_cap)
		max = fat_cap;
	if (max > fmt_cap)
		max = fmt_cap;
	if (max < 2)
		return fail(v, FAT_BAD, "FAT holds no data clusters");
	v->max_cluster = (uint32_t)max;
	if (v->bits == 32 && (v->root_cluster < 2 ||
	    v->root_cluster > v->max_cluster))
		return fail(v, FAT_BAD, "FAT32 root directory cluster %u out "
		    "of range 2-%u", v->root_cluster, v->max_cluster);
	return FAT_OK;
}

void
fat_forget(struct fat_vol *v)
{
	v->win_len = 0;
}

enum fat_result
fat_next(struct fat_vol *v, uint32_t c, uint32_t *next)
{
	uint64_t off;
	uint32_t val, nb = v->bits == 32 ? 4 : 2;
	enum fat_result r;

	if (c < 2 || c > v->max_cluster)
		return fail(v, FAT_BAD, "cluster %u out of range 2-%u", c,
		    v->max_cluster);
	off = v->bits == 12 ? c + c / 2 : (uint64_t)c * (v->bits / 8);
	if (off + nb > v->fat_bytes)
		return fail(v, FAT_BAD, "cluster %u lies beyond the FAT", c);
	if (v->win_len == 0 || off < v->win_off ||
	    off + nb > v->win_off + v->win_len) {
		uint64_t start = off & ~(uint64_t)511;
		uint64_t wl = v->fat_bytes - start;
		if (wl > FAT_WINDOW)
			wl = FAT_WINDOW;
		v->win_len = 0;
		if ((r = vread(v, v->win, wl, v->fat_off + start)) != FAT_OK)
			return r;
		v->win_off = start;
		v->win_len = (uint32_t)wl;
	}
	const uint8_t *p = v->win + (off - v->win_off);
	switch (v->bits) {
	case 12:
		val = le16(p);
		val = c & 1 ? val >> 4 : val & 0xfff;
		if (val >= 0xff8)
			val = FAT_EOC;
		else if (val == 0xff7)
			return fail(v, FAT_BAD, "cluster %u is marked bad", c);
		break;
	case 16:
		val = le16(p);
		if (val >= 0xfff8)
			val = FAT_EOC;
		else if (val == 0xfff7)
			return fail(v, FAT_BAD, "cluster %u is marked bad", c);
		break;
	default:
		val = le32(p) & 0x0fffffff;
		if (val >= 0x0ffffff8)
			val = FAT_EOC;
		else if (val == 0x0ffffff7)
			return fail(v, FAT_BAD, "cluster %u is marked bad", c);
		break;
	}
	if (val == 0)
		return fail(v, FAT_BAD, "cluster %u is free but inside a "
		    "chain", c);
	if (val != FAT_EOC && (val < 2 || val > v->max_cluster))
		return fail(v, FAT_BAD, "cluster %u links to cluster %u, out "
		    "of range 2-%u", c, val, v->max_cluster);
	*next = val;
	return FAT_OK;
}

/* --- directories -------------------------------------------------------- */

/* A long name being collected from its entries, last part first. */
struct lfn {
	uint16_t u[LFN_MAX_ORD * LFN_UNITS];
	int active;
	int parts;	/* how many entries the name has */
	int expect;	/* the ordinal of the next entry */
	uint8_t sum;
};

struct scan {
	struct fat_vol *v;
	const char *path;
	fat_dir_cb cb;
	void *arg;
	struct lfn lfn;
	uint32_t index;	/* of the entry, for messages */
	int done;
};

static uint8_t
short_sum(const uint8_t *name)
{
	uint8_t sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

static int
short_char_ok(uint8_t c)
{
	return c >= 0x20 && strchr("\"*+,./:;<=>?[\\]|", c) == NULL;
}

/* "NAME    EXT" -> "NAME.EXT"; 0 if the entry is garbage. */
static int
short_name(const uint8_t *e, char out[13])
{
	size_t n = 0;
	int blen = 8, elen = 3;

	if (e[0] == ' ')
		return 0;
	while (blen > 0 && e[blen - 1] == ' ')
		blen--;
	while (elen > 0 && e[8 + elen - 1] == ' ')
		elen--;
	for (int i = 0; i < blen; i++) {
		if (!short_char_ok(e[i]) && !(i == 0 && e[0] == 0x05))
			return 0;
		/* 0x05 stands for a leading 0xe5, which marks deleted. */
		out[n++] = (char)(i == 0 && e[0] == 0x05 ? 0xe5 : e[i]);
	}
	if (elen > 0)
		out[n++] = '.';
	for (int i = 0; i < elen; i++) {
		if (!short_char_ok(e[8 + i]))
			return 0;
		out[n++] = (char)e[8 + i];
	}
	out[n] = '\0';
	return 1;
}

/* The collected long name as UTF-8; 0 if it is not a valid name. */
static int
lfn_utf8(const struct lfn *l, char *out, size_t outlen)
{
	size_t n = 0, units = (size_t)l->parts * LFN_UNITS;

	for (size_t i = 0; i < units && l->u[i] != 0; i++) {
		uint32_t cp = l->u[i];
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return 0;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 1 >= units || l->u[i + 1] < 0xdc00 ||
			    l->u[i + 1] > 0xdfff)
				return 0;
			cp = 0x10000 + ((cp - 0xd800) << 10) +
			    (l->u[++i] - 0xdc00);
		}
		if (cp < 0x20 || (cp < 0x80 && strchr("\"*/:<>?\\|",
		    (int)cp) != NULL))
			return 0;
		if (n + 5 > outlen)
			return 0;
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xc0 | cp >> 6);
			out[n++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xe0 | cp >> 12);
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[n++] = (char)(0xf0 | cp >> 18);
			out[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	out[n] = '\0';
	return n > 0;
}

static void
lfn_entry(struct scan *s, const uint8_t *e)
{
	static const int pos[LFN_UNITS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20,
		22, 24, 28, 30 };
	struct lfn *l = &s->lfn;
	int ord = e[0] & 0x3f;

	if (e[0] & 0x40) {
		if (l->active)
			note(s->v, "directory /%s: long name before entry %u "
			    "is incomplete", s->path, s->index);
		l->active = 0;
		if (ord == 0 || ord > LFN_MAX_ORD || e[12] != 0 ||
		    le16(e + 26) != 0) {
			note(s->v, "directory /%s: entry %u is a garbage "
			    "long-name entry", s->path, s->index);
			return;
		}
		l->active = 1;
		l->parts = l->expect = ord;
		l->sum = e[13];
	} else if (!l->active || ord != l->expect || e[13] != l->sum ||
	    e[12] != 0 || le16(e + 26) != 0) {
		note(s->v, "directory /%s: long-name entry %u does not chain "
		    "to the one before", s->path, s->index);
		l->active = 0;
		return;
	}
	for (int i = 0; i < LFN_UNITS; i++)
		l->u[(ord - 1) * LFN_UNITS + i] = le16(e + pos[i]);
	l->expect--;
}

/* One 32-byte entry. Returns 1 at the end of the directory. */
static int
scan_entry(struct scan *s, const uint8_t *e)
{
	struct fat_dirent de;
	struct lfn *l = &s->lfn;
	uint8_t attr = e[11];

	if (e[0] == 0x00)
		return 1;
	if (e[0] == 0xe5) {
		l->active = 0;
		return 0;
	}
	if ((attr & 0x3f) == FAT_ATTR_LFN) {
		lfn_entry(s, e);
		return 0;
	}
	if (e[0] == '.') {
		/* "." and ".." are the only names starting with a dot. */
		if (memcmp(e, ".          ", 11) != 0 &&
		    memcmp(e, "..         ", 11) != 0)
			note(s->v, "directory /%s: entry %u is garbage",
			    s->path, s->index);
		l->active = 0;
		return 0;
	}
	if ((attr & FAT_ATTR_VOLUME) && !(attr & FAT_ATTR_DIR) &&
	    !(attr & 0xc0)) {
		l->active = 0;	/* the volume label */
		return 0;
	}
	memset(&de, 0, sizeof(de));
	if ((attr & 0xc0) || (attr & (FAT_ATTR_VOLUME | FAT_ATTR_DIR)) ==
	    (FAT_ATTR_VOLUME | FAT_ATTR_DIR) || !short_name(e, de.short_name)) {
		note(s->v, "directory /%s: entry %u is garbage", s->path,
		    s->index);
		l->active = 0;
		return 0;
	}
	strlcpy(de.name, de.short_name, sizeof(de.name));
	if (l->active) {
		if (l->expect != 0)
			note(s->v, "directory /%s: long name of %s is "
			    "incomplete", s->path, de.short_name);
		else if (short_sum(e) != l->sum)
			note(s->v, "directory /%s: long name of %s has a wrong "
			    "checksum", s->path, de.short_name);
		else if (!lfn_utf8(l, de.name, sizeof(de.name))) {
			note(s->v, "directory /%s: long name of %s is not a "
			    "valid name", s->path, de.short_name);
			strlcpy(de.name, de.short_name, sizeof(de.name));
		}
		l->active = 0;
	}
	de.attr = attr;
	de.cluster = (s->v->bits == 32 ? (uint32_t)le16(e + 20) << 16 : 0) |
	    le16(e + 26);
	de.size = le32(e + 28);
	if (s->cb(s->arg, &de))
		return 1;
	return 0;
}

/* Feeds len bytes of directory entries to scan_entry; 1 when done. */
static int
scan_buf(struct scan *s, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + DIRENT_SIZE <= len; i += DIRENT_SIZE) {
		if (scan_entry(s, buf + i))
			return 1;
		s->index++;
	}
	return 0;
}

enum fat_result
fat_dir_scan(struct fat_vol *v, uint32_t cluster, const char *path,
    fat_dir_cb cb, void *arg)
{
	struct scan s;
	uint8_t *buf;
	uint64_t total = 0;
	enum fat_result r = FAT_OK;

	memset(&s, 0, sizeof(s));
	s.v = v;
	s.path = path;
	s.cb = cb;
	s.arg = arg;
	if (cluster == 0 && v->bits != 32) {
		if (v->root_bytes == 0)
			return FAT_OK;
		if ((buf = malloc(v->root_bytes)) == NULL)
			return fail(v, FAT_IO, "out of memory");
		if ((r = vread(v, buf, v->root_bytes, v->root_off)) == FAT_OK)
			scan_buf(&s, buf, v->root_bytes);
		free(buf);
		return r;
	}
	if (cluster == 0)
		cluster = v->root_cluster;
	if ((buf = malloc(v->cluster_size)) == NULL)
		return fail(v, FAT_IO, "out of memory");
	while (cluster != FAT_EOC) {
		if (cluster < 2 || cluster > v->max_cluster) {
			r = fail(v, FAT_BAD, "directory /%s: cluster %u out "
			    "of range 2-%u", path, cluster, v->max_cluster);
			break;
		}
		/* The format's limit doubles as the loop detector. */
		if ((total += v->cluster_size) > FAT_DIR_MAX +
		    (uint64_t)v->cluster_size) {
			r = fail(v, FAT_BAD, "directory /%s: cluster chain "
			    "loops or exceeds 65536 entries", path);
			break;
		}
		if ((r = vread(v, buf, v->cluster_size, v->data_off +
		    (uint64_t)(cluster - 2) * v->cluster_size)) != FAT_OK)
			break;
		if (scan_buf(&s, buf, v->cluster_size))
			break;
		if ((r = fat_next(v, cluster, &cluster)) != FAT_OK) {
			char why[FAT_WHY_MAX];
			strlcpy(why, v->why, sizeof(why));
			fail(v, r, "directory /%s: %s", path, why);
			break;
		}
	}
	free(buf);
	return r;
}

/* --- lookup -------------------------------------------------------------- */

struct match {
	const char *name;
	size_t len;
	struct fat_dirent *out;
	int found;
};

/* ASCII case folding, as the Pi's FAT driver and the C locale do. */
static int
name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x == '\0')
			return 0;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return a[i] == '\0';
}

static int
match_cb(void *arg, const struct fat_dirent *de)
{
	struct match *m = arg;

	if (name_eq(de->name, m->name, m->len) ||
	    name_eq(de->short_name, m->name, m->len)) {
		*m->out = *de;
		m->found = 1;
		return 1;
	}
	return 0;
}

enum fat_result
fat_lookup(struct fat_vol *v, const char *path, struct fat_dirent *out)
{
	const char *comp[PATH_DEPTH_MAX];
	size_t clen[PATH_DEPTH_MAX];
	char dirpath[1024] = "";
	int n = 0;
	uint32_t dir = 0;
	enum fat_result r;

	/* Lexical first, as directory mode does: ".." never reaches a
	 * directory's ".." entry. */
	for (const char *p = path; *p != '\0';) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0)
				return fail(v, FAT_DENIED, "path %s leaves the "
				    "partition", path);
			n--;
		} else {
			if (n == PATH_DEPTH_MAX)
				return fail(v, FAT_NOT_FOUND, "path too deep");
			comp[n] = p;
			clen[n++] = len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	if (n == 0)
		return FAT_IS_DIR;
	for (int i = 0; i < n; i++) {
		struct match m = { comp[i], clen[i], out, 0 };
		if ((r = fat_dir_scan(v, dir, dirpath, match_cb, &m)) != FAT_OK)
			return r;
		if (!m.found)
			return FAT_NOT_FOUND;
		if (i == n - 1)
			return out->attr & FAT_ATTR_DIR ? FAT_IS_DIR : FAT_OK;
		if (!(out->attr & FAT_ATTR_DIR))
			return FAT_NOT_FOUND;
		if (out->cluster == 0)
			return fail(v, FAT_BAD, "directory /%s%s%.*s has no "
			    "cluster", dirpath, dirpath[0] ? "/" : "",
			    (int)clen[i], comp[i]);
		dir = out->cluster;
		size_t dl = strlen(dirpath);
		snprintf(dirpath + dl, sizeof(dirpath) - dl, "%s%.*s",
		    dl ? "/" : "", (int)clen[i], comp[i]);
	}
	return FAT_NOT_FOUND;
}

struct biggest {
	uint32_t size;
};

static int
biggest_cb(void *arg, const struct fat_dirent *de)
{
	struct biggest *b = arg;

	if (!(de->attr & FAT_ATTR_DIR) && de->size > b->size)
		b->size = de->size;
	return 0;
}

enum fat_result
fat_dir_biggest(struct fat_vol *v, const char *path, uint32_t *size)
{
	char dir[1024];
	const char *slash = strrchr(path, '/');
	struct fat_dirent de;
	struct biggest b = { 0 };
	enum fat_result r;
	size_t len = slash != NULL ? (size_t)(slash - path) : 0;

	*size = 0;
	if (len >= sizeof(dir))
		return fail(v, FAT_NOT_FOUND, "path too long");
	memcpy(dir, path, len);
	dir[len] = '\0';
	/* The root is the only directory fat_lookup leaves de alone for. */
	memset(&de, 0, sizeof(de));
	if ((r = fat_lookup(v, dir, &de)) != FAT_IS_DIR)
		return r == FAT_OK ? FAT_NOT_FOUND : r;
	if ((r = fat_dir_scan(v, de.cluster, dir, biggest_cb, &b)) != FAT_OK)
		return r;
	*size = b.size;
	return FAT_OK;
}

/* --- files --------------------------------------------------------------- */

static int
run_cmp(const void *a, const void *b)
{
	const struct fat_run *x = a, *y = b;

	return x->cluster < y->cluster ? -1 : x->cluster > y->cluster;
}

/* A cluster used twice is a loop that stayed within the file's length. */
static enum fat_result
check_loops(struct fat_vol *v, const struct fat_run *runs, size_t n)
{
	struct fat_run *s;
	enum fat_result r = FAT_OK;

	if (n < 2)
		return FAT_OK;
	if ((s = reallocarray(NULL, n, sizeof(*s))) == NULL)
		return fail(v, FAT_IO, "out of memory");
	memcpy(s, runs, n * sizeof(*s));
	qsort(s, n, sizeof(*s), run_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		if ((uint64_t)s[i].cluster + s[i].count > s[i + 1].cluster) {
			r = fail(v, FAT_BAD, "cluster chain loops: cluster %u "
			    "is used twice", s[i + 1].cluster);
			break;
		}
	free(s);
	return r;
}

enum fat_result
fat_runs(struct fat_vol *v, uint32_t first, uint32_t size,
    struct fat_run **runsp, size_t *nrunsp, uint32_t *tail)
{
	struct fat_run *runs = NULL, *t;
	size_t n = 0, cap = 0;
	uint32_t c = first, prev = 0;
	uint64_t cs = v->cluster_size;
	uint64_t need = (size + cs - 1) / cs;
	enum fat_result r = FAT_OK;

	*runsp = NULL;
	*nrunsp = 0;
	*tail = FAT_EOC;
	if (size == 0)
		return FAT_OK;
	if (first < 2 || first > v->max_cluster)
		return fail(v, FAT_BAD, "first cluster %u out of range 2-%u",
		    first, v->max_cluster);
	if (need > v->max_cluster - 1)
		return fail(v, FAT_BAD, "file size %u needs more clusters "
		    "than the file system has", size);
	for (uint64_t i = 0; i < need; i++) {
		if (n > 0 && c == prev + 1) {
			runs[n - 1].count++;
			runs[n - 1].len += cs;
		} else {
			if (n == cap) {
				if (cap == RUNS_MAX) {
					r = fail(v, FAT_BAD, "file is in more "
					    "than %u pieces", RUNS_MAX);
					goto bad;
				}
				cap = cap ? cap * 2 : 16;
				if ((t = reallocarray(runs, cap,
				    sizeof(*runs))) == NULL) {
					r = fail(v, FAT_IO, "out of memory");
					goto bad;
				}
				runs = t;
			}
			runs[n].foff = i * cs;
			runs[n].off = v->data_off + (uint64_t)(c - 2) * cs;
			runs[n].len = cs;
			runs[n].cluster = c;
			runs[n].count = 1;
			n++;
		}
		prev = c;
		if ((r = fat_next(v, c, &c)) != FAT_OK)
			goto bad;
		if (i + 1 < need && c == FAT_EOC) {
			r = fail(v, FAT_BAD, "file size %u runs past its chain "
			    "of %ju clusters", size, (uintmax_t)(i + 1));
			goto bad;
		}
	}
	*tail = c;
	runs[n - 1].len -= need * cs - size;
	if ((r = check_loops(v, runs, n)) != FAT_OK)
		goto bad;
	*runsp = runs;
	*nrunsp = n;
	return FAT_OK;
bad:
	free(runs);
	return r;
}

enum fat_result
fat_check_runs(struct fat_vol *v, const struct fat_run *runs, size_t nruns,
    uint32_t tail, uint64_t from, uint64_t to)
{
	uint64_t cs = v->cluster_size;
	size_t lo = 0, hi = nruns;
	enum fat_result r;

	if (nruns == 0 || from >= to)
		return FAT_OK;
	/* The run holding cluster index from. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (runs[mid].foff / cs <= from)
			lo = mid;
		else
			hi = mid;
	}
	fat_forget(v);
	for (size_t i = lo; i < nruns; i++) {
		uint64_t idx0 = runs[i].foff / cs;
		uint32_t k0 = from > idx0 ? (uint32_t)(from - idx0) : 0;
		for (uint32_t k = k0; k < runs[i].count; k++) {
			uint64_t idx = idx0 + k;
			uint32_t c = runs[i].cluster + k, next, want;
			if (idx >= to)
				return FAT_OK;
			if (k + 1 < runs[i].count)
				want = c + 1;
			else
				want = i + 1 < nruns ? runs[i + 1].cluster :
				    tail;
			if ((r = fat_next(v, c, &next)) != FAT_OK)
				return r;
			if (next != want)
				return fail(v, FAT_BAD, "cluster %u now links "
				    "to %u instead of %u", c, next, want);
		}
	}
	return FAT_OK;
}
