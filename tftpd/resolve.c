#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/bootpick.h"
#include "common/piid.h"
#include "common/reopen.h"
#include "tftpd/image.h"
#include "tftpd/packet.h"
#include "common/part.h"
#include "tftpd/proto.h"
#include "tftpd/rbdfetch.h"
#include "tftpd/rbdimage.h"
#include "tftpd/resolve.h"

#define WHY_ENTRY	"names a boot entry, not a file"
#define WHY_DEFAULT	"names a boot entry (default: it has none of its " \
			"own), not a file"
#define WHY_SPECIAL	"is a FIFO, socket or character device: never opened"
#define WHY_ENTRY_NAME	"is a file named like a boot entry: never sent whole"
#define WHY_IMAGE	"is an OS image: never sent whole"

/* Whether the rest of a path, after the first component, names nothing
 * beneath it: only empty and "." components ("", "/", "./", "//."). */
static int
names_nothing_beneath(const char *rest)
{
	size_t n;

	while (*rest != '\0') {
		n = strcspn(rest, "/");
		if (n > 1 || (n == 1 && rest[0] != '.'))
			return 0;
		rest += n;
		if (*rest == '/')
			rest++;
	}
	return 1;
}

/* Whether the regular file open on fd is an OS image: one that image
 * mode would serve boot files out of (a partition table with a FAT
 * partition, or a bare FAT file system), or any disk image with a sound
 * partition table. Never a boot file. 1 or 0, or -1 with the reason in
 * why when it could not be read. */
static int
is_an_image(int fd, uint64_t size, char *why, size_t whylen)
{
	struct imgdev img = { .fd = fd };
	struct blkdev dev = { imgdev_read, &img, size, 0 };
	struct part p;
	char pwhy[256];
	int want[] = { 0, 1 };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		switch (part_find(&dev, want[i], &p, pwhy, sizeof(pwhy))) {
		case PART_OK:
			return 1;
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
 * it went on with "/" or "/." (abcd1234/): only a regular file that is
 * itself in the root, is not named like an entry and is not an image.
 * Nothing here follows a symlink: in the root, a symlink is an entry. */
static enum source_status
root_file_open(int rootfd, const char *name, size_t len, int beneath,
    struct source **out, char *why, size_t whylen)
{
	struct stat st;
	int pfd, fd, img, e;

	if (!plain_name_valid(name, len))
		return SOURCE_NOT_FOUND;
	if ((pfd = openat(rootfd, name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		e = errno;
		/* A machine without an entry would boot "default". */
		if (e == ENOENT && piid_names_machine(name, len) &&
		    bootdir_look(rootfd, BOOTPICK_DEFAULT, why, whylen) !=
		    BOOT_ENTRY_NONE)
			strlcpy(why, WHY_DEFAULT, whylen);
		else
			why[0] = '\0';
		if (e == EACCES)
			return SOURCE_DENIED;
		return SOURCE_NOT_FOUND;
	}
	if (fstat(pfd, &st) == -1) {
		snprintf(why, whylen, "stat: %s", strerror(errno));
		close(pfd);
		return SOURCE_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		close(pfd);
		/* A symlink, a directory and a block device are entries; the
		 * rest is nothing to open. */
		strlcpy(why, S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) ||
		    S_ISBLK(st.st_mode) ? WHY_ENTRY : WHY_SPECIAL, whylen);
		return SOURCE_NOT_FOUND;
	}
	if (piid_names_machine(name, len) ||
	    (len == 7 && memcmp(name, "default", 7) == 0)) {
		close(pfd);
		strlcpy(why, WHY_ENTRY_NAME, whylen);
		return SOURCE_NOT_FOUND;
	}
	fd = reopen_fd(pfd, O_RDONLY | O_NOFOLLOW, rootfd, name, 0);
	e = errno;
	close(pfd);
	if (fd == -1) {
		if (e == EACCES || e == EPERM || e == ESTALE || e == ELOOP)
			return SOURCE_DENIED;
		snprintf(why, whylen, "open: %s", strerror(e));
		return SOURCE_ERROR;
	}
	/* A hard link to an image (ln /srv/pi.img /srv/boot/lab) is an
	 * entry too: boot files are served out of it, never all of it. */
	if ((img = is_an_image(fd, (uint64_t)st.st_size, why, whylen)) != 0) {
		close(fd);
		if (img == -1)
			return SOURCE_ERROR;
		strlcpy(why, WHY_IMAGE, whylen);
		return SOURCE_NOT_FOUND;
	}
	if (beneath) {
		/* bootcode.bin/ is not a directory. */
		close(fd);
		return SOURCE_NOT_FOUND;
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
	char path[TFTPD_PATH_MAX + 1], entry[NAME_MAX + 1];
	char entry_why[SOURCE_WHY_LEN - 32];
	const char *slash, *rest, *names[2];
	struct entry_open eo = { rootfd, -1, 0, entry_why,
	    sizeof(entry_why) };
	enum boot_entry_type type;
	enum source_status st;
	size_t first_len, picked;

	*out = NULL;
	why[0] = '\0';
	/* Other TFTP servers ignore a leading '/'; so do we. */
	while (len > 0 && *name == '/') {
		name++;
		len--;
	}
	if (len == 0 || len > TFTPD_PATH_MAX || memchr(name, '\0', len))
		return SOURCE_NOT_FOUND;
	memcpy(path, name, len);
	path[len] = '\0';

	slash = memchr(path, '/', len);
	first_len = slash ? (size_t)(slash - path) : len;
	/* "." and ".." never name an entry; say so plainly. */
	if ((first_len == 1 && path[0] == '.') ||
	    (first_len == 2 && path[0] == '.' && path[1] == '.'))
		return SOURCE_DENIED;
	rest = slash ? slash + 1 : "";
	if (names_nothing_beneath(rest)) {
		path[first_len] = '\0';
		return root_file_open(rootfd, path, first_len, slash != NULL,
		    out, why, whylen);
	}
	if (first_len > NAME_MAX)
		return SOURCE_NOT_FOUND;

	/* A machine without an entry of its own boots the "default" entry,
	 * as dhcpproxyd answers it through that entry; one whose entry is
	 * broken boots nothing. */
	memcpy(entry, path, first_len);
	entry[first_len] = '\0';
	names[0] = entry;
	names[1] = BOOTPICK_DEFAULT;
	type = bootpick(names, piid_names_machine(entry, first_len) ? 2 : 1,
	    open_entry, &eo, &picked);
	if (type == BOOT_ENTRY_BROKEN) {
		snprintf(why, whylen, "broken boot entry %s", entry_why);
		return SOURCE_BROKEN;
	}
	if (type == BOOT_ENTRY_NONE)
		return SOURCE_NOT_FOUND;
	while (*rest == '/')
		rest++;
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
