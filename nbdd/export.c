#include <sys/ioctl.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/fs.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/rbdlink.h"
#include "nbdd/export.h"
#include "nbdd/options.h"
#include "nbdd/rbdexport.h"

int
export_name_valid(const char *name, size_t len)
{
	if (len > EXPORT_NAME_MAX || !plain_name_valid(name, len))
		return 0;
	/* Hidden files are not exports, and a name like "..x" or "a..b"
	 * is refused outright rather than reasoned about. */
	if (name[0] == '.')
		return 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return 0;
	return 1;
}

static int
servable(const struct stat *st)
{
	return S_ISREG(st->st_mode) || S_ISBLK(st->st_mode);
}

static void
image_path(char out[NAME_MAX + 1], const char *name, size_t len)
{
	memcpy(out, name, len);
	memcpy(out + len, EXPORT_SUFFIX, sizeof(EXPORT_SUFFIX));
}

/* ROOT/NAME.img, which is not there as a file: an image in Ceph when its
 * link leads to an rbd: name. */
static enum export_status
in_ceph(int rootfd, const char *path, const char *name, size_t len,
    struct export *ex, const char **why)
{
	char spec[RBD_TARGET_MAX + 8];

	if (rbdlink_read(rootfd, path, spec, sizeof(spec)) != 1) {
		*why = "no such export";
		return EXPORT_NOT_FOUND;
	}
	if (rbd_target_parse(spec, strlen(spec), &ex->rbd_target) != NULL) {
		*why = "its link leads to rbd: but names no image "
		    "(rbd:POOL/IMAGE[@SNAP])";
		return EXPORT_ERROR;
	}
	memcpy(ex->name, name, len);
	ex->name[len] = '\0';
	ex->dev = EXPORT_RBD_DEV;
	ex->ino = (ino_t)rbd_target_key(&ex->rbd_target);
	return EXPORT_IN_CEPH;
}

enum export_status
export_open(int rootfd, const char *name, size_t len, struct export *ex,
    const char **why)
{
	char path[NAME_MAX + 1];
	struct image_facts f;
	struct stat st;
	int fd, flags, kind;

	memset(ex, 0, sizeof(*ex));
	ex->fd = -1;
	if (!export_name_valid(name, len)) {
		*why = "not a valid export name";
		return EXPORT_BAD_NAME;
	}
	image_path(path, name, len);
	/* Look before opening: opening a FIFO would block. */
	if (fstatat(rootfd, path, &st, 0) == -1) {
		if (errno == ENOENT)
			return in_ceph(rootfd, path, name, len, ex, why);
		*why = "no such export";
		return EXPORT_NOT_FOUND;
	}
	if (!servable(&st)) {
		*why = "no such export";
		return EXPORT_NOT_FOUND;
	}
	flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	f = (struct image_facts){ .mode = st.st_mode, .owner = st.st_uid,
	    .self = geteuid() };
	fd = -1;
	if (image_try_write(st.st_mode) &&
	    (fd = openat(rootfd, path, O_RDWR | flags)) == -1)
		f.write_errno = errno;
	if (fd == -1 && f.write_errno != 0) {
		if ((kind = image_kind(&f)) == -1) {
			*why = f.write_errno == ENOENT ? "no such export" :
			    strerror(f.write_errno);
			return f.write_errno == ENOENT ? EXPORT_NOT_FOUND :
			    EXPORT_ERROR;
		}
		/* Never a base in disguise: the Pi's writes would go with
		 * its overlay. */
		memcpy(ex->name, name, len);
		ex->name[len] = '\0';
		ex->kind = (enum image_kind)kind;
		ex->facts = f;
		*why = "its mode says writable, but nbdd cannot write it";
		return EXPORT_REFUSED;
	}
	if (fd == -1 && (fd = openat(rootfd, path, O_RDONLY | flags)) == -1) {
		*why = errno == ENOENT ? "no such export" : strerror(errno);
		return errno == ENOENT ? EXPORT_NOT_FOUND : EXPORT_ERROR;
	}
	/* The entry may have changed between the look and the open. */
	if (fstat(fd, &st) == -1 || !servable(&st)) {
		close(fd);
		*why = "no such export";
		return EXPORT_NOT_FOUND;
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		*why = strerror(errno);
		close(fd);
		return EXPORT_ERROR;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t sz;
		int ro = 0;

		if (ioctl(fd, BLKGETSIZE64, &sz) == -1 ||
		    ioctl(fd, BLKROGET, &ro) == -1) {
			*why = strerror(errno);
			close(fd);
			return EXPORT_ERROR;
		}
		ex->size = sz;
		ex->blockdev = 1;
		f.device_ro = ro != 0;
	} else
		ex->size = (uint64_t)st.st_size;
	ex->kind = (enum image_kind)image_kind(&f);
	ex->facts = f;
	ex->read_only = image_kind_is_base(ex->kind);
	ex->fd = fd;
	ex->dev = st.st_dev;
	ex->ino = S_ISBLK(st.st_mode) ? (ino_t)st.st_rdev : st.st_ino;
	if (S_ISBLK(st.st_mode))
		ex->dev = 0;	/* a device is itself, whatever node names it */
	memcpy(ex->name, name, len);
	ex->name[len] = '\0';
	return EXPORT_OK;
}

void
export_refusal(const struct export *ex, const char *root, const char *user,
    char *why, size_t whylen)
{
	char reason[256], fix[PATH_MAX * 2 + 128], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s%s", root, ex->name,
	    EXPORT_SUFFIX);
	image_kind_reason(ex->kind, user, reason, sizeof(reason));
	image_kind_fix(&ex->facts, ex->kind, user, path, fix, sizeof(fix));
	snprintf(why, whylen, "%s: %s", reason, fix);
}

void
export_close(struct export *ex)
{
	if (ex->fd != -1)
		close(ex->fd);
	ex->fd = -1;
	rbdx_close(ex->rbd);
	ex->rbd = NULL;
}

uint16_t
export_flags(const struct export *ex, int structured, int multi_conn)
{
	return opt_transmission_flags(ex->read_only, structured, multi_conn);
}

int
export_list(int rootfd, int (*fn)(void *ctx, const char *name, size_t len),
    void *ctx)
{
	const size_t slen = sizeof(EXPORT_SUFFIX) - 1;
	struct dirent *de;
	DIR *d;
	int fd;

	/* A fresh descriptor: a DIR stream owns its offset. */
	if ((fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len <= slen ||
		    strcmp(de->d_name + len - slen, EXPORT_SUFFIX) != 0)
			continue;
		if (!export_name_valid(de->d_name, len - slen))
			continue;
		if (fstatat(rootfd, de->d_name, &st, 0) == -1) {
			char spec[RBD_TARGET_MAX + 8];

			if (errno != ENOENT || rbdlink_read(rootfd, de->d_name,
			    spec, sizeof(spec)) != 1)
				continue;
		} else if (!servable(&st))
			continue;
		if (fn(ctx, de->d_name, len - slen) != 0)
			break;
	}
	closedir(d);
	return 0;
}
