/* The steps of a preparation, in order (main.c runs them): each reads or
 * changes the work copy and leaves the decisions to the pure files. */
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fat.h"
#include "common/log.h"
#include "fstab.h"
#include "kcmdline.h"
#include "prep.h"
#include "run.h"
#include "shvars.h"

#define COPY_CHUNK	(1 << 20)
#define ZERO_BLOCK	4096
/* Room the work needs beside the image's data: nbd-client, the new
 * initramfs, the file system's growth. */
#define WORK_MARGIN	(256ull << 20)

static const char *const mtools_env[] = { "MTOOLS_SKIP_CHECK=1", NULL };

void
prep_unmount(struct prep *p)
{
	char why[512];

	if (p->proc_mounted) {
		char d[PATH_MAX + 8];

		snprintf(d, sizeof(d), "%s/proc", p->mnt);
		if (umount2(d, MNT_DETACH) == -1)
			log_warn("cleanup: umount %s: %s", d, strerror(errno));
		p->proc_mounted = 0;
	}
	if (p->dev_mounted) {
		char d[PATH_MAX + 8];

		snprintf(d, sizeof(d), "%s/dev", p->mnt);
		if (umount2(d, MNT_DETACH) == -1)
			log_warn("cleanup: umount %s: %s", d, strerror(errno));
		p->dev_mounted = 0;
	}
	if (p->mounted) {
		if (umount(p->mnt) == -1)
			log_warn("cleanup: umount %s: %s", p->mnt,
			    strerror(errno));
		p->mounted = 0;
	}
	if (p->loopdev[0]) {
		const char *argv[] = { "losetup", "-d", p->loopdev, NULL };

		if (run(argv, NULL, why, sizeof(why)) == -1)
			log_warn("cleanup: %s", why);
		p->loopdev[0] = '\0';
	}
	if (p->mnt[0]) {
		rmdir(p->mnt);
		p->mnt[0] = '\0';
	}
	if (p->tmpdir[0]) {
		const char *argv[] = { "rm", "-rf", p->tmpdir, NULL };

		(void)run(argv, NULL, why, sizeof(why));
		p->tmpdir[0] = '\0';
	}
}

void
prep_cleanup(struct prep *p)
{
	prep_unmount(p);
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->work[0]) {
		unlink(p->work);
		p->work[0] = '\0';
	}
}

void
prep_fail(struct prep *p, const char *step, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s: %s", step, msg);
	prep_cleanup(p);
	log_err("%s was not written", p->target[0] ? p->target : p->name);
	exit(1);
}

/* --- check ------------------------------------------------------------ */

static uint64_t
gzip_isize(int fd, uint64_t csize)
{
	uint8_t t[4];
	uint64_t v;

	if (csize < 18 || pread(fd, t, 4, (off_t)csize - 4) != 4)
		return 0;
	v = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 |
	    (uint64_t)t[3] << 24;
	/* ISIZE is the size modulo 2^32; images are larger than their
	 * compressed form. */
	while (v < csize)
		v += 1ull << 32;
	return v;
}

/* The input's format by its first bytes, not its name. */
static const char *
input_format(const uint8_t *b, size_t n)
{
	if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "gzip";
	if (n >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	return "raw";
}

static uint64_t
data_size(struct prep *p, const char *fmt, const struct stat *st)
{
	if (strcmp(fmt, "raw") == 0)
		return (uint64_t)st->st_blocks * 512;
	if (strcmp(fmt, "gzip") == 0) {
		int fd = open(p->image, O_RDONLY | O_CLOEXEC);
		uint64_t v = fd >= 0 ? gzip_isize(fd, (uint64_t)st->st_size) : 0;

		if (fd >= 0)
			close(fd);
		return v;
	}
	if (strcmp(fmt, "xz") == 0) {
		const char *argv[] = { "xz", "--robot", "--list", p->image,
		    NULL };
		struct run_io io = { .out_fd = -1 };
		char why[512], *t, *save = NULL;
		uint64_t v = 0;

		if (run(argv, &io, why, sizeof(why)) == -1)
			prep_fail(p, "check", "%s: not a whole xz file (%s): "
			    "download it again", p->image, why);
		t = strndup((char *)io.out, io.outlen);
		free(io.out);
		for (char *l = strtok_r(t, "\n", &save); l;
		    l = strtok_r(NULL, "\n", &save))
			if (strncmp(l, "totals\t", 7) == 0) {
				/* totals streams blocks compressed
				 * uncompressed ... */
				char *f = l;

				for (int i = 0; i < 4 && f; i++)
					f = strchr(f + 1, '\t');
				if (f)
					v = strtoull(f + 1, NULL, 10);
			}
		free(t);
		return v;
	}
	return (uint64_t)st->st_size * 4;	/* zstd: a guess */
}

void
step_check(struct prep *p)
{
	struct stat st;
	struct statvfs sv;
	uint8_t head[16];
	uint64_t need, avail;
	const char *fmt;
	ssize_t n;
	int fd;

	if (stat(p->dir, &st) == -1 || !S_ISDIR(st.st_mode))
		prep_fail(p, "check", "%s: %s: give the images' directory "
		    "with -r", p->dir, errno ? strerror(errno) :
		    "not a directory");
	snprintf(p->target, sizeof(p->target), "%s/%s.img", p->dir, p->name);
	if ((fd = open(p->image, O_RDONLY | O_CLOEXEC)) == -1)
		prep_fail(p, "check", "%s: %s", p->image, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		prep_fail(p, "check", "%s: not a regular file", p->image);
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < (ssize_t)sizeof(head))
		prep_fail(p, "check", "%s: %s: not an OS image", p->image,
		    n < 0 ? strerror(errno) : "too short");
	fmt = input_format(head, (size_t)n);
	log_info("check: %s: %s, %llu bytes", p->image,
	    strcmp(fmt, "raw") == 0 ? "an image" : fmt,
	    (unsigned long long)st.st_size);

	/* The name: taken, or held by nbdd. */
	if (lstat(p->target, &st) == 0) {
		if (!p->force)
			prep_fail(p, "check", "%s exists: give another name, "
			    "or -f to replace it", p->target);
		if (!S_ISREG(st.st_mode))
			prep_fail(p, "check", "%s is not a regular file (a "
			    "symlink or a device): not replacing it", p->target);
		if ((fd = open(p->target, O_RDONLY | O_CLOEXEC)) >= 0) {
			if (flock(fd, LOCK_EX | LOCK_NB) == -1 &&
			    errno == EWOULDBLOCK) {
				close(fd);
				prep_fail(p, "check", "%s is held by nbdd (a Pi "
				    "is using it) or another program: shut "
				    "that Pi down first (fuser %s shows who "
				    "holds it)", p->target, p->target);
			}
			close(fd);
		}
	}

	if (statvfs(p->dir, &sv) == -1)
		prep_fail(p, "check", "%s: %s", p->dir, strerror(errno));
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	need = data_size(p, fmt, &st) + WORK_MARGIN;
	if (avail < need)
		prep_fail(p, "check", "%s has %llu MiB free, preparing %s "
		    "needs about %llu MiB: free some space, or use -r with "
		    "a larger file system", p->dir,
		    (unsigned long long)(avail >> 20), p->name,
		    (unsigned long long)(need >> 20));
	if (geteuid() != 0)
		prep_fail(p, "check", "netboot-prep mounts the image's root "
		    "file system (a loop device) and must run as root");
}

/* --- copy -------------------------------------------------------------- */

static int
all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Writes a stream into the work copy, leaving holes for zero blocks. */
static void
copy_stream(struct prep *p, int in, const char *what)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	ssize_t n;

	if (buf == NULL)
		prep_fail(p, "copy", "out of memory");
	for (;;) {
		size_t got = 0;

		while (got < COPY_CHUNK) {
			n = read(in, buf + got, COPY_CHUNK - got);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				free(buf);
				prep_fail(p, "copy", "reading %s: %s", what,
				    strerror(errno));
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		if (got == 0)
			break;
		for (size_t o = 0; o < got; o += ZERO_BLOCK) {
			size_t k = got - o < ZERO_BLOCK ? got - o : ZERO_BLOCK;

			if (all_zero(buf + o, k))
				continue;
			if (pwrite(p->fd, buf + o, k, (off_t)(off + o)) !=
			    (ssize_t)k) {
				int e = errno;

				free(buf);
				prep_fail(p, "copy", "writing %s: %s%s",
				    p->work, strerror(e), e == ENOSPC ?
				    ": free some space, or use -r with a "
				    "larger file system" : "");
			}
		}
		off += got;
		if (got < COPY_CHUNK)
			break;
	}
	free(buf);
	if (ftruncate(p->fd, (off_t)off) == -1)
		prep_fail(p, "copy", "%s: %s", p->work, strerror(errno));
	p->img_size = off;
}

void
step_copy(struct prep *p)
{
	uint8_t head[16];
	const char *fmt;
	int in, pfd[2];
	char tmpl[PATH_MAX];

	snprintf(tmpl, sizeof(tmpl), "%s/.%s.img.prep-XXXXXX", p->dir,
	    p->name);
	if ((p->fd = mkostemp(tmpl, O_CLOEXEC)) == -1)
		prep_fail(p, "copy", "%s: %s", tmpl, strerror(errno));
	strlcpy(p->work, tmpl, sizeof(p->work));
	if ((in = open(p->image, O_RDONLY | O_CLOEXEC)) == -1)
		prep_fail(p, "copy", "%s: %s", p->image, strerror(errno));
	if (read(in, head, sizeof(head)) != (ssize_t)sizeof(head))
		prep_fail(p, "copy", "%s: too short", p->image);
	fmt = input_format(head, sizeof(head));
	if (strcmp(fmt, "raw") == 0 && ioctl(p->fd, FICLONE, in) == 0) {
		struct stat st;

		/* On XFS or btrfs the copy shares the image's blocks until
		 * either is written: per-Pi images of one prepared image take
		 * the space of what makes each its own. */
		if (fstat(in, &st) == -1)
			prep_fail(p, "copy", "%s: %s", p->image,
			    strerror(errno));
		close(in);
		p->img_size = (uint64_t)st.st_size;
		log_info("copy: %s (%llu MiB) into %s, sharing its blocks "
		    "(reflink)", p->image,
		    (unsigned long long)(p->img_size >> 20), p->work);
		return;
	} else if (strcmp(fmt, "raw") == 0) {
		log_debug("copy: no reflink of %s here (%s): copying",
		    p->image, strerror(errno));
		lseek(in, 0, SEEK_SET);
		copy_stream(p, in, p->image);
		close(in);
	} else {
		const char *tool = strcmp(fmt, "xz") == 0 ? "xz" :
		    strcmp(fmt, "gzip") == 0 ? "gzip" : "zstd";
		const char *argv[] = { tool, "-dc", NULL };
		char why[512];
		pid_t pid;
		int status;

		lseek(in, 0, SEEK_SET);
		if (!have_program(tool))
			prep_fail(p, "copy", "%s is %s-compressed and %s is not "
			    "installed: install it (Debian: apt install %s)",
			    p->image, fmt, tool, strcmp(tool, "xz") == 0 ?
			    "xz-utils" : tool);
		if (pipe2(pfd, O_CLOEXEC) == -1)
			prep_fail(p, "copy", "pipe: %s", strerror(errno));
		if ((pid = fork()) == -1)
			prep_fail(p, "copy", "fork: %s", strerror(errno));
		if (pid == 0) {
			dup2(in, 0);
			dup2(pfd[1], 1);
			execvp(tool, (char *const *)argv);
			_exit(127);
		}
		close(pfd[1]);
		close(in);
		copy_stream(p, pfd[0], p->image);
		close(pfd[0]);
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(why, sizeof(why), "%s -dc exited with "
			    "status %d", tool, WIFEXITED(status) ?
			    WEXITSTATUS(status) : 128 + WTERMSIG(status));
			prep_fail(p, "copy", "%s: truncated or corrupt %s "
			    "data (%s): download it again", p->image, fmt, why);
		}
	}
	log_info("copy: %s (%llu MiB) into %s", p->image,
	    (unsigned long long)(p->img_size >> 20), p->work);
}

/* --- partitions --------------------------------------------------------- */

static int
work_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct prep *p = ctx;

	return pread(p->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static void
find_partitions(struct prep *p, const char *step)
{
	struct blkdev dev = { work_read, p, p->img_size, 0 };
	char why[256];
	enum part_result r;
	uint8_t magic[2];

	r = part_find(&dev, 0, &p->boot, why, sizeof(why));
	if (r == PART_NONE)
		prep_fail(p, step, "%s: no FAT partition: not a Raspberry Pi "
		    "image (a Pi boots from a FAT partition)", p->image);
	if (r != PART_OK)
		prep_fail(p, step, "%s: the partition table: %s: truncated or "
		    "corrupt image, download it again", p->image, why);
	memset(&p->root, 0, sizeof(p->root));
	for (int n = 1; n <= 16; n++) {
		struct part q;

		if (n == p->boot.number || part_find(&dev, n, &q, why,
		    sizeof(why)) != PART_OK)
			continue;
		if (q.length > 2048 && pread(p->fd, magic, 2,
		    (off_t)(q.start + 1080)) == 2 && magic[0] == 0x53 &&
		    magic[1] == 0xef) {
			p->root = q;
			break;
		}
	}
	if (p->root.number == 0)
		prep_fail(p, step, "%s: no ext4 root partition beside the FAT "
		    "one (partition %d)", p->image, p->boot.number);
}

void
step_partitions(struct prep *p)
{
	find_partitions(p, "partitions");
	log_info("partitions: boot %d (FAT, %llu MiB), root %d (ext4, %llu "
	    "MiB)", p->boot.number, (unsigned long long)(p->boot.length >> 20),
	    p->root.number, (unsigned long long)(p->root.length >> 20));
}

/* --- size -------------------------------------------------------------- */

static void
losetup_root(struct prep *p, const char *step)
{
	char off[32], len[32], why[512];
	const char *argv[] = { "losetup", "--find", "--show", "-o", off,
	    "--sizelimit", len, p->work, NULL };
	struct run_io io = { .out_fd = -1 };

	snprintf(off, sizeof(off), "%llu", (unsigned long long)p->root.start);
	snprintf(len, sizeof(len), "%llu", (unsigned long long)p->root.length);
	if (run(argv, &io, why, sizeof(why)) == -1)
		prep_fail(p, step, "a loop device for %s: %s (modprobe loop?)",
		    p->work, why);
	snprintf(p->loopdev, sizeof(p->loopdev), "%.*s", (int)strcspn(
	    (char *)io.out, "\n"), io.out ? (char *)io.out : "");
	free(io.out);
	if (strncmp(p->loopdev, "/dev/", 5) != 0)
		prep_fail(p, step, "losetup printed no device");
}

static void
loop_detach(struct prep *p)
{
	const char *argv[] = { "losetup", "-d", p->loopdev, NULL };
	char why[512];

	if (run(argv, NULL, why, sizeof(why)) == -1)
		log_warn("losetup -d %s: %s", p->loopdev, why);
	p->loopdev[0] = '\0';
}

void
step_size(struct prep *p)
{
	char why[512], script[64];
	const char *fsck[] = { "e2fsck", "-f", "-p", NULL, NULL };
	const char *resize[] = { "resize2fs", NULL, NULL };
	struct run_io io = { .out_fd = -1 };
	char num[16];
	uint64_t old = p->root.length;

	if (p->size == 0)
		return;
	if (p->size < p->img_size)
		prep_fail(p, "size", "-S %llu MiB is smaller than the image "
		    "(%llu MiB): images only grow", (unsigned long long)
		    (p->size >> 20), (unsigned long long)(p->img_size >> 20));
	if (p->root.start + p->root.length < p->img_size - (1 << 20) &&
	    p->size > p->img_size)
		prep_fail(p, "size", "the root partition %d is not the last "
		    "one: cannot grow it", p->root.number);
	if (p->size > p->img_size) {
		if (ftruncate(p->fd, (off_t)p->size) == -1)
			prep_fail(p, "size", "%s: %s", p->work, strerror(errno));
		p->img_size = p->size;
		/* The partition to the end of the image. */
		snprintf(num, sizeof(num), "%d", p->root.number);
		snprintf(script, sizeof(script), ", +\n");
		io.in = script;
		io.inlen = strlen(script);
		{
			const char *argv[] = { "sfdisk", "--no-reread",
			    "--no-tell-kernel", "-q", "-N", num, p->work, NULL };

			if (run(argv, &io, why, sizeof(why)) == -1)
				prep_fail(p, "size", "growing partition %d: %s",
				    p->root.number, why);
			free(io.out);
		}
		find_partitions(p, "size");
	}
	losetup_root(p, "size");
	fsck[3] = p->loopdev;
	if (run(fsck, NULL, why, sizeof(why)) == -1)
		prep_fail(p, "size", "e2fsck of the root partition: %s: the "
		    "image's file system is damaged", why);
	resize[1] = p->loopdev;
	if (run(resize, NULL, why, sizeof(why)) == -1)
		prep_fail(p, "size", "resize2fs: %s", why);
	loop_detach(p);
	log_info("size: image %llu MiB, root partition %d %llu -> %llu MiB",
	    (unsigned long long)(p->img_size >> 20), p->root.number,
	    (unsigned long long)(old >> 20),
	    (unsigned long long)(p->root.length >> 20));
}

/* --- mount --------------------------------------------------------------- */

void
step_mount(struct prep *p)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX - 8];

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/netboot-prep.XXXXXX",
	    tmp) >= sizeof(tmpl))
		prep_fail(p, "mount", "TMPDIR %s: name too long", tmp);
	if (mkdtemp(tmpl) == NULL)
		prep_fail(p, "mount", "%s: %s", tmpl, strerror(errno));
	strlcpy(p->tmpdir, tmpl, sizeof(p->tmpdir));
	snprintf(p->mnt, sizeof(p->mnt), "%s/root", tmpl);
	if (mkdir(p->mnt, 0700) == -1)
		prep_fail(p, "mount", "%s: %s", p->mnt, strerror(errno));
	losetup_root(p, "mount");
	if (mount(p->loopdev, p->mnt, "ext4", 0, NULL) == -1)
		prep_fail(p, "mount", "the root partition %d (%s) as ext4: %s",
		    p->root.number, p->loopdev, strerror(errno));
	p->mounted = 1;
}

/* --- files in the FAT partition and the root --------------------------------- */

uint8_t *
fat_read_file(struct prep *p, const char *name, size_t *len)
{
	struct fat_vol *v = calloc(1, sizeof(*v));
	struct fat_dirent de;
	struct fat_run *runs = NULL;
	size_t nruns = 0;
	uint32_t tail;
	uint8_t *buf = NULL;

	if (v == NULL)
		return NULL;
	if (fat_open(v, work_read, p, p->boot.start, p->boot.length) != FAT_OK)
		prep_fail(p, "read", "the FAT partition: %s", v->why);
	if (fat_lookup(v, name, &de) != FAT_OK) {
		free(v);
		errno = ENOENT;
		return NULL;
	}
	if (fat_runs(v, de.cluster, de.size, &runs, &nruns, &tail) != FAT_OK)
		prep_fail(p, "read", "%s in the FAT partition: %s", name,
		    v->why);
	if ((buf = malloc((size_t)de.size + 1)) == NULL)
		prep_fail(p, "read", "out of memory");
	for (size_t i = 0; i < nruns; i++)
		if (pread(p->fd, buf + runs[i].foff, runs[i].len,
		    (off_t)(p->boot.start + runs[i].off)) != (ssize_t)runs[i].len)
			prep_fail(p, "read", "%s in the FAT partition: %s",
			    name, strerror(errno));
	buf[de.size] = '\0';
	*len = de.size;
	free(runs);
	free(v);
	return buf;
}

struct names {
	char **v;
	size_t n;
};

static int
collect_name(void *arg, const struct fat_dirent *de)
{
	struct names *ns = arg;
	char **nv;

	if (de->attr & FAT_ATTR_DIR)
		return 0;
	if ((nv = reallocarray(ns->v, ns->n + 1, sizeof(*nv))) == NULL)
		return 1;
	ns->v = nv;
	if ((ns->v[ns->n] = strdup(de->name)) != NULL)
		ns->n++;
	return 0;
}

char **
fat_list_root(struct prep *p, size_t *n)
{
	struct fat_vol *v = calloc(1, sizeof(*v));
	struct names ns = { NULL, 0 };

	if (v == NULL || fat_open(v, work_read, p, p->boot.start,
	    p->boot.length) != FAT_OK ||
	    fat_dir_scan(v, 0, "/", collect_name, &ns) != FAT_OK)
		prep_fail(p, "read", "the FAT partition's root directory: %s",
		    v ? v->why : "out of memory");
	free(v);
	*n = ns.n;
	return ns.v;
}

int
fat_write_file(struct prep *p, const char *name, const void *data,
    size_t len, char *why, size_t whylen)
{
	char tmp[PATH_MAX + 16], img[PATH_MAX + 32], dst[300];
	const char *argv[] = { "mcopy", "-o", "-i", img, tmp, dst, NULL };
	struct run_io io = { .out_fd = -1, .env = mtools_env };
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s/fat-file", p->tmpdir);
	snprintf(img, sizeof(img), "%s@@%llu", p->work,
	    (unsigned long long)p->boot.start);
	snprintf(dst, sizeof(dst), "::/%s", name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || write(fd, data, len) != (ssize_t)len) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	r = run(argv, &io, why, whylen);
	free(io.out);
	unlink(tmp);
	return r;
}

static void
root_path(struct prep *p, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->mnt, path[0] == '/' ? path + 1 : path);
}

int
root_exists(struct prep *p, const char *path)
{
	char f[PATH_MAX * 2];
	struct stat st;

	root_path(p, path, f, sizeof(f));
	return lstat(f, &st) == 0;
}

uint8_t *
root_read_file(struct prep *p, const char *path, size_t *len)
{
	char f[PATH_MAX * 2];
	struct stat st;
	uint8_t *buf;
	int fd;

	root_path(p, path, f, sizeof(f));
	if ((fd = open(f, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

int
root_write_file(struct prep *p, const char *path, const void *data,
    size_t len, int mode, char *why, size_t whylen)
{
	char f[PATH_MAX * 2], tmp[PATH_MAX * 2 + 16];
	struct stat st;
	int fd;

	root_path(p, path, f, sizeof(f));
	snprintf(tmp, sizeof(tmp), "%s.netboot-prep", f);
	if (stat(f, &st) == 0)
		mode = (int)(st.st_mode & 07777);
	else
		st.st_uid = st.st_gid = 0;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, (mode_t)mode) ==
	    -1 || fchown(fd, st.st_uid, st.st_gid) == -1 || fsync(fd) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, f) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
root_run(struct prep *p, const char *const argv[], char *why, size_t whylen)
{
	const char *full[32];
	static const char *const env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", NULL,
	};
	struct run_io io = { .out_fd = -1, .env = env };
	size_t n = 0;
	int r;

	full[n++] = "chroot";
	full[n++] = p->mnt;
	for (size_t i = 0; argv[i] && n < 31; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	r = run(full, &io, why, whylen);
	free(io.out);
	return r;
}
