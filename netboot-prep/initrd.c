/* nbd-client in the initramfs: each initramfs a Pi may load is read out
 * of the FAT partition; one that lacks nbd-client gets an archive
 * appended, made here on the server from the image's own files (no
 * program of the image runs, so it takes seconds, not the many minutes
 * update-initramfs takes under emulation): nbd-client and the libraries
 * it needs, the nbd boot script and an ORDER that runs it, the nbd
 * module and the network drivers, as nbd-client's initramfs hook would
 * add them, and the module indexes depmod makes for the whole. The
 * image's root gets nbd-client installed, so that the Pi's own kernel
 * updates build it into their initramfs. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "cpio.h"
#include "elfdeps.h"
#include "initparts.h"
#include "prep.h"
#include "run.h"

#define OUR_ARCHIVE	"netboot-prep-nbd.cpio"

struct ientry {
	char *name;
	uint32_t mode;
	const uint8_t *data;
	size_t size;
};

/* What an initramfs holds. */
struct initrd {
	uint8_t *raw;			/* the file */
	size_t len, orig_len;		/* orig_len: before our archive */
	uint8_t *plain[4];		/* decompressed segments */
	size_t nplain;
	struct ientry *e;
	size_t n, cap;
	char kver[128];
	int ours;
};

/* What goes into the appended archive. */
struct addfile {
	char *name;			/* in the initramfs */
	uint32_t mode;
	uint8_t *data;
	size_t size;
};

struct adds {
	struct addfile *f;
	size_t n, cap;
};

static int
ientry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ientry *)a)->name,
	    ((const struct ientry *)b)->name);
}

static const struct ientry *
ifind(const struct initrd *r, const char *name)
{
	struct ientry key = { .name = (char *)name };

	return bsearch(&key, r->e, r->n, sizeof(*r->e), ientry_cmp);
}

static void
iadd(struct prep *p, struct initrd *r, const struct cpio_entry *ce)
{
	if (r->n == r->cap) {
		size_t c = r->cap ? r->cap * 2 : 1024;
		struct ientry *ne = reallocarray(r->e, c, sizeof(*ne));

		if (ne == NULL)
			prep_fail(p, "nbd-client", "out of memory");
		r->e = ne;
		r->cap = c;
	}
	r->e[r->n].name = strdup(ce->name);
	r->e[r->n].mode = ce->mode;
	r->e[r->n].data = ce->data;
	r->e[r->n].size = ce->size;
	if (r->e[r->n].name == NULL)
		prep_fail(p, "nbd-client", "out of memory");
	r->n++;
}

/* The archives of a buffer, one after the other. */
static int
parse_archives(struct prep *p, struct initrd *r, const uint8_t *b,
    size_t len)
{
	size_t off = 0;
	struct cpio_entry *ce = malloc(sizeof(*ce));

	if (ce == NULL)
		prep_fail(p, "nbd-client", "out of memory");
	while (off < len) {
		if (b[off] == 0) {
			off++;
			continue;
		}
		if (!cpio_is_header(b, len, off))
			break;
		for (;;) {
			enum cpio_result cr = cpio_next(b, len, &off, ce);

			if (cr == CPIO_END)
				break;
			if (cr == CPIO_BAD) {
				free(ce);
				return -1;
			}
			iadd(p, r, ce);
		}
	}
	free(ce);
	return (int)off;
}

static const char *
decompressor(const char *comp)
{
	if (strcmp(comp, "gzip") == 0)
		return "gzip";
	if (strcmp(comp, "zstd") == 0)
		return "zstd";
	if (strcmp(comp, "xz") == 0 || strcmp(comp, "lzma") == 0)
		return "xz";
	if (strcmp(comp, "lz4") == 0)
		return "lz4";
	return "bzip2";
}

static void
read_initrd(struct prep *p, const char *fname, struct initrd *r)
{
	size_t off = 0, end;
	char why[512];

	memset(r, 0, sizeof(*r));
	if ((r->raw = fat_read_file(p, fname, &r->len)) == NULL)
		prep_fail(p, "nbd-client", "%s named in config.txt is not in "
		    "the FAT partition", fname);
	r->orig_len = gzip_find_named(r->raw, r->len, OUR_ARCHIVE);
	r->ours = r->orig_len < r->len;
	end = r->orig_len;
	while (off < end) {
		const char *comp;

		while (off < end && r->raw[off] == 0)
			off++;
		if (off == end)
			break;
		if (cpio_is_header(r->raw, end, off)) {
			int got = parse_archives(p, r, r->raw + off, end - off);

			if (got <= 0)
				prep_fail(p, "nbd-client", "%s: a damaged cpio "
				    "archive", fname);
			off += (size_t)got;
			continue;
		}
		if ((comp = compression_name(r->raw + off, end - off)) == NULL)
			prep_fail(p, "nbd-client", "%s: neither a cpio archive "
			    "nor compressed at byte %zu", fname, off);
		{
			size_t clen = end - off;
			const char *tool = decompressor(comp);
			const char *argv[] = { tool, "-dc", NULL };
			struct run_io io = { .in = r->raw + off, .out_fd = -1 };

			io.inlen = clen;
			if (r->nplain == 4)
				prep_fail(p, "nbd-client", "%s: too many "
				    "compressed archives", fname);
			/* Zeros after the stream are the kernel's to skip,
			 * and some decompressors' to refuse. */
			if (run(argv, &io, why, sizeof(why)) == -1) {
				while (clen > 0 && r->raw[off + clen - 1] == 0)
					clen--;
				io.inlen = clen;
				if (clen == end - off || run(argv, &io, why,
				    sizeof(why)) == -1)
					prep_fail(p, "nbd-client", "%s: %s data: "
					    "%s", fname, comp, why);
			}
			r->plain[r->nplain++] = io.out;
			if (parse_archives(p, r, io.out, io.outlen) < 0)
				prep_fail(p, "nbd-client", "%s: a damaged cpio "
				    "archive inside its %s data", fname, comp);
			break;	/* a compressed stream runs to the end */
		}
	}
	if (r->ours) {
		const char *argv[] = { "gzip", "-dc", NULL };
		struct run_io io = { .in = r->raw + r->orig_len,
		    .inlen = r->len - r->orig_len, .out_fd = -1 };

		if (run(argv, &io, why, sizeof(why)) == -1 || r->nplain == 4)
			prep_fail(p, "nbd-client", "%s: netboot-prep's archive "
			    "in it: %s", fname, why);
		r->plain[r->nplain++] = io.out;
		parse_archives(p, r, io.out, io.outlen);
	}
	qsort(r->e, r->n, sizeof(*r->e), ientry_cmp);
	for (size_t i = 0; i < r->n; i++) {
		const char *n = r->e[i].name, *m = NULL;

		if (strncmp(n, "usr/lib/modules/", 16) == 0)
			m = n + 16;
		else if (strncmp(n, "lib/modules/", 12) == 0)
			m = n + 12;
		if (m && strchr(m, '/') && r->kver[0] == '\0')
			snprintf(r->kver, sizeof(r->kver), "%.*s",
			    (int)strcspn(m, "/"), m);
	}
}

static void
free_initrd(struct initrd *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->e[i].name);
	free(r->e);
	for (size_t i = 0; i < r->nplain; i++)
		free(r->plain[i]);
	free(r->raw);
}

/* A path as the initramfs keeps it: through its top-level symlinks
 * (lib -> usr/lib in a merged-/usr initramfs). */
static void
canon(const struct initrd *r, const char *path, char *out, size_t len)
{
	char top[64];
	const struct ientry *e;
	size_t tl = strcspn(path, "/");

	while (*path == '/')
		path++;
	tl = strcspn(path, "/");
	snprintf(top, sizeof(top), "%.*s", (int)tl, path);
	e = ifind(r, top);
	if (e && (e->mode & 0170000) == 0120000 && e->size > 0 &&
	    e->size < 64 && path[tl] == '/')
		snprintf(out, len, "%.*s%s", (int)e->size, e->data, path + tl);
	else
		snprintf(out, len, "%s", path);
}

static int
has(const struct initrd *r, const char *path)
{
	char c[PATH_MAX];

	canon(r, path, c, sizeof(c));
	return ifind(r, c) != NULL;
}

static int
carries_nbd(const struct initrd *r)
{
	return (has(r, "sbin/nbd-client") || has(r, "usr/sbin/nbd-client")) &&
	    has(r, "scripts/local-top/nbd");
}

static void
adds_put(struct prep *p, struct adds *a, const char *name, uint32_t mode,
    uint8_t *data, size_t size)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->f[i].name, name) == 0) {
			free(data);
			return;
		}
	if (a->n == a->cap) {
		size_t c = a->cap ? a->cap * 2 : 256;
		struct addfile *nf = reallocarray(a->f, c, sizeof(*nf));

		if (nf == NULL)
			prep_fail(p, "nbd-client", "out of memory");
		a->f = nf;
		a->cap = c;
	}
	a->f[a->n].name = strdup(name);
	a->f[a->n].mode = mode;
	a->f[a->n].data = data;
	a->f[a->n].size = size;
	a->n++;
}

/* A file of the root into the archive under name (unless the
 * initramfs has it); symlinks are followed inside the root. */
static int
add_root_file(struct prep *p, struct initrd *r, struct adds *a,
    const char *rootpath, const char *name, uint32_t mode)
{
	char c[PATH_MAX];
	uint8_t *data;
	size_t len;

	canon(r, name, c, sizeof(c));
	if (ifind(r, c))
		return 0;
	if ((data = root_read_file(p, rootpath, &len)) == NULL) {
		/* An absolute symlink points into the root, not the host. */
		char f[PATH_MAX * 2], target[PATH_MAX];
		ssize_t n;

		snprintf(f, sizeof(f), "%s%s", p->mnt, rootpath);
		if ((n = readlink(f, target, sizeof(target) - 1)) <= 0)
			return -1;
		target[n] = '\0';
		if (target[0] != '/') {
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%s", rootpath);
			*strrchr(dir, '/') = '\0';
			snprintf(f, sizeof(f), "%s/%s", dir, target);
		} else {
			snprintf(f, sizeof(f), "%s", target);
		}
		if ((data = root_read_file(p, f, &len)) == NULL)
			return -1;
	}
	adds_put(p, a, c, 0100000 | mode, data, len);
	return 0;
}

static const char *
triplet(uint16_t machine, int is64)
{
	switch (machine) {
	case 183:
		return "aarch64-linux-gnu";
	case 62:
		return "x86_64-linux-gnu";
	case 40:
		return "arm-linux-gnueabihf";
	}
	return is64 ? "aarch64-linux-gnu" : "arm-linux-gnueabihf";
}

/* A program and the libraries it needs, found in the root. */
static void
add_program(struct prep *p, struct initrd *r, struct adds *a,
    const char *rootpath, const char *name)
{
	char queue[64][PATH_MAX];
	size_t nq = 0;
	uint8_t *data;
	size_t len;
	struct elf_deps d;

	snprintf(queue[nq++], PATH_MAX, "%s", rootpath);
	for (size_t qi = 0; qi < nq; qi++) {
		if ((data = root_read_file(p, queue[qi], &len)) == NULL)
			prep_fail(p, "nbd-client", "%s in the image: %s",
			    queue[qi], strerror(errno));
		if (elf_deps(data, len, &d) != ELF_OK)
			prep_fail(p, "nbd-client", "%s in the image: not an "
			    "ELF program netboot-prep can read", queue[qi]);
		free(data);
		if (qi == 0) {
			if (add_root_file(p, r, a, rootpath, name, 0755) == -1)
				prep_fail(p, "nbd-client", "%s: %s", rootpath,
				    strerror(errno));
		}
		if (d.interp[0] && nq < 64) {
			int dup = 0;

			for (size_t k = 0; k < nq; k++)
				dup |= strcmp(queue[k], d.interp) == 0;
			if (!dup) {
				if (add_root_file(p, r, a, d.interp, d.interp,
				    0755) == -1)
					prep_fail(p, "nbd-client", "the "
					    "interpreter %s is not in the image",
					    d.interp);
			}
		}
		for (size_t i = 0; i < d.nneeded; i++) {
			const char *dirs[] = { "/lib/", "/usr/lib/", "/lib/",
			    "/usr/lib/", "/lib64/", "/usr/lib64/" };
			char path[PATH_MAX];
			int found = 0, dup = 0;

			for (int k = 0; k < 6 && !found; k++) {
				if (k < 2)
					snprintf(path, sizeof(path), "%s%s/%s",
					    dirs[k], triplet(d.machine, d.is64),
					    d.needed[i]);
				else
					snprintf(path, sizeof(path), "%s%s",
					    dirs[k], d.needed[i]);
				found = root_exists(p, path);
			}
			if (!found)
				prep_fail(p, "nbd-client", "%s needs %s, which "
				    "is not in the image", queue[qi],
				    d.needed[i]);
			for (size_t k = 0; k < nq; k++)
				dup |= strcmp(queue[k], path) == 0;
			if (dup || nq == 64)
				continue;
			if (add_root_file(p, r, a, path, path, 0644) == -1)
				prep_fail(p, "nbd-client", "%s: %s", path,
				    strerror(errno));
			snprintf(queue[nq++], PATH_MAX, "%s", path);
		}
	}
}

struct modwalk {
	struct prep *p;
	char (*mods)[PATH_MAX];
	size_t n, cap;
};

static void
mod_push(struct modwalk *w, const char *rel, size_t len)
{
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->mods[i]) == len && strncmp(w->mods[i], rel,
		    len) == 0)
			return;
	if (w->n == w->cap) {
		size_t c = w->cap ? w->cap * 2 : 512;
		char (*nm)[PATH_MAX] = reallocarray(w->mods, c, PATH_MAX);

		if (nm == NULL)
			prep_fail(w->p, "nbd-client", "out of memory");
		w->mods = nm;
		w->cap = c;
	}
	snprintf(w->mods[w->n++], PATH_MAX, "%.*s", (int)len, rel);
}

static void
mod_dep_cb(void *ctx, const char *path, size_t len)
{
	mod_push(ctx, path, len);
}

struct softwalk {
	struct modwalk *w;
	const char *dep;
	size_t deplen;
	const char *alias;
	size_t aliaslen;
};

static void
soft_cb(void *ctx, const char *name, size_t len)
{
	struct softwalk *sw = ctx;
	char n[128];

	snprintf(n, sizeof(n), "%.*s", (int)len, name);
	modules_resolve(sw->dep, sw->deplen, sw->alias, sw->aliaslen, n,
	    mod_dep_cb, sw->w);
}

/* Modules under dir (relative to the modules directory). */
static void
walk_net(struct modwalk *w, const char *moddir, const char *rel)
{
	char path[PATH_MAX * 2];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s", moddir, rel);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
		if (de->d_type == DT_DIR) {
			if (!net_module_excluded(sub + strlen(
			    "kernel/drivers/net/") - 0 * 0))
				walk_net(w, moddir, sub);
		} else if (strstr(de->d_name, ".ko") &&
		    !net_module_excluded(sub + strlen("kernel/drivers/net/"))) {
			mod_push(w, sub, strlen(sub));
		}
	}
	closedir(d);
}

static int
write_tree_file(const char *base, const char *rel, const void *data,
    size_t len)
{
	char path[PATH_MAX * 2], *s;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	for (s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
add_modules(struct prep *p, struct initrd *r, struct adds *a)
{
	char moddir[PATH_MAX * 2], rootmod[PATH_MAX], tree[PATH_MAX * 2], why[512];
	char prefix[PATH_MAX], c[PATH_MAX * 3];
	struct modwalk w = { .p = p };
	uint8_t *dep;
	size_t deplen, nmods;
	static const char *const indexes[] = { "modules.dep", "modules.dep.bin",
	    "modules.alias", "modules.alias.bin", "modules.softdep",
	    "modules.symbols", "modules.symbols.bin", "modules.builtin.bin",
	    "modules.builtin.alias.bin", "modules.devname" };

	snprintf(rootmod, sizeof(rootmod), "/lib/modules/%s", r->kver);
	snprintf(moddir, sizeof(moddir), "%s%s", p->mnt, rootmod);
	if (!root_exists(p, rootmod))
		prep_fail(p, "nbd-client", "the image has no %s for the "
		    "initramfs's kernel %s", rootmod, r->kver);
	snprintf(c, sizeof(c), "%s/modules.dep", rootmod);
	if ((dep = root_read_file(p, c, &deplen)) == NULL)
		prep_fail(p, "nbd-client", "%s: %s", c, strerror(errno));
	walk_net(&w, moddir, "kernel/drivers/net");
	nmods = w.n;
	/* nbd, and ext4 for the root itself: an initramfs built with
	 * MODULES=list or dep elsewhere may lack the module of a root it
	 * never had to mount. Either may be built into the kernel. */
	{
		static const char *const want[] = {
			"kernel/drivers/block/nbd.ko", "kernel/fs/ext4/ext4.ko",
		};
		static const char *const ext[] = { "", ".xz", ".zst", ".gz" };

		for (size_t k = 0; k < 2; k++) {
			int found = 0;

			for (size_t i = 0; i < 4 && !found; i++) {
				char rel[128];

				snprintf(rel, sizeof(rel), "%s%s", want[k], ext[i]);
				snprintf(c, sizeof(c), "%s/%s", rootmod, rel);
				if (root_exists(p, c)) {
					mod_push(&w, rel, strlen(rel));
					found = 1;
				}
			}
			if (!found)
				log_debug("nbd-client: no %s in %s: built into "
				    "the kernel", want[k], rootmod);
		}
	}
	/* What they link against, and what they want loaded first
	 * (ext4 and jbd2 want crc32c): modules.dep, modules.softdep. */
	{
		uint8_t *soft, *alias;
		size_t softlen = 0, aliaslen = 0;

		snprintf(c, sizeof(c), "%s/modules.softdep", rootmod);
		soft = root_read_file(p, c, &softlen);
		snprintf(c, sizeof(c), "%s/modules.alias", rootmod);
		alias = root_read_file(p, c, &aliaslen);
		for (size_t i = 0; i < w.n; i++) {
			struct softwalk sw = { &w, (char *)dep, deplen,
			    (char *)alias, aliaslen };
			char name[128];

			modules_dep_of((char *)dep, deplen, w.mods[i],
			    mod_dep_cb, &w);
			module_name(w.mods[i], strlen(w.mods[i]), name,
			    sizeof(name));
			if (soft)
				modules_softdeps((char *)soft, softlen, name,
				    soft_cb, &sw);
		}
		free(soft);
		free(alias);
	}
	free(dep);

	/* The initramfs's module tree and the new modules, for depmod. */
	canon(r, "lib/modules", prefix, sizeof(prefix));
	snprintf(tree, sizeof(tree), "%s/modules", p->tmpdir);
	for (size_t i = 0; i < r->n; i++) {
		char want[PATH_MAX * 2];
		size_t pl;

		snprintf(want, sizeof(want), "%s/%s/", prefix, r->kver);
		pl = strlen(want);
		if (strncmp(r->e[i].name, want, pl) != 0 ||
		    (r->e[i].mode & 0170000) != 0100000)
			continue;
		snprintf(c, sizeof(c), "lib/modules/%s/%s", r->kver,
		    r->e[i].name + pl);
		if (write_tree_file(tree, c, r->e[i].data, r->e[i].size) == -1)
			prep_fail(p, "nbd-client", "%s/%s: %s", tree, c,
			    strerror(errno));
	}
	for (size_t i = 0; i < w.n; i++) {
		char name[PATH_MAX * 2], rp[PATH_MAX * 2];
		uint8_t *data;
		size_t len;

		snprintf(name, sizeof(name), "%s/%s/%s", prefix, r->kver,
		    w.mods[i]);
		if (ifind(r, name))
			continue;
		snprintf(rp, sizeof(rp), "%s/%s", rootmod, w.mods[i]);
		if ((data = root_read_file(p, rp, &len)) == NULL)
			prep_fail(p, "nbd-client", "%s: %s", rp,
			    strerror(errno));
		snprintf(c, sizeof(c), "lib/modules/%s/%s", r->kver, w.mods[i]);
		if (write_tree_file(tree, c, data, len) == -1)
			prep_fail(p, "nbd-client", "%s/%s: %s", tree, c,
			    strerror(errno));
		adds_put(p, a, name, 0100644, data, len);
	}
	/* depmod reads modules.order and modules.builtin beside them. */
	{
		static const char *const keep[] = { "modules.order",
		    "modules.builtin", "modules.builtin.modinfo" };

		for (size_t i = 0; i < 3; i++) {
			char rp[PATH_MAX * 2], tp[PATH_MAX * 4];
			uint8_t *data;
			size_t len;
			struct stat st;

			snprintf(tp, sizeof(tp), "%s/lib/modules/%s/%s", tree,
			    r->kver, keep[i]);
			if (stat(tp, &st) == 0)
				continue;
			snprintf(rp, sizeof(rp), "%s/%s", rootmod, keep[i]);
			if ((data = root_read_file(p, rp, &len)) == NULL)
				continue;
			snprintf(c, sizeof(c), "lib/modules/%s/%s", r->kver,
			    keep[i]);
			if (write_tree_file(tree, c, data, len) == -1)
				prep_fail(p, "nbd-client", "%s: %s", c,
				    strerror(errno));
			snprintf(c, sizeof(c), "%s/%s/%s", prefix, r->kver,
			    keep[i]);
			adds_put(p, a, c, 0100644, data, len);
		}
	}
	{
		const char *argv[] = { "depmod", "-b", tree, r->kver, NULL };

		if (run(argv, NULL, why, sizeof(why)) == -1)
			prep_fail(p, "nbd-client", "depmod for %s: %s (kmod "
			    "installed?)", r->kver, why);
	}
	for (size_t i = 0; i < sizeof(indexes) / sizeof(*indexes); i++) {
		char tp[PATH_MAX * 4];
		int fd;
		struct stat st;
		uint8_t *data;

		snprintf(tp, sizeof(tp), "%s/lib/modules/%s/%s", tree, r->kver,
		    indexes[i]);
		if ((fd = open(tp, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		if (fstat(fd, &st) == -1 || (data = malloc((size_t)st.st_size +
		    1)) == NULL || read(fd, data, (size_t)st.st_size) !=
		    st.st_size)
			prep_fail(p, "nbd-client", "%s: %s", tp,
			    strerror(errno));
		close(fd);
		snprintf(c, sizeof(c), "%s/%s/%s", prefix, r->kver, indexes[i]);
		adds_put(p, a, c, 0100644, data, (size_t)st.st_size);
	}
	log_info("nbd-client: %s: nbd, ext4 and %zu network driver modules "
	    "(%zu with what they need; those the initramfs lacked go in)",
	    r->kver, nmods, w.n);
	free(w.mods);
}

static int
addfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct addfile *)a)->name,
	    ((const struct addfile *)b)->name);
}

/* The archive: parent directories first, then the files, by name, with
 * a fixed time, so the same image gives the same bytes. */
static uint8_t *
make_archive(struct prep *p, struct initrd *r, struct adds *a, size_t *len)
{
	struct cpio_out o = { 0 };
	char why[512];
	uint8_t *gz;
	const char *argv[] = { "gzip", "-n", "-9", "-c", NULL };
	struct run_io io = { .out_fd = -1 };
	char **dirs = NULL;
	size_t nd = 0;

	qsort(a->f, a->n, sizeof(*a->f), addfile_cmp);
	for (size_t i = 0; i < a->n; i++) {
		char d[PATH_MAX], *s;

		snprintf(d, sizeof(d), "%s", a->f[i].name);
		for (s = d; (s = strchr(s, '/')) != NULL; s++) {
			int dup = 0;

			*s = '\0';
			for (size_t k = 0; k < nd && !dup; k++)
				dup = strcmp(dirs[k], d) == 0;
			if (!dup && !ifind(r, d)) {
				dirs = reallocarray(dirs, nd + 1, sizeof(*dirs));
				if (dirs == NULL || (dirs[nd++] = strdup(d)) ==
				    NULL)
					prep_fail(p, "nbd-client", "out of memory");
			}
			*s = '/';
		}
	}
	for (size_t k = 0; k < nd; k++) {
		cpio_add(&o, dirs[k], 040755, 0, NULL, 0);
		free(dirs[k]);
	}
	free(dirs);
	for (size_t i = 0; i < a->n; i++)
		cpio_add(&o, a->f[i].name, a->f[i].mode, 0, a->f[i].data,
		    a->f[i].size);
	cpio_finish(&o);
	if (o.failed)
		prep_fail(p, "nbd-client", "out of memory");
	io.in = o.buf;
	io.inlen = o.len;
	if (run(argv, &io, why, sizeof(why)) == -1)
		prep_fail(p, "nbd-client", "gzip: %s", why);
	cpio_free(&o);
	if ((gz = malloc(io.outlen + 64)) == NULL)
		prep_fail(p, "nbd-client", "out of memory");
	*len = gzip_named(io.out, io.outlen, OUR_ARCHIVE, gz, io.outlen + 64);
	free(io.out);
	if (*len == 0)
		prep_fail(p, "nbd-client", "gzip wrote an unexpected header");
	return gz;
}

static const char *
root_nbd_client(struct prep *p)
{
	if (root_exists(p, "/usr/sbin/nbd-client"))
		return "/usr/sbin/nbd-client";
	if (root_exists(p, "/sbin/nbd-client"))
		return "/sbin/nbd-client";
	return NULL;
}

static void
chroot_mounts(struct prep *p)
{
	char d[PATH_MAX + 8];

	snprintf(d, sizeof(d), "%s/proc", p->mnt);
	if (mount("proc", d, "proc", 0, NULL) == -1)
		prep_fail(p, "nbd-client", "mount proc on %s: %s", d,
		    strerror(errno));
	p->proc_mounted = 1;
	snprintf(d, sizeof(d), "%s/dev", p->mnt);
	if (mount("/dev", d, NULL, MS_BIND, NULL) == -1)
		prep_fail(p, "nbd-client", "bind /dev on %s: %s", d,
		    strerror(errno));
	p->dev_mounted = 1;
}

/* Installs nbd-client into the root with the image's own dpkg or apt,
 * its initramfs left alone meanwhile (update_initramfs=no) because
 * rebuilding it under emulation takes many minutes; the archive this
 * file appends does that part. */
static void
install_nbd_client(struct prep *p)
{
	static const char conf[] = "/etc/initramfs-tools/update-initramfs.conf";
	static const char policy[] = "/usr/sbin/policy-rc.d";
	char why[1024], off[] = "update_initramfs=no\n";
	uint8_t *saved;
	size_t savedlen = 0;
	int made_policy = 0, r;
	const char *arch_test[] = { "/bin/true", NULL };

	if (root_run(p, arch_test, why, sizeof(why)) == -1)
		prep_fail(p, "nbd-client", "the image has no nbd-client and its "
		    "programs do not run on this server (%s): install "
		    "qemu-user-static and mount binfmt_misc (mount -t binfmt_misc "
		    "binfmt_misc /proc/sys/fs/binfmt_misc), or install "
		    "nbd-client in the image on a Pi and run update-initramfs -u "
		    "there", why);
	chroot_mounts(p);
	saved = root_read_file(p, conf, &savedlen);
	if (root_write_file(p, conf, off, strlen(off), 0644, why,
	    sizeof(why)) == -1)
		prep_fail(p, "nbd-client", "%s", why);
	if (!root_exists(p, policy)) {
		static const char deny[] = "#!/bin/sh\nexit 101\n";

		if (root_write_file(p, policy, deny, sizeof(deny) - 1, 0755,
		    why, sizeof(why)) == -1)
			prep_fail(p, "nbd-client", "%s", why);
		made_policy = 1;
	}
	if (p->ndebs > 0) {
		const char *argv[PREP_DEBS_MAX + 4];
		size_t n = 0;
		char dst[PREP_DEBS_MAX][PATH_MAX];

		argv[n++] = "dpkg";
		argv[n++] = "-i";
		for (size_t i = 0; i < p->ndebs; i++) {
			const char *base = strrchr(p->debs[i], '/');
			uint8_t *data;
			size_t len;
			int fd = open(p->debs[i], O_RDONLY | O_CLOEXEC);
			struct stat st;

			base = base ? base + 1 : p->debs[i];
			snprintf(dst[i], PATH_MAX, "/tmp/%s", base);
			if (fd == -1 || fstat(fd, &st) == -1 || (data = malloc(
			    (size_t)st.st_size)) == NULL || read(fd, data,
			    (size_t)st.st_size) != st.st_size)
				prep_fail(p, "nbd-client", "-d %s: %s",
				    p->debs[i], strerror(errno));
			close(fd);
			len = (size_t)st.st_size;
			if (root_write_file(p, dst[i], data, len, 0644, why,
			    sizeof(why)) == -1)
				prep_fail(p, "nbd-client", "%s", why);
			free(data);
			argv[n++] = dst[i];
		}
		argv[n] = NULL;
		r = root_run(p, argv, why, sizeof(why));
		for (size_t i = 0; i < p->ndebs; i++) {
			char f[PATH_MAX * 2];

			snprintf(f, sizeof(f), "%s%s", p->mnt, dst[i]);
			unlink(f);
		}
		if (r == -1)
			prep_fail(p, "nbd-client", "dpkg -i in the image: %s: "
			    "give every package nbd-client needs with -d, or "
			    "leave -d out to install it with the image's apt",
			    why);
	} else {
		const char *update[] = { "apt-get", "update", "-q", NULL };
		const char *install[] = { "apt-get", "install", "-y", "-q",
		    "--no-install-recommends", "nbd-client", NULL };
		const char *clean[] = { "apt-get", "clean", NULL };
		uint8_t *resolv;
		size_t rl = 0;
		char rpath[PATH_MAX * 2], saved_rpath[PATH_MAX * 2 + 16];
		int moved = 0;

		/* The image's resolver may be a symlink into its /run. */
		snprintf(rpath, sizeof(rpath), "%s/etc/resolv.conf", p->mnt);
		snprintf(saved_rpath, sizeof(saved_rpath), "%s.netboot-prep",
		    rpath);
		if (rename(rpath, saved_rpath) == 0)
			moved = 1;
		if ((resolv = malloc(4096)) != NULL) {
			int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
			ssize_t got = fd >= 0 ? read(fd, resolv, 4096) : -1;

			if (fd >= 0)
				close(fd);
			rl = got > 0 ? (size_t)got : 0;
			(void)root_write_file(p, "/etc/resolv.conf", resolv, rl,
			    0644, why, sizeof(why));
			free(resolv);
		}
		r = root_run(p, update, why, sizeof(why));
		if (r == 0)
			r = root_run(p, install, why, sizeof(why));
		if (r == 0)
			(void)root_run(p, clean, why + 512, 512);
		unlink(rpath);
		if (moved && rename(saved_rpath, rpath) == -1)
			log_warn("nbd-client: restoring /etc/resolv.conf: %s",
			    strerror(errno));
		if (r == -1)
			prep_fail(p, "nbd-client", "apt-get in the image: %s: "
			    "the image's apt needs the network; without it, "
			    "download nbd-client and the packages it needs for "
			    "the image's architecture (apt-get download) and "
			    "give them with -d", why);
	}
	if (made_policy) {
		char f[PATH_MAX * 2];

		snprintf(f, sizeof(f), "%s%s", p->mnt, policy);
		unlink(f);
	}
	if (saved != NULL) {
		if (root_write_file(p, conf, saved, savedlen, 0644, why,
		    sizeof(why)) == -1)
			prep_fail(p, "nbd-client", "restoring %s: %s", conf, why);
		free(saved);
	} else {
		char f[PATH_MAX * 2];

		snprintf(f, sizeof(f), "%s%s", p->mnt, conf);
		unlink(f);
	}
	log_info("nbd-client: installed in the image (%s); its own kernel "
	    "updates now build it into their initramfs", p->ndebs ?
	    "dpkg -i" : "apt-get");
}

/* The root's copy of an initramfs (/boot/initrd.img-VERSION), which the
 * distribution's hooks copy into the boot partition again. */
static void
update_root_copy(struct prep *p, const struct initrd *r, const uint8_t *nb,
    size_t nlen)
{
	DIR *d;
	struct dirent *de;
	char dir[PATH_MAX * 2], why[512];

	snprintf(dir, sizeof(dir), "%s/boot", p->mnt);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char rp[PATH_MAX];
		uint8_t *data;
		size_t len;

		if (strncmp(de->d_name, "initrd.img", 10) != 0 &&
		    strncmp(de->d_name, "initramfs", 9) != 0)
			continue;
		snprintf(rp, sizeof(rp), "/boot/%s", de->d_name);
		if ((data = root_read_file(p, rp, &len)) == NULL)
			continue;
		if (len == r->len && memcmp(data, r->raw, len) == 0) {
			if (root_write_file(p, rp, nb, nlen, 0644, why,
			    sizeof(why)) == -1)
				prep_fail(p, "nbd-client", "%s", why);
			log_info("nbd-client: %s too", rp);
		}
		free(data);
	}
	closedir(d);
}

void
initrd_prepare(struct prep *p, char names[][FAT_FILE_NAME], size_t n)
{
	int installed_checked = 0;

	if (n == 0)
		prep_fail(p, "nbd-client", "config.txt names no initramfs: a "
		    "root on NBD needs one (nbd-client runs in it)");
	for (size_t i = 0; i < n; i++) {
		struct initrd r;
		struct adds a = { 0 };
		const char *client;
		char why[512], *order = NULL;
		const struct ientry *oe;
		uint8_t *gz, *nb, *script;
		size_t gzlen, nlen, slen;

		read_initrd(p, names[i], &r);
		if (carries_nbd(&r)) {
			log_info("nbd-client: %s already carries it%s",
			    names[i], r.ours ? " (added by netboot-prep)" : "");
			free_initrd(&r);
			continue;
		}
		if (r.kver[0] == '\0')
			prep_fail(p, "nbd-client", "%s has no kernel modules: "
			    "cannot tell which kernel it is for", names[i]);
		if (!installed_checked) {
			if (root_nbd_client(p) == NULL)
				install_nbd_client(p);
			installed_checked = 1;
		}
		if ((client = root_nbd_client(p)) == NULL)
			prep_fail(p, "nbd-client", "nbd-client is not in the "
			    "image after installing it");
		add_program(p, &r, &a, client, "sbin/nbd-client");
		if ((script = root_read_file(p, "/usr/share/initramfs-tools/"
		    "scripts/local-top/nbd", &slen)) == NULL)
			prep_fail(p, "nbd-client", "/usr/share/initramfs-tools/"
			    "scripts/local-top/nbd (package nbd-client) is not "
			    "in the image");
		adds_put(p, &a, "scripts/local-top/nbd", 0100755, script, slen);
		oe = ifind(&r, "scripts/local-top/ORDER");
		if ((order = malloc(65536)) == NULL ||
		    order_with_nbd(oe ? (const char *)oe->data : "",
		    oe ? oe->size : 0, order, 65536) == -1)
			prep_fail(p, "nbd-client", "%s: scripts/local-top/ORDER "
			    "is too long", names[i]);
		adds_put(p, &a, "scripts/local-top/ORDER", 0100644,
		    (uint8_t *)order, strlen(order));
		add_modules(p, &r, &a);
		gz = make_archive(p, &r, &a, &gzlen);
		/* The kernel needs no alignment before a compressed
		 * archive (init/initramfs.c), only before a plain one. */
		nlen = r.orig_len + gzlen;
		if ((nb = calloc(1, nlen)) == NULL)
			prep_fail(p, "nbd-client", "out of memory");
		memcpy(nb, r.raw, r.orig_len);
		memcpy(nb + nlen - gzlen, gz, gzlen);
		if (fat_write_file(p, names[i], nb, nlen, why, sizeof(why)) == -1)
			prep_fail(p, "nbd-client", "writing %s into the FAT "
			    "partition: %s", names[i], why);
		update_root_copy(p, &r, nb, nlen);
		log_info("nbd-client: %s: %zu files appended (%zu KiB "
		    "compressed; %zu KiB in all)", names[i], a.n, gzlen >> 10,
		    nlen >> 10);
		for (size_t k = 0; k < a.n; k++) {
			free(a.f[k].name);
			free(a.f[k].data);
		}
		free(a.f);
		free(gz);
		free(nb);
		free_initrd(&r);
	}
}
