#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

int
privdrop(const char *user)
{
	struct passwd *pw;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("user %s: %s", user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1) {
		log_err("setgroups for user %s: %s", user, strerror(errno));
		return -1;
	}
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1) {
		log_err("setresgid %u for user %s: %s", (unsigned)pw->pw_gid,
		    user, strerror(errno));
		return -1;
	}
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_err("setresuid %u for user %s: %s", (unsigned)pw->pw_uid,
		    user, strerror(errno));
		return -1;
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid) {
		log_err("privilege drop to %s did not take", user);
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("privilege drop to %s: root could be regained", user);
		return -1;
	}
	return 0;
}
