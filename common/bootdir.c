#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootdir.h"

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

enum boot_entry_type
bootdir_open(int rootfd, const char *name, size_t len, int *fdp,
    int *partition)
{
	struct stat before, after;
	enum boot_entry_type type;
	char path[NAME_MAX + 1], target[PATH_MAX];
	ssize_t tlen;
	int fd, part = 0;

	*fdp = -1;
	/* plain_name_valid refuses NUL, so the copy is the whole name. */
	if (!plain_name_valid(name, len))
		return BOOT_ENTRY_NONE;
	memcpy(path, name, len);
	path[len] = '\0';
	name = path;
	/* Look before opening: opening a FIFO would block and opening a
	 * character device can have side effects. */
	if (partition)
		*partition = 0;
	if (fstatat(rootfd, name, &before, 0) == -1) {
		/* Perhaps a link to "IMAGE#N": the path is then the link's
		 * target, relative to the root as the link itself would be. */
		tlen = readlinkat(rootfd, name, target, sizeof(target) - 1);
		if (tlen <= 0)
			return BOOT_ENTRY_NONE;
		target[tlen] = '\0';
		if ((part = split_partition(target)) == 0 ||
		    fstatat(rootfd, target, &before, 0) == -1 ||
		    !(S_ISREG(before.st_mode) || S_ISBLK(before.st_mode)))
			return BOOT_ENTRY_NONE;
		name = target;
	}
	if (S_ISDIR(before.st_mode))
		type = BOOT_ENTRY_DIR;
	else if (S_ISREG(before.st_mode) || S_ISBLK(before.st_mode))
		type = BOOT_ENTRY_FILE;
	else
		return BOOT_ENTRY_NONE;
	fd = openat(rootfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK | (type == BOOT_ENTRY_DIR ? O_DIRECTORY : 0));
	if (fd == -1)
		return BOOT_ENTRY_NONE;
	/* The symlink may have been re-pointed between the two calls. */
	if (fstat(fd, &after) == -1 ||
	    (after.st_mode & S_IFMT) != (before.st_mode & S_IFMT)) {
		close(fd);
		return BOOT_ENTRY_NONE;
	}
	/* O_NONBLOCK was only for the open; reads should block normally. */
	int fl = fcntl(fd, F_GETFL);
	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	*fdp = fd;
	if (partition)
		*partition = part;
	return type;
}

int
bootdir_has(int rootfd, const char *name)
{
	int fd;
	enum boot_entry_type t = bootdir_open(rootfd, name, strlen(name), &fd,
	    NULL);

	if (fd != -1)
		close(fd);
	return t != BOOT_ENTRY_NONE;
}
