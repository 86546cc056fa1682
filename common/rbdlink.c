#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/rbdlink.h"
#include "common/rbdname.h"

int
rbdlink_read(int dirfd, const char *path, char *target, size_t tlen)
{
	char cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX];
	const char *base;
	char *slash;
	int dfd = dirfd, nd, rc = 0;
	ssize_t n;

	if (strlcpy(cur, path, sizeof(cur)) >= sizeof(cur)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int hop = 0; hop < RBDLINK_HOPS; hop++) {
		/* The link's directory: where its own target is read from. */
		if ((slash = strrchr(cur, '/')) != NULL) {
			size_t dl = (size_t)(slash - cur);

			memcpy(dir, cur, dl);
			dir[dl] = '\0';
			base = slash + 1;
			nd = openat(dfd, dl > 0 ? dir : "/", O_PATH |
			    O_DIRECTORY | O_CLOEXEC);
			if (nd == -1)
				goto out;	/* nowhere: not ours */
			if (dfd != dirfd)
				close(dfd);
			dfd = nd;
		} else
			base = cur;
		if (*base == '\0')
			goto out;
		if ((n = readlinkat(dfd, base, link, sizeof(link) - 1)) == -1)
			goto out;	/* not a link (it exists) or not there */
		link[n] = '\0';
		if (rbd_target_is_rbd(link, (size_t)n)) {
			if (strlcpy(target, link, tlen) >= tlen) {
				errno = ENAMETOOLONG;
				rc = -1;
			} else
				rc = 1;
			goto out;
		}
		memcpy(cur, link, (size_t)n + 1);
	}
	errno = ELOOP;
	rc = -1;
out:
	if (dfd != dirfd) {
		int e = errno;
		close(dfd);
		errno = e;
	}
	return rc;
}
