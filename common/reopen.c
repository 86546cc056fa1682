#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reopen.h"

static int
same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The second lookup, when there is no /proc to open the inode through. */
static int
open_again(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how;

	if (resolve == 0)
		return openat(dirfd, path, flags);
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int
reopen_fd_via(const char *fddir, int fd, int flags, int dirfd,
    const char *path, uint64_t resolve)
{
	struct stat want, got;
	char proc[96];
	int nfd, e, fl;

	if (fstat(fd, &want) == -1)
		return -1;
	if (!S_ISREG(want.st_mode) && !S_ISDIR(want.st_mode) &&
	    !S_ISBLK(want.st_mode)) {
		errno = EPERM;
		return -1;
	}
	flags |= O_CLOEXEC | O_NOCTTY;
	if (snprintf(proc, sizeof(proc), "%s/%d", fddir, fd) >=
	    (int)sizeof(proc)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The magic link is a symlink: O_NOFOLLOW is for the fallback. */
	nfd = open(proc, (flags & ~O_NOFOLLOW) | O_NONBLOCK);
	if (nfd == -1 && errno == ENOENT && path != NULL)
		nfd = open_again(dirfd, path, flags | O_NONBLOCK, resolve);
	if (nfd == -1)
		return -1;
	if (fstat(nfd, &got) == -1) {
		e = errno;
		close(nfd);
		errno = e;
		return -1;
	}
	if (!same_inode(&want, &got)) {
		close(nfd);
		errno = ESTALE;
		return -1;
	}
	/* O_NONBLOCK was for the open; reads should block as usual. */
	if (!(flags & O_NONBLOCK) && (fl = fcntl(nfd, F_GETFL)) != -1)
		(void)fcntl(nfd, F_SETFL, fl & ~O_NONBLOCK);
	return nfd;
}

int
reopen_fd(int fd, int flags, int dirfd, const char *path, uint64_t resolve)
{
	return reopen_fd_via("/proc/self/fd", fd, flags, dirfd, path,
	    resolve);
}
