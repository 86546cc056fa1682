/* Partition tables: MBR with extended/logical partitions, GPT, or none.
 * Every offset is checked against the device size before it is read, and
 * the whole table is checked before one partition is trusted, so that a
 * damaged image is reported as such instead of served half-right. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/fat.h"
#include "common/part.h"

#define MBR_SIG_OFF	510
#define MBR_TABLE_OFF	446
#define GPT_ARRAY_MAX	(1024 * 1024)	/* bytes of GPT entries we accept */

struct span {
	uint64_t start, len;	/* bytes */
	int number;
	uint8_t type;
};

/* Up to 4 primary and 124 logical partitions, or 128 GPT entries... and
 * GPT may have more entries, which are checked but not numbered here. */
struct table {
	struct span p[PART_NUMBER_MAX + 4];
	int n;
};

static enum part_result __attribute__((format(printf, 4, 5)))
fail(enum part_result r, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return r;
}

uint32_t
part_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffff;

	/* Bitwise: GPT checks a few KiB per request, a table is not worth
	 * its 1 KiB. */
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static int
mbr_type_fat(uint8_t t)
{
	return t == 0x01 || t == 0x04 || t == 0x06 || t == 0x0b ||
	    t == 0x0c || t == 0x0e;
}

static int
mbr_type_extended(uint8_t t)
{
	return t == 0x05 || t == 0x0f || t == 0x85;
}

static int
overlap(const struct span *a, const struct span *b)
{
	return a->start < b->start + b->len && b->start < a->start + a->len;
}

/* Any two of the spans overlapping is a damaged (or hostile) table. */
static enum part_result
check_overlaps(const struct span *s, int n, char *why, size_t whylen)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (overlap(&s[i], &s[j]))
				return fail(PART_BAD, why, whylen,
				    "partitions %d and %d overlap",
				    s[i].number, s[j].number);
	return PART_OK;
}

/* A partition of start and count sectors must lie inside the device. */
static enum part_result
check_extent(const struct blkdev *dev, unsigned ss, int number,
    uint64_t start_sec, uint64_t count, struct span *out, char *why,
    size_t whylen)
{
	uint64_t max = dev->size / ss;

	if (start_sec == 0)
		return fail(PART_BAD, why, whylen,
		    "partition %d starts at sector 0, over the table", number);
	if (start_sec >= max || count > max - start_sec)
		return fail(PART_BAD, why, whylen,
		    "partition %d (sectors %ju-%ju of %u bytes) runs past the "
		    "end of the image (%ju bytes)", number,
		    (uintmax_t)start_sec, (uintmax_t)(start_sec + count - 1),
		    ss, (uintmax_t)dev->size);
	out->start = start_sec * ss;
	out->len = count * ss;
	out->number = number;
	return PART_OK;
}

/* Follows the chain of extended boot records inside ext, numbering the
 * logical partitions from 5 as Linux does. */
static enum part_result
mbr_logicals(const struct blkdev *dev, unsigned ss, const struct span *ext,
    struct table *t, char *why, size_t whylen)
{
	uint64_t visited[PART_NUMBER_MAX];
	uint64_t rel = 0, ext_secs = ext->len / ss;
	int nvisited = 0, number = 5, first = t->n;
	uint8_t ebr[512];
	enum part_result r;

	for (;;) {
		for (int i = 0; i < nvisited; i++)
			if (visited[i] == rel)
				return fail(PART_BAD, why, whylen,
				    "extended partition chain loops back to "
				    "sector %ju", (uintmax_t)(ext->start / ss +
				    rel));
		if (nvisited == PART_NUMBER_MAX ||
		    number > PART_NUMBER_MAX)
			return fail(PART_BAD, why, whylen,
			    "extended partition chain longer than %d records",
			    PART_NUMBER_MAX);
		visited[nvisited++] = rel;
		if (rel >= ext_secs)
			return fail(PART_BAD, why, whylen, "extended boot "
			    "record at sector %ju lies outside the extended "
			    "partition", (uintmax_t)(ext->start / ss + rel));
		uint64_t ebr_sec = ext->start / ss + rel;
		if (dev->read(dev->ctx, ebr, sizeof(ebr), ebr_sec * ss) == -1)
			return fail(PART_IO, why, whylen, "cannot read the "
			    "extended boot record at sector %ju",
			    (uintmax_t)ebr_sec);
		if (ebr[MBR_SIG_OFF] != 0x55 || ebr[MBR_SIG_OFF + 1] != 0xaa)
			return fail(PART_BAD, why, whylen, "extended boot "
			    "record at sector %ju has no 55aa signature",
			    (uintmax_t)ebr_sec);
		const uint8_t *e1 = ebr + MBR_TABLE_OFF, *e2 = e1 + 16;
		uint32_t lba = le32(e1 + 8), cnt = le32(e1 + 12);
		if (e1[4] != 0 && cnt != 0) {
			struct span *s = &t->p[t->n];
			/* The logical partition follows its own record and
			 * stays inside the extended partition. */
			if (lba == 0 || rel + lba >= ext_secs ||
			    cnt > ext_secs - rel - lba)
				return fail(PART_BAD, why, whylen, "logical "
				    "partition %d lies outside the extended "
				    "partition", number);
			if ((r = check_extent(dev, ss, number, ebr_sec + lba,
			    cnt, s, why, whylen)) != PART_OK)
				return r;
			s->type = e1[4];
			t->n++;
			number++;
		}
		if (!mbr_type_extended(e2[4]) || le32(e2 + 12) == 0)
			break;
		rel = le32(e2 + 8);
	}
	return check_overlaps(&t->p[first], t->n - first, why, whylen);
}

/* Reads the MBR in s0 with sector size ss into t. PART_NONE when the four
 * entries are not a partition table at all. */
static enum part_result
mbr_parse(const struct blkdev *dev, unsigned ss, const uint8_t *s0,
    struct table *t, char *why, size_t whylen)
{
	const struct span *ext = NULL;
	enum part_result r;

	t->n = 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = s0 + MBR_TABLE_OFF + 16 * i;
		if (e[0] != 0 && e[0] != 0x80)
			return fail(PART_NONE, why, whylen, "neither a "
			    "partition table nor a FAT boot sector");
	}
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = s0 + MBR_TABLE_OFF + 16 * i;
		struct span *s = &t->p[t->n];
		if (e[4] == 0 || le32(e + 12) == 0)
			continue;
		if ((r = check_extent(dev, ss, i + 1, le32(e + 8),
		    le32(e + 12), s, why, whylen)) != PART_OK)
			return r;
		s->type = e[4];
		if (mbr_type_extended(s->type)) {
			if (ext != NULL)
				return fail(PART_BAD, why, whylen, "more than "
				    "one extended partition");
			ext = s;
		}
		t->n++;
	}
	if ((r = check_overlaps(t->p, t->n, why, whylen)) != PART_OK)
		return r;
	if (ext != NULL) {
		struct span e = *ext;
		return mbr_logicals(dev, ss, &e, t, why, whylen);
	}
	return PART_OK;
}

/* Whether a FAT boot sector starts at off. */
static int
fat_at(const struct blkdev *dev, uint64_t off)
{
	uint8_t bs[512];

	if (off > dev->size || dev->size - off < sizeof(bs) ||
	    dev->read(dev->ctx, bs, sizeof(bs), off) == -1)
		return 0;
	return fat_boot_plausible(bs, sizeof(bs));
}

/* Whether any partition of t starts with a FAT boot sector: the sign that
 * t was read with the right sector size. */
static int
table_has_fat(const struct blkdev *dev, const struct table *t)
{
	for (int i = 0; i < t->n; i++)
		if (!mbr_type_extended(t->p[i].type) &&
		    fat_at(dev, t->p[i].start))
			return 1;
	return 0;
}

static enum part_result
mbr_pick(const struct table *t, unsigned ss, int want, struct part *out,
    char *why, size_t whylen)
{
	const struct span *s = NULL;

	for (int i = 0; i < t->n && s == NULL; i++) {
		if (want != 0 && t->p[i].number == want)
			s = &t->p[i];
		else if (want == 0 && mbr_type_fat(t->p[i].type))
			s = &t->p[i];
	}
	if (s == NULL)
		return want ? fail(PART_NONE, why, whylen,
		    "no partition %d in the MBR", want) :
		    fail(PART_NONE, why, whylen, "no FAT partition in the MBR");
	if (mbr_type_extended(s->type))
		return fail(PART_NONE, why, whylen, "partition %d is an "
		    "extended partition", s->number);
	out->number = s->number;
	out->start = s->start;
	out->length = s->len;
	out->scheme = PART_SCHEME_MBR;
	out->sector_size = ss;
	out->mbr_type = s->type;
	return PART_OK;
}

static const uint8_t guid_basic_data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5,
	0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };
static const uint8_t guid_efi_system[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f,
	0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t guid_unused[16];

static enum part_result
gpt_pick(const struct blkdev *dev, unsigned ss, int want, struct part *out,
    char *why, size_t whylen)
{
	uint8_t hdr[4096];
	uint8_t *ents = NULL;
	struct span *used = NULL;
	enum part_result r = PART_OK;
	int nused = 0, found = -1;

	if (dev->read(dev->ctx, hdr, ss, ss) == -1)
		return fail(PART_IO, why, whylen, "cannot read the GPT header");
	uint32_t hsize = le32(hdr + 12), hcrc = le32(hdr + 16);
	if (hsize < 92 || hsize > ss)
		return fail(PART_BAD, why, whylen, "GPT header size %u is "
		    "invalid", hsize);
	memset(hdr + 16, 0, 4);
	if (part_crc32(hdr, hsize) != hcrc)
		return fail(PART_BAD, why, whylen, "GPT header CRC mismatch");
	if (le64(hdr + 24) != 1)
		return fail(PART_BAD, why, whylen,
		    "GPT header is not at LBA 1");
	uint64_t first_usable = le64(hdr + 40), last_usable = le64(hdr + 48);
	uint64_t array_lba = le64(hdr + 72);
	uint32_t nents = le32(hdr + 80), esize = le32(hdr + 84);
	uint32_t ecrc = le32(hdr + 88);
	if (esize < 128 || esize % 8 != 0 || esize > 4096 || nents == 0 ||
	    (uint64_t)nents * esize > GPT_ARRAY_MAX)
		return fail(PART_BAD, why, whylen, "GPT entry array of %u "
		    "entries of %u bytes is invalid", nents, esize);
	size_t alen = (size_t)nents * esize;
	if (array_lba < 2 || array_lba > dev->size / ss ||
	    alen > dev->size - array_lba * ss)
		return fail(PART_BAD, why, whylen, "GPT entry array at LBA "
		    "%ju runs past the end of the image", (uintmax_t)array_lba);
	if ((ents = malloc(alen)) == NULL ||
	    (used = reallocarray(NULL, nents, sizeof(*used))) == NULL) {
		r = fail(PART_IO, why, whylen, "out of memory");
		goto out;
	}
	if (dev->read(dev->ctx, ents, alen, array_lba * ss) == -1) {
		r = fail(PART_IO, why, whylen, "cannot read the GPT entries");
		goto out;
	}
	if (part_crc32(ents, alen) != ecrc) {
		r = fail(PART_BAD, why, whylen, "GPT entry array CRC mismatch");
		goto out;
	}
	for (uint32_t i = 0; i < nents; i++) {
		const uint8_t *e = ents + (size_t)i * esize;
		uint64_t first = le64(e + 32), last = le64(e + 40);
		if (memcmp(e, guid_unused, 16) == 0)
			continue;
		if (first > last || first < first_usable ||
		    last > last_usable) {
			r = fail(PART_BAD, why, whylen, "GPT partition %u "
			    "(LBA %ju-%ju) lies outside the usable LBAs "
			    "%ju-%ju", i + 1, (uintmax_t)first,
			    (uintmax_t)last, (uintmax_t)first_usable,
			    (uintmax_t)last_usable);
			goto out;
		}
		if ((r = check_extent(dev, ss, (int)(i + 1), first,
		    last - first + 1, &used[nused], why, whylen)) != PART_OK)
			goto out;
		used[nused].type = memcmp(e, guid_basic_data, 16) == 0 ||
		    memcmp(e, guid_efi_system, 16) == 0;
		nused++;
	}
	if ((r = check_overlaps(used, nused, why, whylen)) != PART_OK)
		goto out;
	for (int i = 0; i < nused && found < 0; i++) {
		if (want != 0 ? used[i].number == want :
		    used[i].type && fat_at(dev, used[i].start))
			found = i;
	}
	if (found < 0) {
		r = want ? fail(PART_NONE, why, whylen, "no partition %d in "
		    "the GPT", want) : fail(PART_NONE, why, whylen,
		    "no FAT partition in the GPT");
		goto out;
	}
	out->number = used[found].number;
	out->start = used[found].start;
	out->length = used[found].len;
	out->scheme = PART_SCHEME_GPT;
	out->sector_size = ss;
	out->mbr_type = 0;
out:
	free(ents);
	free(used);
	return r;
}

enum part_result
part_find(const struct blkdev *dev, int want, struct part *out, char *why,
    size_t whylen)
{
	static const unsigned probe[] = { 512, 4096 };
	uint8_t s0[512];
	unsigned sizes[2];
	int nsizes = 0, gpt = 0;

	memset(out, 0, sizeof(*out));
	if (want < 0 || want > PART_NUMBER_MAX)
		return fail(PART_NONE, why, whylen, "no partition %d", want);
	if (dev->sector_size != 0 && dev->sector_size != 512 &&
	    dev->sector_size != 4096)
		return fail(PART_BAD, why, whylen, "sector size %u is not "
		    "supported", dev->sector_size);
	if (dev->sector_size != 0)
		sizes[nsizes++] = dev->sector_size;
	else
		for (size_t i = 0; i < 2; i++)
			sizes[nsizes++] = probe[i];
	if (dev->size < sizeof(s0))
		return fail(PART_BAD, why, whylen, "image is only %ju bytes",
		    (uintmax_t)dev->size);
	if (dev->read(dev->ctx, s0, sizeof(s0), 0) == -1)
		return fail(PART_IO, why, whylen, "cannot read sector 0");

	/* A bare FAT file system first: mkfs.vfat writes a fake MBR into
	 * the boot sector of a superfloppy, which must not be followed. */
	if (fat_boot_plausible(s0, sizeof(s0))) {
		if (want > 1)
			return fail(PART_NONE, why, whylen, "no partition %d: "
			    "the image is a bare FAT file system", want);
		out->number = 1;
		out->start = 0;
		out->length = dev->size;
		out->scheme = PART_SCHEME_NONE;
		out->sector_size = nsizes == 1 ? sizes[0] : 512;
		return PART_OK;
	}
	if (s0[MBR_SIG_OFF] != 0x55 || s0[MBR_SIG_OFF + 1] != 0xaa)
		return fail(PART_BAD, why, whylen,
		    "neither a partition table nor a FAT boot sector");
	for (int i = 0; i < 4; i++)
		if (s0[MBR_TABLE_OFF + 16 * i + 4] == 0xee)
			gpt = 1;
	if (gpt) {
		for (int i = 0; i < nsizes; i++) {
			uint8_t sig[8];
			if (dev->size / sizes[i] < 2 || dev->read(dev->ctx,
			    sig, sizeof(sig), sizes[i]) == -1)
				continue;
			if (memcmp(sig, "EFI PART", 8) == 0)
				return gpt_pick(dev, sizes[i], want, out, why,
				    whylen);
		}
		return fail(PART_BAD, why, whylen, "protective MBR without "
		    "a GPT header");
	}

	/* An MBR does not say its sector size. 4096 is taken when the table
	 * read that way is sound and some partition holds FAT; otherwise
	 * 512, the common case, and its verdict stands. */
	struct table *t = malloc(sizeof(*t));
	enum part_result r = PART_BAD;
	if (t == NULL)
		return fail(PART_IO, why, whylen, "out of memory");
	for (int i = nsizes - 1; i >= 0; i--) {
		r = mbr_parse(dev, sizes[i], s0, t, why, whylen);
		if (r == PART_OK && (i == 0 || table_has_fat(dev, t)))
			r = mbr_pick(t, sizes[i], want, out, why, whylen);
		else if (i > 0)
			continue;
		break;
	}
	free(t);
	return r;
}
