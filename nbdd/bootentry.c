#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "nbdd/bootentry.h"

enum tlsauth_entry
bootentry_image(void *ctx, const char *name, struct image_id *id)
{
	int bootfd = *(const int *)ctx, fd;
	enum boot_entry_type type;
	char why[256];
	struct stat st;
	int ok;

	type = bootdir_open(bootfd, name, strlen(name), &fd, NULL, why,
	    sizeof(why));
	if (type == BOOT_ENTRY_NONE)
		return TLSAUTH_ENTRY_NONE;
	if (type == BOOT_ENTRY_BROKEN)
		return TLSAUTH_ENTRY_BROKEN;
	ok = fstat(fd, &st) == 0;
	close(fd);
	if (!ok || type == BOOT_ENTRY_DIR)
		return TLSAUTH_ENTRY_OTHER;
	/* As struct export names an image. */
	if (S_ISBLK(st.st_mode)) {
		id->dev = 0;
		id->ino = (uint64_t)st.st_rdev;
	} else {
		id->dev = (uint64_t)st.st_dev;
		id->ino = (uint64_t)st.st_ino;
	}
	return TLSAUTH_ENTRY_IMAGE;
}
