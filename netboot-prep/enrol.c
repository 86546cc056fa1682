/* Boot entries: DIR/boot/ENTRY -> ../NAME.img, and the list of machines
 * that asked dhcpproxyd for a boot and have none (dhcpproxyd -U). */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "prep.h"

int
enrol(const char *dir, const char *name, const char *entry, char *why,
    size_t whylen)
{
	char boot[PATH_MAX], path[PATH_MAX * 2], tmp[PATH_MAX * 2 + 16];
	char target[PATH_MAX], old[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(boot, sizeof(boot), "%s/boot", dir);
	if (mkdir(boot, 0755) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "%s: %s", boot, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", boot, entry);
	snprintf(target, sizeof(target), "../%s.img", name);
	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			snprintf(why, whylen, "%s exists and is not a symlink: "
			    "not replacing it", path);
			errno = EEXIST;
			return -1;
		}
		if ((n = readlink(path, old, sizeof(old) - 1)) >= 0) {
			old[n] = '\0';
			if (strcmp(old, target) == 0) {
				log_info("enrol: %s -> %s (as it was)", entry,
				    target);
				return 0;
			}
			log_info("enrol: %s was -> %s", entry, old);
		}
	}
	/* Re-pointed in one step: the Pi sees the old or the new. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.netboot-prep", boot, entry);
	unlink(tmp);
	if (symlink(target, tmp) == -1 || rename(tmp, path) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	log_info("enrol: %s -> %s", entry, target);
	return 0;
}
