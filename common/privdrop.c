#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

/* USER's groups, primary first, as the group database has them: a
 * malloc'd array of *n. NULL after logging why. */
static gid_t *
user_groups(const char *user, gid_t gid, int *n)
{
	gid_t *groups = NULL, *more;
	int want = 16;

	for (;;) {
		if ((more = reallocarray(groups, (size_t)want,
		    sizeof(*groups))) == NULL) {
			log_err("groups of user %s: %s", user,
			    strerror(errno));
			free(groups);
			return NULL;
		}
		groups = more;
		*n = want;
		if (getgrouplist(user, gid, groups, n) != -1)
			return groups;
		/* *n now says how many there are. */
		if (*n <= want) {
			log_err("groups of user %s: cannot be read", user);
			free(groups);
			return NULL;
		}
		want = *n;
	}
}

/* Whether the process's supplementary groups are want[0..n) (the kernel
 * keeps them sorted, so in any order). */
static int
groups_took(const gid_t *want, int n)
{
	gid_t *have;
	int m, ok = 1, found;

	if ((m = getgroups(0, NULL)) == -1 || m != n)
		return 0;
	if ((have = reallocarray(NULL, (size_t)(n ? n : 1),
	    sizeof(*have))) == NULL)
		return 0;
	if (getgroups(n, have) != n)
		ok = 0;
	for (int i = 0; ok && i < n; i++) {
		found = 0;
		for (int j = 0; j < n && !found; j++)
			found = have[j] == want[i];
		ok = found;
	}
	free(have);
	return ok;
}

int
privdrop(const char *user)
{
	struct passwd *pw;
	uid_t uid, ruid, euid, suid;
	gid_t gid, rgid, egid, sgid, *groups;
	int ngroups;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	/* The supplementary groups too: a group that USER shares with
	 * another daemon's user is how both read the images (netboot(7),
	 * OWNERSHIP). */
	if ((groups = user_groups(user, gid, &ngroups)) == NULL)
		return -1;
	if (setgroups((size_t)ngroups, groups) == -1) {
		log_err("setgroups for user %s: %s", user, strerror(errno));
		free(groups);
		return -1;
	}
	if (setresgid(gid, gid, gid) == -1) {
		log_err("setresgid %u for user %s: %s", (unsigned)gid, user,
		    strerror(errno));
		free(groups);
		return -1;
	}
	if (setresuid(uid, uid, uid) == -1) {
		log_err("setresuid %u for user %s: %s", (unsigned)uid, user,
		    strerror(errno));
		free(groups);
		return -1;
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    !groups_took(groups, ngroups)) {
		log_err("privilege drop to %s did not take", user);
		free(groups);
		return -1;
	}
	free(groups);
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("privilege drop to %s: root could be regained", user);
		return -1;
	}
	return 0;
}
