#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootdir.h"
#include "rbdlink.h"
#include "reopen.h"

#define WHY_SPECIAL	"a FIFO, socket or character device: never opened"
#define WHY_DIRPART	"a directory: #N picks a partition of an image"

/* "../ubuntu.img#2" -> "../ubuntu.img" and 2. Returns 0 if no suffix. */
static int
split_partition(char *target)
{
	char *hash = strrchr(target, '#');
	const char *errstr;
	long long n;

	if (hash == NULL || hash[1] == '\0')
		return 0;
	n = strtonum(hash + 1, 1, 128, &errstr);
	if (errstr != NULL)
		return 0;
	*hash = '\0';
	return (int)n;
}

/* BROKEN, with why saying "NAME -> TARGET: reason" for a symlink, else
 * "NAME: reason". The link is read again here: this is the rare path,
 * and the message shows the target as the administrator wrote it. Its
 * bytes go into log lines, so control bytes become '?'. */
static enum boot_entry_type
broken(int rootfd, const char *name, const char *reason, int err, char *why,
    size_t whylen)
{
	char target[PATH_MAX], errbuf[128];
	const char *hint = "";
	ssize_t tlen;

	if (reason == NULL) {
		/* nbdd looks entries up from its connections' threads. */
		reason = strerror_r(err, errbuf, sizeof(errbuf));
		if (err == EACCES || err == EPERM)
			hint = " (netboot(7), OWNERSHIP)";
	}
	tlen = readlinkat(rootfd, name, target, sizeof(target) - 1);
	if (tlen > 0) {
		target[tlen] = '\0';
		snprintf(why, whylen, "%s -> %s: %s%s", name, target, reason,
		    hint);
	} else {
		snprintf(why, whylen, "%s: %s%s", name, reason, hint);
	}
	for (char *p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return BOOT_ENTRY_BROKEN;
}

/* A dangling entry that leads to an image in Ceph: RBD with the image in
 * *t and the partition "#N" picked (on the entry's target, or on the rbd:
 * name itself), BROKEN when the rbd: name is not one, NONE when the
 * entry leads elsewhere. target is what the entry's link says. */
static enum boot_entry_type
rbd_entry(int rootfd, const char *path, const char *target, int *partp,
    struct rbd_target *t, char *why, size_t whylen)
{
	char spec[RBD_TARGET_MAX + 8], image[PATH_MAX], reason[RBD_TARGET_MAX + 256];
	const char *bad;
	int part = 0, r;

	if ((r = rbdlink_read(rootfd, path, spec, sizeof(spec))) == 0) {
		strlcpy(image, target, sizeof(image));
		if ((part = split_partition(image)) == 0)
			return BOOT_ENTRY_NONE;
		r = rbdlink_read(rootfd, image, spec, sizeof(spec));
	}
	if (r != 1)
		return BOOT_ENTRY_NONE;
	if (part == 0)
		part = split_partition(spec);
	if ((bad = rbd_target_parse(spec, strlen(spec), t)) != NULL) {
		snprintf(reason, sizeof(reason), "leads to %.*s, not "
		    "rbd:POOL/IMAGE[@SNAP]: %s", (int)RBD_TARGET_MAX, spec, bad);
		return broken(rootfd, path, reason, 0, why, whylen);
	}
	*partp = part;
	return BOOT_ENTRY_RBD;
}

/* Looks ROOT/NAME up with O_PATH and says what it is, without opening it
 * (O_PATH opens nothing: no FIFO blocks, no device driver runs): on DIR or
 * FILE, *pfdp holds the O_PATH descriptor (which the caller closes),
 * *openedp the path that was looked up (path, or the link's target
 * without "#N" in target) and *partp the partition picked by "#N". */
static enum boot_entry_type
entry_type(int rootfd, const char *name, size_t len, char *path,
    char *target, size_t tsize, int *pfdp, const char **openedp, int *partp,
    struct rbd_target *t, char *why, size_t whylen)
{
	enum boot_entry_type type;
	struct stat st;
	ssize_t tlen;
	int pfd, e;

	*pfdp = -1;
	*partp = 0;
	*openedp = path;
	why[0] = '\0';
	/* plain_name_valid refuses NUL, so the copy is the whole name. */
	if (!plain_name_valid(name, len))
		return BOOT_ENTRY_NONE;
	memcpy(path, name, len);
	path[len] = '\0';
	if ((pfd = openat(rootfd, path, O_PATH | O_CLOEXEC)) == -1) {
		e = errno;
		/* A name that is not there is no entry; a symlink that
		 * leads nowhere is a broken one, unless it is a link to
		 * "IMAGE#N", whose path is then the link's target, relative
		 * to the root as the link itself would be. */
		tlen = readlinkat(rootfd, path, target, tsize - 1);
		if (tlen == -1 && errno == ENOENT)
			return BOOT_ENTRY_NONE;
		if (tlen <= 0)
			return broken(rootfd, path, NULL, e, why, whylen);
		target[tlen] = '\0';
		if (e == ENOENT && (type = rbd_entry(rootfd, path, target,
		    partp, t, why, whylen)) != BOOT_ENTRY_NONE)
			return type;
		if ((*partp = split_partition(target)) == 0)
			return broken(rootfd, path, NULL, e, why, whylen);
		*openedp = target;
		if ((pfd = openat(rootfd, target, O_PATH | O_CLOEXEC)) == -1)
			return broken(rootfd, path, NULL, errno, why, whylen);
	}
	/* The type is checked on the looked-up inode: a partition is picked
	 * only in an image. */
	if (fstat(pfd, &st) == -1) {
		e = errno;
		close(pfd);
		return broken(rootfd, path, NULL, e, why, whylen);
	}
	if (S_ISDIR(st.st_mode) && *partp == 0) {
		*pfdp = pfd;
		return BOOT_ENTRY_DIR;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		*pfdp = pfd;
		return BOOT_ENTRY_FILE;
	}
	close(pfd);
	return broken(rootfd, path, S_ISDIR(st.st_mode) ? WHY_DIRPART :
	    WHY_SPECIAL, 0, why, whylen);
}

enum boot_entry_type
bootdir_open(int rootfd, const char *name, size_t len, int *fdp,
    int *partition, char *why, size_t whylen)
{
	enum boot_entry_type type;
	char path[NAME_MAX + 1], target[PATH_MAX];
	struct rbd_target t;
	const char *opened;
	int pfd, fd, part, e;

	*fdp = -1;
	if (partition)
		*partition = 0;
	type = entry_type(rootfd, name, len, path, target, sizeof(target),
	    &pfd, &opened, &part, &t, why, whylen);
	if (type == BOOT_ENTRY_RBD && partition)
		*partition = part;
	if (type != BOOT_ENTRY_DIR && type != BOOT_ENTRY_FILE)
		return type;
	/* That very inode is opened: opening a FIFO would block and opening
	 * a character device can have side effects. */
	fd = reopen_fd(pfd, O_RDONLY |
	    (type == BOOT_ENTRY_DIR ? O_DIRECTORY : 0), rootfd, opened, 0);
	e = errno;
	close(pfd);
	if (fd == -1)
		return broken(rootfd, path, NULL, e, why, whylen);
	*fdp = fd;
	if (partition)
		*partition = part;
	return type;
}

enum boot_entry_type
bootdir_look(int rootfd, const char *name, char *why, size_t whylen)
{
	enum boot_entry_type type;
	char path[NAME_MAX + 1], target[PATH_MAX];
	struct rbd_target t;
	const char *opened;
	int pfd, part;

	/* A look, not an open: dhcpproxyd asks this for every request. */
	type = entry_type(rootfd, name, strlen(name), path, target,
	    sizeof(target), &pfd, &opened, &part, &t, why, whylen);
	if (pfd != -1)
		close(pfd);
	return type;
}

enum boot_entry_type
bootdir_rbd(int rootfd, const char *name, size_t len, struct rbd_target *t,
    int *partition, char *why, size_t whylen)
{
	enum boot_entry_type type;
	char path[NAME_MAX + 1], target[PATH_MAX];
	const char *opened;
	int pfd, part;

	type = entry_type(rootfd, name, len, path, target, sizeof(target),
	    &pfd, &opened, &part, t, why, whylen);
	if (pfd != -1)
		close(pfd);
	if (partition)
		*partition = type == BOOT_ENTRY_RBD ? part : 0;
	return type;
}
