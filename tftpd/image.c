/* Image mode: a file inside the FAT boot partition of an OS image, found
 * afresh on every request (partition table, boot sector, directories and
 * chain are re-read through the page cache, a few KiB), so that whatever
 * the Pi's kernel wrote through nbdd is what the next request sees. An open
 * file keeps its runs of clusters and, as a transfer moves forward, re-reads
 * the FAT entries ahead of it: if the file was deleted or rewritten into
 * other clusters meanwhile, the transfer fails cleanly instead of sending
 * whatever those clusters now hold. Nothing outside the partition can be
 * read whatever happens: the runs were checked against it when opened. */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/fat.h"
#include "tftpd/image.h"
#include "common/part.h"

/* Re-read the links of about this many bytes of clusters at a time. */
#define RECHECK_BYTES	(1024 * 1024)

struct image_source {
	struct source src;	/* first: a struct source * points here */
	struct imgdev dev;
	char image[128];	/* the boot directory's entry */
	char label[PATH_MAX + 160];	/* "entry (image file)", for logs */
	struct fat_run *runs;
	size_t nruns;
	uint32_t tail;
	uint64_t checked;	/* clusters [0, checked) were re-read */
	int failed;
	struct fat_vol vol;
};

int
imgdev_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct imgdev *d = ctx;
	size_t done = 0;
	ssize_t n;
	int rc;

	if (d->read != NULL) {
		if ((rc = d->read(d->h, buf, len, off)) == 0)
			return 0;
		d->err = rc == -ENODATA ? 0 : -rc;
		return -1;
	}
	while (done < len) {
		n = pread(d->fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			d->err = n == 0 ? 0 : errno;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

const char *
imgdev_error(const struct imgdev *d)
{
	return d->err ? strerror(d->err) : "the image is shorter than that";
}

/* Names the image in reasons and log lines: the entry the client asked
 * for and the file it leads to, as the kernel resolved it (when /proc is
 * there). Made only when needed: a readlink is not free. */
static const char *
label(struct image_source *is, int fd)
{
	char proc[64], target[PATH_MAX];
	ssize_t n;

	if (is->label[0] != '\0')
		return is->label;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		snprintf(is->label, sizeof(is->label), "%s (%s)", is->image,
		    target);
	} else {
		strlcpy(is->label, is->image, sizeof(is->label));
	}
	return is->label;
}

static void
image_close(struct source *s)
{
	struct image_source *is = (struct image_source *)s;

	if (is->dev.close != NULL)
		is->dev.close(is->dev.h);
	else if (is->dev.fd != -1)
		close(is->dev.fd);
	free(is->runs);
	free(is);
}

/* The run holding file offset off. */
static const struct fat_run *
run_at(const struct image_source *is, uint64_t off)
{
	size_t lo = 0, hi = is->nruns;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (is->runs[mid].foff <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &is->runs[lo];
}

/* A transfer's read failed: one line, or the reason where the device
 * wants it. */
static void __attribute__((format(printf, 2, 3)))
read_failed(struct image_source *is, const char *fmt, ...)
{
	char line[SOURCE_WHY_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (is->dev.fail_why != NULL)
		strlcpy(is->dev.fail_why, line, is->dev.fail_whylen);
	else
		log_warn("%s", line);
}

/* Before bytes beyond what was checked are sent: do the clusters ahead
 * still link as they did when the file was opened? */
static int
recheck(struct image_source *is, uint64_t off, size_t len)
{
	uint64_t cs = is->vol.cluster_size;
	uint64_t nclusters = (is->src.size + cs - 1) / cs;
	uint64_t from = off / cs, to = (off + len - 1) / cs + 1;
	uint64_t ahead = RECHECK_BYTES / cs ? RECHECK_BYTES / cs : 1;

	if (to <= is->checked)
		return 0;
	if (from < is->checked)
		from = is->checked;
	if (to < from + ahead)
		to = from + ahead;
	if (to > nclusters)
		to = nclusters;
	switch (fat_check_runs(&is->vol, is->runs, is->nruns, is->tail, from,
	    to)) {
	case FAT_OK:
		is->checked = to;
		return 0;
	case FAT_IO:
		read_failed(is, "image %s: %s: changed during the transfer: "
		    "%s (%s)",
		    label(is, is->dev.fd), is->src.name, is->vol.why,
		    imgdev_error(&is->dev));
		return -1;
	default:
		read_failed(is, "image %s: %s: changed during the transfer: "
		    "%s",
		    label(is, is->dev.fd), is->src.name, is->vol.why);
		return -1;
	}
}

static ssize_t
image_read(struct source *s, void *buf, size_t len, uint64_t off)
{
	struct image_source *is = (struct image_source *)s;
	size_t done = 0;

	if (is->failed)
		return -1;
	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	if (len == 0)
		return 0;
	if (recheck(is, off, len) == -1) {
		is->failed = 1;
		return -1;
	}
	/* One pread per run the range touches: contiguous clusters are one
	 * read, however small the clusters. */
	while (done < len) {
		const struct fat_run *r = run_at(is, off + done);
		uint64_t in = off + done - r->foff;
		size_t n = len - done;
		if (n > r->len - in)
			n = (size_t)(r->len - in);
		if (imgdev_read(&is->dev, (char *)buf + done, n,
		    is->vol.base + r->off + in) == -1) {
			read_failed(is, "image %s: %s: read at offset %ju "
			    "failed: %s",
			    label(is, is->dev.fd), s->name,
			    (uintmax_t)(off + done),
			    imgdev_error(&is->dev));
			is->failed = 1;
			return -1;
		}
		done += n;
	}
	return (ssize_t)done;
}

/* Read like the file's own directory was at its request, through the
 * page cache. An image in Ceph is read only away from the event loop
 * (rbdfetch.h): its boots are counted on for the scheduler's prior. */
static uint64_t
image_biggest_beside(struct source *s)
{
	struct image_source *is = (struct image_source *)s;
	uint32_t size;

	if (is->dev.read != NULL || is->failed)
		return 0;
	if (fat_dir_biggest(&is->vol, is->src.name, &size) != FAT_OK)
		size = 0;
	fat_forget(&is->vol);
	return size;
}

static const struct source_ops image_ops = {
	.read = image_read,
	.close = image_close,
	.biggest_beside = image_biggest_beside,
};

/* The image's size and, for a block device, its logical sector size.
 * Returns 0, or -1 with the reason in why. */
static int
image_geometry(struct image_source *is, int fd, struct blkdev *dev,
    char *why, size_t whylen)
{
	struct stat st;
	uint64_t bytes;
	int ssz;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "image %s: fstat: %s", label(is, fd),
		    strerror(errno));
		return -1;
	}
	dev->sector_size = 0;
	if (S_ISREG(st.st_mode)) {
		dev->size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(why, whylen, "image %s: neither a regular file nor a "
		    "block device", label(is, fd));
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, &bytes) == -1) {
		snprintf(why, whylen, "image %s: BLKGETSIZE64: %s",
		    label(is, fd), strerror(errno));
		return -1;
	}
	dev->size = bytes;
	if (ioctl(fd, BLKSSZGET, &ssz) == 0 && (ssz == 512 || ssz == 4096))
		dev->sector_size = (unsigned)ssz;
	return 0;
}

static enum source_status
open_fail(struct image_source *is, enum source_status st)
{
	image_close(&is->src);
	return st;
}

static enum source_status find_file(struct image_source *is,
    struct blkdev *dev, struct imgdev *probe, int imgfd, int partition,
    const char *path, char *why, size_t whylen);

enum source_status
image_source_open(int imgfd, int partition, const char *image_name,
    const char *path, struct source **out, char *why, size_t whylen)
{
	struct image_source *is;
	struct blkdev dev;
	enum source_status st;

	*out = NULL;
	why[0] = '\0';
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		snprintf(why, whylen, "image %s: %s", image_name,
		    strerror(errno));
		return SOURCE_ERROR;
	}
	is->dev.fd = -1;
	strlcpy(is->image, image_name, sizeof(is->image));
	strlcpy(is->src.name, path, sizeof(is->src.name));
	if (image_geometry(is, imgfd, &dev, why, whylen) == -1)
		return open_fail(is, SOURCE_ERROR);
	/* Parse with the caller's descriptor; dup only what we keep. */
	struct imgdev probe = { .fd = imgfd };
	if ((st = find_file(is, &dev, &probe, imgfd, partition, path, why,
	    whylen)) != SOURCE_OK)
		return open_fail(is, st);
	if ((is->dev.fd = fcntl(imgfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(why, whylen, "image %s: dup: %s", label(is, imgfd),
		    strerror(errno));
		return open_fail(is, SOURCE_ERROR);
	}
	is->vol.ctx = &is->dev;
	fat_forget(&is->vol);
	is->src.ops = &image_ops;
	*out = &is->src;
	return SOURCE_OK;
}

enum source_status
image_source_open_dev(const struct imgdev *d, uint64_t size, const char *what,
    int partition, const char *image_name, const char *path,
    struct source **out, char *why, size_t whylen)
{
	struct image_source *is;
	struct blkdev dev = { .size = size, .sector_size = 0 };
	enum source_status st;

	*out = NULL;
	why[0] = '\0';
	if ((is = calloc(1, sizeof(*is))) == NULL) {
		snprintf(why, whylen, "image %s: %s", image_name,
		    strerror(errno));
		d->close(d->h);
		return SOURCE_ERROR;
	}
	is->dev = *d;
	is->dev.fd = -1;
	is->dev.err = 0;
	strlcpy(is->image, image_name, sizeof(is->image));
	strlcpy(is->src.name, path, sizeof(is->src.name));
	snprintf(is->label, sizeof(is->label), "%s (%s)", image_name, what);
	if ((st = find_file(is, &dev, &is->dev, -1, partition, path, why,
	    whylen)) != SOURCE_OK)
		return open_fail(is, st);
	is->vol.ctx = &is->dev;
	fat_forget(&is->vol);
	is->src.ops = &image_ops;
	*out = &is->src;
	return SOURCE_OK;
}

/* The partition, the FAT and path in it, read through probe (imgfd names
 * the image in reasons, or -1 when is->label does): is->vol, runs, tail
 * and src.size set. SOURCE_OK, or the status with why set as
 * image_source_open says. */
static enum source_status
find_file(struct image_source *is, struct blkdev *dev, struct imgdev *probe,
    int imgfd, int partition, const char *path, char *why, size_t whylen)
{
	struct part p;
	struct fat_dirent de;
	char pwhy[256];
	enum fat_result fr;

	dev->read = imgdev_read;
	dev->ctx = probe;
	switch (part_find(dev, partition, &p, pwhy, sizeof(pwhy))) {
	case PART_OK:
		break;
	case PART_NONE:
		snprintf(why, whylen, "image %s: %s", label(is, imgfd), pwhy);
		return SOURCE_BROKEN;
	case PART_IO:
		snprintf(why, whylen, "image %s: %s: %s", label(is, imgfd),
		    pwhy, imgdev_error(probe));
		return SOURCE_ERROR;
	default:
		/* A damaged image: "file not found" for the client, and
		 * this reason, in one line, for the administrator. */
		snprintf(why, whylen, "image %s: bad partition table: %s",
		    label(is, imgfd), pwhy);
		return SOURCE_BROKEN;
	}
	fr = fat_open(&is->vol, imgdev_read, probe, p.start, p.length);
	if (fr == FAT_OK)
		fr = fat_lookup(&is->vol, path, &de);
	if (fr == FAT_OK)
		fr = fat_runs(&is->vol, de.cluster, de.size, &is->runs,
		    &is->nruns, &is->tail);
	switch (fr) {
	case FAT_OK:
		break;
	case FAT_NOT_FOUND:
		/* Pis probe for optional files all the time: a plain miss,
		 * unless something damaged explains it. */
		if (is->vol.note[0] == '\0')
			return SOURCE_NOT_FOUND;
		snprintf(why, whylen, "image %s: partition %d: %s not found: "
		    "%s", label(is, imgfd), p.number, path, is->vol.note);
		return SOURCE_BROKEN;
	case FAT_IS_DIR:
		return SOURCE_NOT_FOUND;
	case FAT_DENIED:
		/* The request port logs the access violation itself. */
		return SOURCE_DENIED;
	case FAT_IO:
		snprintf(why, whylen, "image %s: partition %d: %s: %s (%s)",
		    label(is, imgfd), p.number, path, is->vol.why,
		    imgdev_error(probe));
		return SOURCE_ERROR;
	default:
		snprintf(why, whylen, "image %s: partition %d: %s: %s",
		    label(is, imgfd), p.number, path, is->vol.why);
		return SOURCE_BROKEN;
	}
	is->src.size = de.size;
	return SOURCE_OK;
}
