#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/bootpick.h"
#include "common/reopen.h"
#include "tftpd/exposure.h"
#include "tftpd/image.h"
#include "tftpd/packet.h"
#include "common/part.h"
#include "tftpd/proto.h"
#include "tftpd/rbdfetch.h"
#include "tftpd/rbdimage.h"
#include "tftpd/resolve.h"

/* Reads whether the regular file open on fd is an OS image, into
 * is_image: one that image mode would serve boot files out of (a
 * partition table with a FAT partition, or a bare FAT file system), or
 * any disk image with a sound partition table. Never a boot file. 0, or
 * -1 with the reason in why when it could not be read. */
static int
read_is_an_image(int fd, uint64_t size, int *is_image, char *why,
    size_t whylen)
{
	struct imgdev img = { .fd = fd };
	struct blkdev dev = { imgdev_read, &img, size, 0 };
	struct part p;
	char pwhy[256];
	int want[] = { 0, 1 };

	*is_image = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		switch (part_find(&dev, want[i], &p, pwhy, sizeof(pwhy))) {
		case PART_OK:
			*is_image = 1;
			return 0;
		case PART_IO:
			snprintf(why, whylen, "reading: %s",
			    imgdev_error(&img));
			return -1;
		default:
			break;
		}
	}
	return 0;
}

/* A request of one component (name, len bytes), with beneath set when
 * it went on with "/" or "/." (abcd1234/): the facts exposure.h weighs,
 * gathered in its order. Nothing here follows a symlink: in the root, a
 * symlink is an entry. */
static enum source_status
root_file_open(int rootfd, const char *name, size_t len, int beneath,
    struct source **out, char *why, size_t whylen)
{
	struct stat st;
	enum source_status ss;
	const char *reason;
	int pfd, fd, img, e, default_there;

	if ((ss = exposure_root_name(name, len)) != SOURCE_OK)
		return ss;
	if ((pfd = openat(rootfd, name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		e = errno;
		default_there = exposure_root_missing_asks_default(name, len,
		    e) && bootdir_look(rootfd, BOOTPICK_DEFAULT, why, whylen) !=
		    BOOT_ENTRY_NONE;
		ss = exposure_root_missing(e, default_there, &reason);
		strlcpy(why, reason, whylen);
		return ss;
	}
	if (fstat(pfd, &st) == -1) {
		snprintf(why, whylen, "stat: %s", strerror(errno));
		close(pfd);
		return SOURCE_ERROR;
	}
	if ((ss = exposure_root_found(name, len, st.st_mode, &reason)) !=
	    SOURCE_OK) {
		close(pfd);
		strlcpy(why, reason, whylen);
		return ss;
	}
	fd = reopen_fd(pfd, O_RDONLY | O_NOFOLLOW, rootfd, name, 0);
	e = errno;
	close(pfd);
	if (fd == -1) {
		if ((ss = exposure_root_open_failed(e)) == SOURCE_ERROR)
			snprintf(why, whylen, "open: %s", strerror(e));
		return ss;
	}
	if (read_is_an_image(fd, (uint64_t)st.st_size, &img, why,
	    whylen) == -1) {
		close(fd);
		return SOURCE_ERROR;
	}
	if ((ss = exposure_root_opened(img, beneath, &reason)) != SOURCE_OK) {
		close(fd);
		strlcpy(why, reason, whylen);
		return ss;
	}
	return filesource_new(fd, name, out, why, whylen);
}

/* An entry that leads to an image in Ceph: path in it, read through
 * librbd by a worker when tftpd has a cluster (-C, job set); without one
 * refused, naming the image. */
static enum source_status
in_ceph(int rootfd, const char *entry, const char *path, const char *name,
    struct rbdfetch_job *job, struct source **out, char *why, size_t whylen)
{
	char reason[256];
	struct rbd_target t;
	int partition;

	if (bootdir_rbd(rootfd, entry, strlen(entry), &t, &partition, reason,
	    sizeof(reason)) != BOOT_ENTRY_RBD) {
		snprintf(why, whylen, "boot entry %s changed while it was "
		    "looked up", entry);
		return SOURCE_BROKEN;
	}
	if (job == NULL)
		return rbdimage_open(NULL, &t, partition, entry, path, out,
		    why, whylen);
	job->target = t;
	job->partition = partition;
	strlcpy(job->entry, entry, sizeof(job->entry));
	strlcpy(job->path, path, sizeof(job->path));
	packet_printable(job->name, sizeof(job->name), name, strlen(name));
	return SOURCE_IN_CEPH;
}

/* bootpick's question: the entry opened, and kept for the caller. */
struct entry_open {
	int rootfd;
	int fd;
	int partition;
	char *why;
	size_t whylen;
};

static enum boot_entry_type
open_entry(void *ctx, const char *name)
{
	struct entry_open *eo = ctx;

	return bootdir_open(eo->rootfd, name, strlen(name), &eo->fd,
	    &eo->partition, eo->why, eo->whylen);
}

enum source_status
resolve_open(int rootfd, const char *name, size_t len, struct source **out,
    char *why, size_t whylen)
{
	return resolve_open_ceph(rootfd, name, len, NULL, out, why, whylen);
}

enum source_status
resolve_open_ceph(int rootfd, const char *name, size_t len,
    struct rbdfetch_job *job, struct source **out, char *why, size_t whylen)
{
	struct exposure_name asked;
	char entry[NAME_MAX + 1];
	char entry_why[SOURCE_WHY_LEN - 32];
	const char *path, *rest, *names[2];
	struct entry_open eo = { rootfd, -1, 0, entry_why,
	    sizeof(entry_why) };
	enum boot_entry_type type;
	enum source_status st;
	size_t picked;

	*out = NULL;
	why[0] = '\0';
	if ((st = exposure_split(name, len, &asked)) != SOURCE_OK)
		return st;
	if (asked.root_file)
		return root_file_open(rootfd, asked.path, asked.first_len,
		    asked.beneath, out, why, whylen);

	path = asked.path;
	rest = asked.rest;
	memcpy(entry, path, asked.first_len);
	entry[asked.first_len] = '\0';
	names[0] = entry;
	names[1] = BOOTPICK_DEFAULT;
	type = bootpick(names, exposure_entry_names(entry, asked.first_len),
	    open_entry, &eo, &picked);
	if ((st = exposure_entry(type)) != SOURCE_OK) {
		if (st == SOURCE_BROKEN)
			snprintf(why, whylen, "broken boot entry %s",
			    entry_why);
		return st;
	}
	if (type == BOOT_ENTRY_DIR) {
		st = dirsource_open(eo.fd, rest, path, out, why, whylen);
	} else {
		st = type == BOOT_ENTRY_RBD ? in_ceph(rootfd, names[picked],
		    rest, path, job, out, why, whylen) : image_source_open(eo.fd,
		    eo.partition, entry, rest, out, why, whylen);
		if (st == SOURCE_OK)
			strlcpy((*out)->name, path, sizeof((*out)->name));
	}
	if (eo.fd != -1)
		close(eo.fd);
	/* A source's name goes into its transfer's log lines: a file a Pi
	 * made beneath its entry may have a newline in its name. */
	if (st == SOURCE_OK)
		packet_printable((*out)->name, sizeof((*out)->name),
		    (*out)->name, strlen((*out)->name));
	return st;
}
