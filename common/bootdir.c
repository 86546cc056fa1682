#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootdir.h"
#include "reopen.h"

int
plain_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX)
		return 0;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

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

/* An O_PATH descriptor for ROOT/NAME, following the administrator's
 * symlink, or for the target of a link to "IMAGE#N". O_PATH opens nothing:
 * no FIFO blocks, no device driver runs. Returns -1 if there is neither. */
static int
lookup_entry(int rootfd, const char *name, char *target, size_t tsize,
    const char **openedp, int *partp)
{
	ssize_t tlen;
	int fd;

	*partp = 0;
	*openedp = name;
	if ((fd = openat(rootfd, name, O_PATH | O_CLOEXEC)) != -1)
		return fd;
	/* Perhaps a link to "IMAGE#N": the path is then the link's target,
	 * relative to the root as the link itself would be. */
	tlen = readlinkat(rootfd, name, target, tsize - 1);
	if (tlen <= 0)
		return -1;
	target[tlen] = '\0';
	if ((*partp = split_partition(target)) == 0)
		return -1;
	*openedp = target;
	return openat(rootfd, target, O_PATH | O_CLOEXEC);
}

/* Looks ROOT/NAME up with O_PATH and says what it is, without opening it:
 * on DIR or FILE, *pfdp holds the O_PATH descriptor (which the caller
 * closes), *openedp the path that was looked up and *partp the partition
 * picked by a "#N" link. */
static enum boot_entry_type
entry_type(int rootfd, const char *name, size_t len, char *path,
    char *target, size_t tsize, int *pfdp, const char **openedp, int *partp)
{
	enum boot_entry_type type;
	struct stat st;
	int pfd;

	*pfdp = -1;
	/* plain_name_valid refuses NUL, so the copy is the whole name. */
	if (!plain_name_valid(name, len))
		return BOOT_ENTRY_NONE;
	memcpy(path, name, len);
	path[len] = '\0';
	if ((pfd = lookup_entry(rootfd, path, target, tsize, openedp,
	    partp)) == -1)
		return BOOT_ENTRY_NONE;
	/* The type is checked on the looked-up inode: a partition is picked
	 * only in an image. */
	if (fstat(pfd, &st) == -1)
		type = BOOT_ENTRY_NONE;
	else if (S_ISDIR(st.st_mode) && *partp == 0)
		type = BOOT_ENTRY_DIR;
	else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		type = BOOT_ENTRY_FILE;
	else
		type = BOOT_ENTRY_NONE;
	if (type == BOOT_ENTRY_NONE)
		close(pfd);
	else
		*pfdp = pfd;
	return type;
}

enum boot_entry_type
bootdir_open(int rootfd, const char *name, size_t len, int *fdp,
    int *partition)
{
	enum boot_entry_type type;
	char path[NAME_MAX + 1], target[PATH_MAX];
	const char *opened;
	int pfd, fd, part;

	*fdp = -1;
	if (partition)
		*partition = 0;
	type = entry_type(rootfd, name, len, path, target, sizeof(target),
	    &pfd, &opened, &part);
	if (type == BOOT_ENTRY_NONE)
		return BOOT_ENTRY_NONE;
	/* That very inode is opened: opening a FIFO would block and opening
	 * a character device can have side effects. */
	fd = reopen_fd(pfd, O_RDONLY |
	    (type == BOOT_ENTRY_DIR ? O_DIRECTORY : 0), rootfd, opened, 0);
	close(pfd);
	if (fd == -1)
		return BOOT_ENTRY_NONE;
	*fdp = fd;
	if (partition)
		*partition = part;
	return type;
}

int
bootdir_has(int rootfd, const char *name)
{
	char path[NAME_MAX + 1], target[PATH_MAX];
	const char *opened;
	int pfd, part;

	/* A look, not an open: dhcpproxyd asks this for every request. */
	if (entry_type(rootfd, name, strlen(name), path, target,
	    sizeof(target), &pfd, &opened, &part) == BOOT_ENTRY_NONE)
		return 0;
	close(pfd);
	return 1;
}
