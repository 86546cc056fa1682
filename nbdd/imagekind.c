#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>

#include "nbdd/imagekind.h"

int
image_try_write(mode_t mode)
{
	return (mode & 0222) != 0;
}

int
image_kind(const struct image_facts *f)
{
	if (!image_try_write(f->mode))
		return IMAGE_BASE_NO_WRITE_BIT;
	switch (f->write_errno) {
	case 0:
		/* A read-only device still opens for writing; only its
		 * writes fail. lvchange -pr and blockdev --setro are as
		 * deliberate as chmod a-w. */
		return S_ISBLK(f->mode) && f->device_ro ?
		    IMAGE_BASE_DEVICE_RO : IMAGE_OWN;
	case EACCES:
		return IMAGE_NOT_OURS;
	/* A file system can turn read-only by itself (errors=remount-ro):
	 * serving every Pi's own disk as a throwaway then would lose their
	 * writes without a word. A store that is read-only on purpose says
	 * so as any other base does, with no write bit. */
	case EROFS:
		return IMAGE_READ_ONLY_FS;
	case EPERM:
		return IMAGE_NOT_PERMITTED;
	case ETXTBSY:
		return IMAGE_BUSY;
	default:
		return -1;
	}
}

int
image_kind_is_base(enum image_kind k)
{
	return k == IMAGE_BASE_NO_WRITE_BIT || k == IMAGE_BASE_DEVICE_RO ||
	    k == IMAGE_BASE_SNAPSHOT;
}

int
image_kind_is_refused(enum image_kind k)
{
	return k != IMAGE_OWN && !image_kind_is_base(k);
}

void
image_kind_reason(enum image_kind k, const char *user, char *out,
    size_t outlen)
{
	switch (k) {
	case IMAGE_OWN:
		snprintf(out, outlen, "nbdd's user %s may write it", user);
		break;
	case IMAGE_BASE_NO_WRITE_BIT:
		snprintf(out, outlen, "its mode has no write permission bit");
		break;
	case IMAGE_BASE_DEVICE_RO:
		snprintf(out, outlen, "a block device the kernel holds "
		    "read-only");
		break;
	case IMAGE_BASE_SNAPSHOT:
		snprintf(out, outlen, "a snapshot in Ceph, read-only there");
		break;
	case IMAGE_NOT_OURS:
		snprintf(out, outlen, "its mode says writable, but nbdd's "
		    "user %s cannot write it", user);
		break;
	case IMAGE_READ_ONLY_FS:
		snprintf(out, outlen, "its mode says writable, but its file "
		    "system is mounted read-only");
		break;
	case IMAGE_NOT_PERMITTED:
		snprintf(out, outlen, "its mode says writable, but writing "
		    "it is not permitted (immutable or append-only?)");
		break;
	case IMAGE_BUSY:
		snprintf(out, outlen, "its mode says writable, but it is in "
		    "use as a swap file or a running program");
		break;
	}
}

void
image_kind_fix(const struct image_facts *f, enum image_kind k,
    const char *user, const char *path, char *out, size_t outlen)
{
	const char *share = "to share it as a base";

	switch (k) {
	case IMAGE_NOT_OURS:
		/* Its owner is nbdd's user without the owner's write bit
		 * (mode 0464): chown would change nothing. */
		if (f->owner == f->self)
			snprintf(out, outlen, "chmod u+w %s if it is one Pi's "
			    "disk, or chmod a-w %s %s", path, path, share);
		else
			snprintf(out, outlen, "chown %s %s if it is one Pi's "
			    "disk, or chmod a-w %s %s", user, path, path,
			    share);
		break;
	case IMAGE_READ_ONLY_FS:
		snprintf(out, outlen, "remount its file system read-write if "
		    "it is one Pi's disk, or give %s no write bit (chmod a-w) "
		    "%s", path, share);
		break;
	case IMAGE_NOT_PERMITTED:
		snprintf(out, outlen, "chattr -i -a %s; then, to share it "
		    "as a base, chmod a-w %s", path, path);
		break;
	case IMAGE_BUSY:
		snprintf(out, outlen, "stop what uses %s (swapoff?)", path);
		break;
	default:
		if (outlen > 0)
			out[0] = '\0';
		break;
	}
}

enum census_line
image_census_add(struct image_census *c, enum census_outcome o,
    int read_only, int cluster)
{
	switch (o) {
	case CENSUS_OPENED:
		if (!read_only) {
			c->own++;
			return CENSUS_LINE_NONE;
		}
		c->bases++;
		return CENSUS_LINE_BASE;
	case CENSUS_REFUSED:
		c->refused++;
		return CENSUS_LINE_REFUSED;
	case CENSUS_IN_CEPH:
		c->ceph++;
		return cluster ? CENSUS_LINE_NONE : CENSUS_LINE_CEPH_NO_CLUSTER;
	default:
		return CENSUS_LINE_NONE;
	}
}

void
image_census_describe(const struct image_census *c, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "images now: %d written directly, %d shared "
	    "base%s, %d refused, %d in Ceph (looked up again for every "
	    "client)", c->own, c->bases, c->bases == 1 ? "" : "s",
	    c->refused, c->ceph);
}
