/* Files beneath a directory entry, and plain files of the root. */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reopen.h"
#include "tftpd/proto.h"
#include "tftpd/resolve.h"

struct filesource {
	struct source base;
	int fd;
};

static ssize_t
filesource_read(struct source *src, void *buf, size_t len, uint64_t off)
{
	struct filesource *fs = (struct filesource *)src;
	size_t done = 0;
	ssize_t n;

	/* A regular file reads short only at its end; loop for EINTR and
	 * for the odd file system that returns less. */
	while (done < len) {
		n = pread(fs->fd, (char *)buf + done, len - done,
		    (off_t)(off + done));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_err("reading %s at %llu: %s", src->name,
			    (unsigned long long)(off + done), strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void
filesource_close(struct source *src)
{
	struct filesource *fs = (struct filesource *)src;

	close(fs->fd);
	free(fs);
}

static const struct source_ops filesource_ops = {
	.read = filesource_read,
	.close = filesource_close,
};

enum source_status
filesource_new(int fd, const char *logname, struct source **out,
    char *why, size_t whylen)
{
	struct filesource *fs;
	struct stat st;

	*out = NULL;
	why[0] = '\0';
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "stat: %s", strerror(errno));
		close(fd);
		return SOURCE_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return SOURCE_NOT_FOUND;
	}
	if ((fs = calloc(1, sizeof(*fs))) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return SOURCE_ERROR;
	}
	fs->base.ops = &filesource_ops;
	fs->base.size = (uint64_t)st.st_size;
	strlcpy(fs->base.name, logname, sizeof(fs->base.name));
	fs->fd = fd;
	/* The whole file is read front to back. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*out = &fs->base;
	return SOURCE_OK;
}

static enum source_status
status_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		return SOURCE_NOT_FOUND;
	case EXDEV:	/* RESOLVE_BENEATH: the path tried to leave */
	case ELOOP:	/* a symlink we refuse to follow */
	case EACCES:
	case EPERM:	/* reopen_fd: not a file that may be opened */
	case ESTALE:	/* reopen_fd: another file is there now */
		return SOURCE_DENIED;
	default:
		return SOURCE_ERROR;
	}
}

/* Without openat2 (kernels before 5.6, or a seccomp filter), walk the path
 * one component at a time, refusing ".." and every symlink: stricter than
 * RESOLVE_BENEATH, never looser. Returns an O_PATH descriptor or -1. */
static int
walk_beneath(int dirfd, const char *path)
{
	char buf[TFTPD_PATH_MAX + 1];
	char *p, *comp, *next;
	int fd, nfd;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = dup(dirfd)) == -1)
		return -1;
	for (p = buf; p != NULL; p = next) {
		comp = p;
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			close(fd);
			errno = EXDEV;
			return -1;
		}
		nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
		struct stat st;
		if (fstat(fd, &st) == -1) {
			close(fd);
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			errno = ELOOP;
			return -1;
		}
	}
	return fd;
}

/* An O_PATH descriptor for path beneath dirfd, or -1 with errno. */
static int
open_path_beneath(int dirfd, const char *path)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd == -1 && (errno == ENOSYS || errno == EPERM))
		return walk_beneath(dirfd, path);
	return fd;
}

enum source_status
dirsource_open(int dirfd, const char *path, const char *logname,
    struct source **out, char *why, size_t whylen)
{
	struct stat st;
	enum source_status ss;
	int pfd, fd, e;

	*out = NULL;
	why[0] = '\0';
	/* Look with O_PATH first and open only a regular file: opening a
	 * device node (a watchdog, a tape) can have effects of its own, and
	 * a FIFO would block. */
	if ((pfd = open_path_beneath(dirfd, path)) == -1) {
		e = errno;
		if ((ss = status_from_errno(e)) == SOURCE_ERROR)
			snprintf(why, whylen, "open: %s", strerror(e));
		return ss;
	}
	if (fstat(pfd, &st) == -1) {
		snprintf(why, whylen, "stat: %s", strerror(errno));
		close(pfd);
		return SOURCE_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		close(pfd);
		return S_ISDIR(st.st_mode) ? SOURCE_NOT_FOUND : SOURCE_DENIED;
	}
	/* This very inode, not the path again (reopen_fd); without /proc
	 * the path is looked up again beneath dirfd, and must lead to the
	 * same inode, not through a symlink. */
	fd = reopen_fd(pfd, O_RDONLY | O_NOFOLLOW, dirfd, path,
	    RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (fd == -1) {
		e = errno;
		close(pfd);
		if ((ss = status_from_errno(e)) == SOURCE_ERROR)
			snprintf(why, whylen, "open: %s", strerror(e));
		return ss;
	}
	close(pfd);
	return filesource_new(fd, logname, out, why, whylen);
}
