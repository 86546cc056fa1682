/* Helpers shared by the image-mode unit tests (common_part, common_fat,
 * tftpd_image): test images are built with the real tools (sfdisk, fdisk,
 * sgdisk, mkfs.vfat, mkfs.ext4, mtools) in a scratch directory, damaged by
 * patching bytes, and files are compared with what mcopy extracts. */
#ifndef TESTS_UNIT_TFTPD_IMAGE_FIXTURE_H
#define TESTS_UNIT_TFTPD_IMAGE_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/part.h"

/* Not every test file uses every helper. */
#define FX_MAYBE __attribute__((unused))

/* The scratch directory, made by fx_setup() before any test forks. */
static char fx_dir[64];

/* Runs a shell command in the scratch directory; fails the test (or the
 * fixture) unless it exits 0. */
static FX_MAYBE void __attribute__((format(printf, 1, 2)))
fx_sh(const char *fmt, ...)
{
	char cmd[8192], full[8400];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd %s && { %s ; } >>fx.log 2>&1",
	    fx_dir, cmd);
	rc = system(full);
	if (rc != 0) {
		fprintf(stderr, "fixture command failed (%d): %s\n", rc, cmd);
		abort();
	}
}

/* A path in the scratch directory (in a rotating static buffer). */
static FX_MAYBE const char *
fx_path(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", fx_dir, name);
	return buf[i];
}

static FX_MAYBE void
fx_setup_dir(void)
{
	strlcpy(fx_dir, "/tmp/tftpd-img-test.XXXXXX", sizeof(fx_dir));
	if (mkdtemp(fx_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	/* mtools refuses images whose geometry it dislikes otherwise. */
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	setenv("MTOOLS_NO_VFAT", "0", 1);
}

static FX_MAYBE void
fx_teardown_dir(void)
{
	char cmd[128];

	if (getenv("FX_KEEP") != NULL) {
		fprintf(stderr, "keeping %s\n", fx_dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fx_dir);
}

/* Whole file into memory; *len its length. */
static FX_MAYBE uint8_t *
fx_slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		ck_assert_int_gt(n, 0);
		done += (size_t)n;
	}
	close(fd);
	*len = done;
	return buf;
}

/* Writes len bytes at off of an image file, as dd conv=notrunc would. */
static FX_MAYBE void
fx_patch(const char *img, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(fx_path(img), O_WRONLY);

	ck_assert_msg(fd != -1, "open %s: %s", img, strerror(errno));
	ck_assert_int_eq(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static FX_MAYBE void
fx_patch_le(const char *img, uint64_t off, uint64_t val, size_t width)
{
	uint8_t b[8];

	for (size_t i = 0; i < width; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	fx_patch(img, off, b, width);
}

static FX_MAYBE uint64_t
fx_read_le(const char *img, uint64_t off, size_t width)
{
	uint8_t b[8];
	uint64_t v = 0;
	int fd = open(fx_path(img), O_RDONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(pread(fd, b, width, (off_t)off), (ssize_t)width);
	close(fd);
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* Offset of the first occurrence of needle in the image, or -1. */
static FX_MAYBE int64_t
fx_find(const char *img, const void *needle, size_t nlen)
{
	size_t len;
	uint8_t *buf = fx_slurp(fx_path(img), &len);
	uint8_t *p = memmem(buf, len, needle, nlen);
	int64_t off = p ? (int64_t)(p - buf) : -1;

	free(buf);
	return off;
}

/* A block device made of an image file, for the pure parsers. */
struct fx_dev {
	int fd;
	struct blkdev dev;
};

static FX_MAYBE int
fx_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	int fd = *(int *)ctx;
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -1;
}

static FX_MAYBE void
fx_dev_open(struct fx_dev *d, const char *img)
{
	struct stat st;

	d->fd = open(fx_path(img), O_RDONLY);
	ck_assert_msg(d->fd != -1, "open %s: %s", img, strerror(errno));
	ck_assert_int_eq(fstat(d->fd, &st), 0);
	d->dev.read = fx_read;
	d->dev.ctx = &d->fd;
	d->dev.size = (uint64_t)st.st_size;
	d->dev.sector_size = 0;
}

static FX_MAYBE void
fx_dev_close(struct fx_dev *d)
{
	close(d->fd);
}

/* Fills a local file with len bytes of a pattern that differs per seed,
 * so a misplaced cluster shows. */
static FX_MAYBE void
fx_make_file(const char *name, size_t len, unsigned seed)
{
	FILE *f = fopen(fx_path(name), "w");
	uint32_t x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		fputc((int)(x >> 16) & 0xff, f);
	}
	ck_assert_int_eq(fclose(f), 0);
}

#endif
