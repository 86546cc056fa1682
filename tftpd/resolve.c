#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/log.h"
#include "tftpd/image.h"
#include "tftpd/proto.h"
#include "tftpd/resolve.h"

enum source_status
resolve_open(int rootfd, const char *name, size_t len, struct source **out)
{
	char path[TFTPD_PATH_MAX + 1];
	const char *slash, *rest;
	enum boot_entry_type type;
	enum source_status st;
	size_t first_len;
	int fd, partition;

	*out = NULL;
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
	type = bootdir_open(rootfd, path, first_len, &fd, &partition);
	if (type == BOOT_ENTRY_NONE)
		return SOURCE_NOT_FOUND;

	rest = slash ? slash + 1 : "";
	while (*rest == '/')
		rest++;
	if (*rest == '\0') {
		/* One component: a plain file of the root (bootcode.bin).
		 * An entry picking a partition is an image, never served
		 * whole; nor is a directory or a block device. */
		if (type != BOOT_ENTRY_FILE || partition != 0) {
			close(fd);
			return SOURCE_NOT_FOUND;
		}
		return filesource_new(fd, path, out);
	}
	if (type == BOOT_ENTRY_DIR) {
		st = dirsource_open(fd, rest, path, out);
	} else {
		char image_name[NAME_MAX + 1];

		memcpy(image_name, path, first_len);
		image_name[first_len] = '\0';
		st = image_source_open(fd, partition, image_name, rest, out);
		if (st == SOURCE_OK)
			strlcpy((*out)->name, path, sizeof((*out)->name));
	}
	close(fd);
	return st;
}
