#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "nbdd/bootentry.h"
#include "nbdd/export.h"

/* An entry that leads to an image in Ceph: named as export.c names it,
 * so that the identity it binds opens that image and no other. */
static enum tlsauth_entry
in_ceph(int bootfd, const char *name, struct image_id *id)
{
	struct rbd_target t;
	char why[256];

	switch (bootdir_rbd(bootfd, name, strlen(name), &t, NULL, why,
	    sizeof(why))) {
	case BOOT_ENTRY_RBD:
		id->dev = (uint64_t)EXPORT_RBD_DEV;
		id->ino = rbd_target_key(&t);
		return TLSAUTH_ENTRY_IMAGE;
	case BOOT_ENTRY_NONE:
		return TLSAUTH_ENTRY_NONE;
	case BOOT_ENTRY_BROKEN:
		return TLSAUTH_ENTRY_BROKEN;
	default:
		/* Changed meanwhile: something else now. */
		return TLSAUTH_ENTRY_OTHER;
	}
}

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
	if (type == BOOT_ENTRY_RBD)
		return in_ceph(bootfd, name, id);
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
