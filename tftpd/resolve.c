#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/log.h"
#include "common/piid.h"
#include "tftpd/image.h"
#include "tftpd/proto.h"
#include "tftpd/resolve.h"

/* Whether a first component names a machine: a serial (abcd1234) or a MAC
 * entry (dc-a6-32-01-36-c2), the two prefixes a Pi's bootloader uses. */
static int
names_a_machine(const char *p, size_t len)
{
	size_t i;

	if (len == SERIAL_LEN) {
		for (i = 0; i < len; i++)
			if (!isxdigit((unsigned char)p[i]))
				return 0;
		return 1;
	}
	if (len != MAC_NAME_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (i % 3 == 2 ? p[i] != '-' : !isxdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

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
	/* A machine without an entry of its own boots the "default" entry,
	 * as dhcpproxyd answers it through that entry. */
	if (type == BOOT_ENTRY_NONE && slash != NULL &&
	    names_a_machine(path, first_len))
		type = bootdir_open(rootfd, "default", 7, &fd, &partition);
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
