#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/bootname.h"
#include "common/piid.h"
#include "tftpd/exposure.h"

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

enum source_status
exposure_split(const char *name, size_t len, struct exposure_name *out)
{
	const char *slash, *rest;
	size_t first_len;

	/* Other TFTP servers ignore a leading '/'; so do we. */
	while (len > 0 && *name == '/') {
		name++;
		len--;
	}
	if (len == 0 || len > TFTPD_PATH_MAX || memchr(name, '\0', len))
		return SOURCE_NOT_FOUND;
	memcpy(out->path, name, len);
	out->path[len] = '\0';

	slash = memchr(out->path, '/', len);
	first_len = slash ? (size_t)(slash - out->path) : len;
	/* "." and ".." never name an entry; say so plainly. */
	if ((first_len == 1 && out->path[0] == '.') ||
	    (first_len == 2 && out->path[0] == '.' && out->path[1] == '.'))
		return SOURCE_DENIED;
	out->first_len = first_len;
	rest = slash ? slash + 1 : "";
	if (names_nothing_beneath(rest)) {
		out->path[first_len] = '\0';
		out->root_file = 1;
		out->beneath = slash != NULL;
		out->rest = "";
		return SOURCE_OK;
	}
	if (first_len > NAME_MAX)
		return SOURCE_NOT_FOUND;
	while (*rest == '/')
		rest++;
	out->root_file = 0;
	out->beneath = 0;
	out->rest = rest;
	return SOURCE_OK;
}

/* A machine without an entry of its own boots the "default" entry, as
 * dhcpproxyd answers it through that entry; one whose entry is broken
 * boots nothing (bootpick.h). */
size_t
exposure_entry_names(const char *entry, size_t len)
{
	return piid_names_machine(entry, len) ? 2 : 1;
}

enum source_status
exposure_entry(int type)
{
	switch (type) {
	case BOOT_ENTRY_BROKEN:
		return SOURCE_BROKEN;
	case BOOT_ENTRY_NONE:
		return SOURCE_NOT_FOUND;
	default:
		return SOURCE_OK;
	}
}

enum source_status
exposure_root_name(const char *name, size_t len)
{
	return plain_name_valid(name, len) ? SOURCE_OK : SOURCE_NOT_FOUND;
}

/* A machine without an entry would boot "default". */
int
exposure_root_missing_asks_default(const char *name, size_t len, int e)
{
	return e == ENOENT && piid_names_machine(name, len);
}

enum source_status
exposure_root_missing(int e, int default_there, const char **why)
{
	*why = e == ENOENT && default_there ? WHY_DEFAULT : "";
	return e == EACCES ? SOURCE_DENIED : SOURCE_NOT_FOUND;
}

enum source_status
exposure_root_found(const char *name, size_t len, mode_t mode,
    const char **why)
{
	if (!S_ISREG(mode)) {
		/* A symlink, a directory and a block device are entries; the
		 * rest is nothing to open. */
		*why = S_ISLNK(mode) || S_ISDIR(mode) || S_ISBLK(mode) ?
		    WHY_ENTRY : WHY_SPECIAL;
		return SOURCE_NOT_FOUND;
	}
	if (piid_names_machine(name, len) ||
	    (len == 7 && memcmp(name, "default", 7) == 0)) {
		*why = WHY_ENTRY_NAME;
		return SOURCE_NOT_FOUND;
	}
	*why = "";
	return SOURCE_OK;
}

enum source_status
exposure_root_open_failed(int e)
{
	/* reopen_fd: EPERM not a file that may be opened, ESTALE another
	 * file is there now, ELOOP a symlink put there since. */
	if (e == EACCES || e == EPERM || e == ESTALE || e == ELOOP)
		return SOURCE_DENIED;
	return SOURCE_ERROR;
}

enum source_status
exposure_root_opened(int is_image, int beneath, const char **why)
{
	*why = "";
	/* A hard link to an image (ln /srv/pi.img /srv/boot/lab) is an
	 * entry too: boot files are served out of it, never all of it. */
	if (is_image) {
		*why = WHY_IMAGE;
		return SOURCE_NOT_FOUND;
	}
	/* bootcode.bin/ is not a directory. */
	if (beneath)
		return SOURCE_NOT_FOUND;
	return SOURCE_OK;
}
