/* Copy-on-write overlays over a real base file: every command against an
 * in-memory model of the merged disk, from one thread and from several
 * at once (with blocks shared between them), the base's bytes unchanged;
 * the per-host limit and a full file system answering ENOSPC; the grace
 * period and discarding with a clock of the test's own; a base renamed
 * over while overlays use the old one; the memory an overlay over a
 * 32 GiB base holds. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/export.h"
#include "nbdd/overlay.h"
#include "nbdd/proto.h"
#include "tests/unit/check_main.h"
#include "tests/unit/expect.h"

#define B	4096u
#define HOLE	(NBD_STATE_HOLE | NBD_STATE_ZERO)

static char root[64], ovldir[96];
static int rootfd = -1;
static int64_t fake_now = 1000000;

static int64_t
test_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static void
advance(int64_t ms)
{
	__atomic_add_fetch(&fake_now, ms, __ATOMIC_RELAXED);
}

/* xorshift, one state per caller so threads do not share one. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t
below(uint64_t *s, uint64_t n)
{
	return n == 0 ? 0 : rnd(s) % n;
}

static void
setup(void)
{
	strlcpy(root, "/tmp/nbdd-overlay-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	rootfd = open(root, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(rootfd, 0);
	snprintf(ovldir, sizeof(ovldir), "%s/overlays", root);
	ck_assert_int_eq(mkdir(ovldir, 0700), 0);
	log_init("overlay-test", 0, -1);	/* warnings only */
}

static void
teardown(void)
{
	char cmd[160], path[128];

	/* Mounts a test made in its own mount namespace, if still there. */
	snprintf(path, sizeof(path), "%s/small", root);
	(void)umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "%s/ro", root);
	(void)umount2(path, MNT_DETACH);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

/* root/NAME.img of size bytes: 64 KiB chunks of random bytes, every
 * third chunk left a hole. The same seed gives the same bytes. */
static void
make_base(const char *name, uint64_t size, uint64_t seed)
{
	char path[NAME_MAX + 1];
	uint8_t chunk[65536];
	int fd;

	snprintf(path, sizeof(path), "%s.img", name);
	fd = openat(rootfd, path, O_CREAT | O_TRUNC | O_WRONLY, 0444);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	for (uint64_t off = 0, i = 0; off < size; off += sizeof(chunk), i++) {
		uint64_t n = size - off < sizeof(chunk) ? size - off :
		    sizeof(chunk);
		if (i % 3 == 1)
			continue;
		for (size_t k = 0; k < sizeof(chunk); k += 8) {
			uint64_t r = rnd(&seed);
			memcpy(chunk + k, &r, 8);
		}
		ck_assert_int_eq(pwrite(fd, chunk, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
}

static void
open_base(const char *name, struct export *ex)
{
	const char *why;

	ck_assert_int_eq(export_open(rootfd, name, strlen(name), ex, &why),
	    EXPORT_OK);
}

/* The whole of root/NAME.img, and a checksum of it. */
static uint8_t *
slurp(const char *name, uint64_t *size)
{
	char path[NAME_MAX + 1];
	struct stat st;
	uint8_t *buf;
	int fd;

	snprintf(path, sizeof(path), "%s.img", name);
	fd = openat(rootfd, path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*size = (uint64_t)st.st_size;
	return buf;
}

static uint64_t
checksum(const char *name)
{
	uint64_t size, h = 1469598103934665603ULL;
	uint8_t *b = slurp(name, &size);

	for (uint64_t i = 0; i < size; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	free(b);
	return h ^ size;
}

static void
registry(struct ovl_registry *r, uint64_t host_max, int64_t grace_ms)
{
	char why[256];

	struct ovl_limits lim = { .host_max = host_max,
	    .grace_ms = grace_ms };

	ck_assert_msg(ovl_registry_init(r, ovldir, &lim, test_clock, why,
	    sizeof(why)) == 0, "%s", why);
}

static struct overlay *
get(struct ovl_registry *r, const struct export *ex, const char *host)
{
	char why[256];
	struct overlay *o = ovl_get(r, ex, host, NULL, why, sizeof(why));

	ck_assert_msg(o != NULL, "ovl_get: %s", why);
	return o;
}

/* Entries in a directory, besides . and .. */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* --- the model of a merged disk ---------------------------------------- */

struct model {
	uint8_t *bytes;
	uint64_t lo, hi;	/* the bytes it speaks for */
	uint64_t disk;		/* the size of the whole disk */
};

static int
model_zero(const struct model *m, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (m->bytes[off - m->lo + i] != 0)
			return 0;
	return 1;
}

/* A random range inside [m->lo, m->hi): small ones mostly, some around
 * block edges, some large. */
static void
pick(uint64_t *s, const struct model *m, uint64_t *off, uint32_t *len)
{
	uint64_t span = m->hi - m->lo, n;

	switch (below(s, 4)) {
	case 0:
		n = 1 + below(s, 16);
		break;
	case 1:
		n = B * (1 + below(s, 4)) + below(s, 3) - 1;
		break;
	case 2:
		n = 1 + below(s, 3 * B);
		break;
	default:
		n = 1 + below(s, 256 * 1024);
		break;
	}
	if (n > span)
		n = span;
	if (n == 0)
		n = 1;
	*off = m->lo + below(s, span - n + 1);
	if (below(s, 3) == 0)	/* on a block boundary */
		*off = *off / B * B < m->lo ? *off : *off / B * B;
	*len = (uint32_t)n;
}

/* One random command on o, applied to the model too; reads and block
 * status are checked against it. Failures go to EXPECT. */
static void
step(struct overlay *o, struct model *m, uint64_t *s, uint8_t *buf)
{
	uint64_t off, first, last;
	uint32_t len;
	int op = (int)below(s, 10), rc, no_hole, fast;
	struct blk_extent ext[64];

	pick(s, m, &off, &len);
	switch (op) {
	case 0: case 1: case 2:
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(s);
		rc = ovl_write(o, buf, len, off, (int)below(s, 2));
		EXPECT(rc == 0, "write %u at %llu: %s", len,
		    (unsigned long long)off, strerror(errno));
		memcpy(m->bytes + (off - m->lo), buf, len);
		break;
	case 3: case 4: case 5:
		rc = ovl_read(o, buf, len, off);
		EXPECT(rc == 0 && memcmp(buf, m->bytes + (off - m->lo), len) ==
		    0, "read %u at %llu: %s", len, (unsigned long long)off,
		    rc == 0 ? "bytes differ from the model" : strerror(errno));
		break;
	case 6:
		rc = ovl_trim(o, off, len, 0);
		EXPECT(rc == 0, "trim %u at %llu: %s", len,
		    (unsigned long long)off, strerror(errno));
		/* The blocks it covers whole read as zeroes. */
		first = (off + B - 1) / B;
		last = (off + len) / B;
		for (uint64_t b = first; b < last; b++)
			memset(m->bytes + (b * B - m->lo), 0, B);
		/* The short last block of the disk, covered to its end. */
		if (off + len == m->disk && m->disk % B != 0 &&
		    m->disk / B >= first)
			memset(m->bytes + (m->disk / B * B - m->lo), 0,
			    m->disk % B);
		break;
	case 7:
		no_hole = (int)below(s, 2);
		fast = (int)below(s, 2);
		rc = ovl_zero(o, off, len, no_hole, fast, 0);
		if (rc == -1 && errno == EOPNOTSUPP && fast)
			break;	/* could not be fast: nothing changed */
		EXPECT(rc == 0, "zero %u at %llu: %s", len,
		    (unsigned long long)off, strerror(errno));
		memset(m->bytes + (off - m->lo), 0, len);
		break;
	case 8:
		EXPECT(ovl_cache(o, off, len) == 0, "cache");
		break;
	default: {
		int n = ovl_extents(o, off, len, ext, 1 + (int)below(s, 64));
		uint64_t pos = off;

		EXPECT(n >= 1, "extents %u at %llu: %d", len,
		    (unsigned long long)off, n);
		for (int i = 0; i < n; i++) {
			EXPECT(ext[i].len > 0 && pos + ext[i].len <= off + len,
			    "extent %d of %u at %llu runs past the range", i,
			    len, (unsigned long long)off);
			if (pos + ext[i].len > off + len)
				break;
			EXPECT(!(ext[i].flags & NBD_STATE_ZERO) ||
			    model_zero(m, pos, ext[i].len), "extent %llu+%u "
			    "said zero but is not", (unsigned long long)pos,
			    ext[i].len);
			pos += ext[i].len;
		}
		break;
	}
	}
}

/* --- tests ------------------------------------------------------------- */

START_TEST(tmpfile_both_ways)
{
	int dirfd = open(ovldir, O_RDONLY | O_DIRECTORY);
	struct stat st;
	char c = 'x';

	for (int try = 0; try <= 1; try++) {
		int fd = ovl_tmpfile(dirfd, try);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &st), 0);
		ck_assert_int_eq(st.st_nlink, 0);	/* unnamed already */
		ck_assert_int_eq(entries(ovldir), 0);
		ck_assert_int_eq(pwrite(fd, &c, 1, 5000), 1);
		close(fd);
	}
	close(dirfd);
}
END_TEST

/* The directory missing, unwritable, on a read-only file system: an
 * error naming it. */
START_TEST(bad_directory)
{
	struct ovl_registry r;
	char why[512], dir[128];
	int pfd[2], status;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/missing", root);
	ck_assert_int_eq(ovl_registry_init(&r, dir, &(struct ovl_limits){ 0 },
	    NULL, why, sizeof(why)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(why, dir));
	ck_assert_ptr_nonnull(strstr(why, "No such file"));

	/* As an unprivileged user, in a directory it may only read. */
	ck_assert_int_eq(chmod(root, 0755), 0);
	ck_assert_int_eq(chmod(ovldir, 0755), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		int rc = -1;
		if (setgid(65534) == 0 && setuid(65534) == 0)
			rc = ovl_registry_init(&r, ovldir,
			    &(struct ovl_limits){ 0 }, NULL, why,
			    sizeof(why));
		else
			snprintf(why, sizeof(why), "cannot become nobody");
		if (write(pfd[1], why, strlen(why) + 1) < 0)
			_exit(3);
		_exit(rc == -1 && errno == EACCES ? 0 : 1);
	}
	close(pfd[1]);
	memset(why, 0, sizeof(why));
	ck_assert_int_gt(read(pfd[0], why, sizeof(why) - 1), 0);
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (getuid() == 0) {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s", why);
		ck_assert_ptr_nonnull(strstr(why, ovldir));
		ck_assert_ptr_nonnull(strstr(why, "cannot create overlay "
		    "files"));
	}
}
END_TEST

START_TEST(model_one_thread)
{
	const uint64_t size = (1 << 20) + 1234;	/* a short last block */
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	struct model m;
	uint64_t seed = 42, sum, n;
	uint8_t *buf = malloc(256 * 1024), *all;

	make_base("pi", size, 7);
	sum = checksum("pi");
	m.bytes = slurp("pi", &n);
	m.lo = 0;
	m.hi = m.disk = size;
	registry(&r, 0, 0);
	open_base("pi", &ex);
	o = get(&r, &ex, "10.0.0.5");
	ck_assert_uint_eq(ovl_size(o), size);
	for (int i = 0; i < 8000; i++)
		step(o, &m, &seed, buf);
	EXPECT_NONE();
	/* The whole disk, in one read, as the model has it. */
	all = malloc(size);
	ck_assert_int_eq(ovl_read(o, all, (uint32_t)size, 0), 0);
	ck_assert_int_eq(memcmp(all, m.bytes, size), 0);
	/* Out of range and overflowing ranges. */
	ck_assert_int_eq(ovl_read(o, all, 2, size - 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ovl_write(o, all, 1, UINT64_MAX, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(ovl_trim(o, size, 1, 0), -1);
	ck_assert_int_eq(ovl_zero(o, UINT64_MAX - 1, 4, 0, 0, 0), -1);
	ck_assert_int_eq(ovl_flush(o), 0);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_uint_eq(checksum("pi"), sum);
	ck_assert_int_eq(entries(ovldir), 0);
	free(all);
	free(buf);
	free(m.bytes);
}
END_TEST

struct worker {
	struct overlay *o;
	struct model m;
	uint64_t seed;
	int ops;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(256 * 1024);

	for (int i = 0; i < w->ops; i++)
		step(w->o, &w->m, &w->seed, buf);
	free(buf);
	return NULL;
}

/* Four connections of one host, each on its own bytes; the bytes of
 * neighbours meet inside blocks, so their first writes there race to
 * copy the same block up from the base. */
START_TEST(model_threads)
{
	enum { THREADS = 4 };
	const uint64_t size = (8 << 20) + 777;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	uint64_t sum, n;
	uint8_t *base, *all;

	make_base("lab", size, 99);
	sum = checksum("lab");
	base = slurp("lab", &n);
	registry(&r, 0, 60000);
	open_base("lab", &ex);
	o = get(&r, &ex, "10.0.0.7");
	for (int i = 0; i < THREADS; i++) {
		w[i].o = o;
		w[i].m.lo = i == 0 ? 0 : (size / THREADS) * (uint64_t)i + 1001;
		w[i].m.hi = i == THREADS - 1 ? size :
		    (size / THREADS) * (uint64_t)(i + 1) + 1001;
		w[i].m.disk = size;
		w[i].m.bytes = malloc(w[i].m.hi - w[i].m.lo);
		memcpy(w[i].m.bytes, base + w[i].m.lo, w[i].m.hi - w[i].m.lo);
		w[i].seed = 1000 + (uint64_t)i;
		w[i].ops = 2500;
	}
	/* Bytes the neighbours share blocks over, right at the seams. */
	for (int i = 1; i < THREADS; i++)
		ck_assert_uint_ne(w[i].m.lo % B, 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT_NONE();
	all = malloc(size);
	ck_assert_int_eq(ovl_read(o, all, (uint32_t)size, 0), 0);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_msg(memcmp(all + w[i].m.lo, w[i].m.bytes,
		    w[i].m.hi - w[i].m.lo) == 0, "connection %d's bytes "
		    "differ from its model", i);
		free(w[i].m.bytes);
	}
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_uint_eq(checksum("lab"), sum);
	free(all);
	free(base);
}
END_TEST

struct half {
	struct overlay *o;
	pthread_barrier_t *go;
	int second;		/* the second half of each block */
	int zero;		/* WRITE ZEROES instead of WRITE */
};

static void *
write_halves(void *arg)
{
	struct half *h = arg;
	uint8_t data[B / 2];

	memset(data, h->second ? 0xbb : 0xaa, sizeof(data));
	pthread_barrier_wait(h->go);
	for (uint64_t b = 0; b < 256; b++) {
		uint64_t off = b * B + (h->second ? B / 2 : 0);
		int rc = h->zero ? ovl_zero(h->o, off, B / 2, 0, 0, 0) :
		    ovl_write(h->o, data, B / 2, off, 0);
		EXPECT(rc == 0, "block %llu: %s", (unsigned long long)b,
		    strerror(errno));
	}
	return NULL;
}

/* Two connections writing the two halves of the same blocks, each the
 * block's first write: both must copy the block up from the base, and
 * neither may lose the other's half. */
START_TEST(first_writes_race)
{
	struct ovl_registry r;
	struct export ex;
	pthread_barrier_t go;
	pthread_t t[2];
	struct half h[2];
	uint8_t got[B], want[B];

	make_base("pi", 256 * B, 8);
	registry(&r, 0, 0);
	open_base("pi", &ex);
	for (int round = 0; round < 40; round++) {
		struct overlay *o = get(&r, &ex, "10.0.0.9");

		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			h[i] = (struct half){ o, &go, i, round % 4 == 3 && i };
			ck_assert_int_eq(pthread_create(&t[i], NULL,
			    write_halves, &h[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		memset(want, 0xaa, B / 2);
		memset(want + B / 2, round % 4 == 3 ? 0 : 0xbb, B / 2);
		for (uint64_t b = 0; b < 256; b++) {
			EXPECT(ovl_read(o, got, B, b * B) == 0 &&
			    memcmp(got, want, B) == 0, "round %d block %llu: "
			    "a half was lost", round, (unsigned long long)b);
		}
		ovl_put(&r, o);		/* discarded: the next is fresh */
	}
	EXPECT_NONE();
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* Block status of the merged view, exactly. */
START_TEST(block_status)
{
	const uint64_t K = 1024, size = 256 * K;
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	struct blk_extent e[16];
	uint8_t data[4096];
	int n;

	/* Base: data [0, 64K), a hole [64K, 128K), data [128K, 256K). */
	make_base("pi", size, 3);
	registry(&r, 0, 0);
	open_base("pi", &ex);
	o = get(&r, &ex, "10.0.0.5");
	memset(data, 0xab, sizeof(data));
	ck_assert_int_eq(ovl_write(o, data, 4096, 64 * K, 0), 0);
	ck_assert_int_eq(ovl_trim(o, 128 * K, 8 * K, 0), 0);
	/* A partial edge of a TRIM is left as it is. */
	ck_assert_int_eq(ovl_trim(o, 160 * K + 100, 4096, 0), 0);
	n = ovl_extents(o, 0, (uint32_t)size, e, 16);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(e[0].len, 68 * K);		/* base, overlay */
	ck_assert_uint_eq(e[0].flags, 0);
	ck_assert_uint_eq(e[1].len, 68 * K);		/* base, trimmed */
	ck_assert_uint_eq(e[1].flags, HOLE);
	ck_assert_uint_eq(e[2].len, 120 * K);		/* with the edge */
	ck_assert_uint_eq(e[2].flags, 0);
	/* REQ_ONE, and a range starting inside. */
	ck_assert_int_eq(ovl_extents(o, 0, (uint32_t)size, e, 1), 1);
	ck_assert_uint_eq(e[0].len, 68 * K);
	n = ovl_extents(o, 130 * K, 10 * K, e, 16);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(e[0].len, 6 * K);
	ck_assert_uint_eq(e[0].flags, HOLE);
	ck_assert_uint_eq(e[1].flags, 0);
	/* WRITE ZEROES without NO_HOLE over base data: a hole. */
	ck_assert_int_eq(ovl_zero(o, 0, 16 * K, 0, 1, 0), 0);
	ck_assert_int_eq(ovl_extents(o, 0, 32 * K, e, 16), 2);
	ck_assert_uint_eq(e[0].len, 16 * K);
	ck_assert_uint_eq(e[0].flags, HOLE);
	ovl_put(&r, o);
	export_close(&ex);

	/* A device base has no holes to report: all of it is data. */
	open_base("pi", &ex);
	ex.blockdev = 1;
	o = get(&r, &ex, "10.0.0.6");
	ck_assert_int_eq(ovl_extents(o, 0, (uint32_t)size, e, 16), 1);
	ck_assert_uint_eq(e[0].len, size);
	ck_assert_uint_eq(e[0].flags, 0);
	ck_assert_int_eq(ovl_trim(o, 64 * K, 64 * K, 0), 0);
	ck_assert_int_eq(ovl_extents(o, 0, (uint32_t)size, e, 16), 3);
	ck_assert_uint_eq(e[1].len, 64 * K);
	ck_assert_uint_eq(e[1].flags, HOLE);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

START_TEST(source_for_sendfile)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	uint8_t data[100] = { 0 };
	uint32_t run;
	int fd1, fd2;

	make_base("pi", 64 * B, 5);
	registry(&r, 0, 0);
	open_base("pi", &ex);
	o = get(&r, &ex, "10.0.0.5");
	ck_assert_int_eq(ovl_write(o, data, 100, 3 * B + 5, 0), 0);
	fd1 = ovl_source(o, 0, 10 * B, &run);
	ck_assert_int_ge(fd1, 0);
	ck_assert_uint_eq(run, 3 * B);
	fd2 = ovl_source(o, 3 * B, 10 * B, &run);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_ne(fd1, fd2);
	ck_assert_uint_eq(run, B);
	ck_assert_int_eq(ovl_source(o, 63 * B, 2 * B, &run), -1);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* The host limit: EDQUOT (ENOSPC on the wire) to that host only, for
 * all its overlays together; rewriting what it has, and zeroing into
 * holes, still work; trimming gives room back. */
START_TEST(host_limit)
{
	const uint64_t limit = 64 * 1024;
	struct ovl_registry r;
	struct export ex1, ex2;
	struct overlay *a1, *a2, *b1;
	uint8_t blk[B], back[B];
	uint64_t s1;

	make_base("one", 1 << 20, 1);
	make_base("two", 1 << 20, 2);
	s1 = checksum("one");
	registry(&r, limit, 0);
	open_base("one", &ex1);
	open_base("two", &ex2);
	a1 = get(&r, &ex1, "10.0.0.1");
	a2 = get(&r, &ex2, "10.0.0.1");
	b1 = get(&r, &ex1, "10.0.0.2");
	memset(blk, 0x11, sizeof(blk));
	for (int i = 0; i < 16; i++)
		ck_assert_msg(ovl_write(a1, blk, B, (uint64_t)i * B, 0) == 0,
		    "block %d: %s", i, strerror(errno));
	/* A new block: over the limit. The disk reads as before. */
	ck_assert_int_eq(ovl_read(a1, back, B, 20 * B), 0);
	ck_assert_int_eq(ovl_write(a1, blk, B, 20 * B, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	ck_assert_int_eq(ovl_read(a1, blk, B, 20 * B), 0);
	ck_assert_int_eq(memcmp(blk, back, B), 0);
	/* The same host's other overlay shares the limit... */
	memset(blk, 0x22, sizeof(blk));
	ck_assert_int_eq(ovl_write(a2, blk, 100, 5, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	/* ... another host does not. */
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(ovl_write(b1, blk, B, (uint64_t)i * B, 0), 0);
	/* Rewriting its own blocks, in part or whole, works at the limit. */
	ck_assert_int_eq(ovl_write(a1, blk, 10, 3 * B + 7, 0), 0);
	ck_assert_int_eq(ovl_write(a1, blk, B, 4 * B, 1), 0);
	/* So does zeroing whole blocks into holes; NO_HOLE does not. */
	ck_assert_int_eq(ovl_zero(a1, 100 * B, 8 * B, 0, 0, 0), 0);
	ck_assert_int_eq(ovl_zero(a1, 120 * B, 8 * B, 1, 0, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	/* Trimming four blocks gives four back, to either overlay. */
	ck_assert_int_eq(ovl_trim(a1, 8 * B, 4 * B, 0), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(ovl_write(a2, blk, B, (uint64_t)i * B, 0) == 0,
		    "after trim, block %d: %s", i, strerror(errno));
	ck_assert_int_eq(ovl_write(a2, blk, B, 9 * B, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	/* Discarding an overlay gives its room back. */
	ovl_put(&r, a1);
	ck_assert_int_eq(ovl_write(a2, blk, B, 9 * B, 0), 0);
	ovl_put(&r, a2);
	ovl_put(&r, b1);
	export_close(&ex1);
	export_close(&ex2);
	ovl_registry_destroy(&r);
	ck_assert_uint_eq(checksum("one"), s1);
}
END_TEST

/* The total limit (-Q): what all hosts' overlays hold together, so that
 * hosts cycling through addresses cannot make nbdd write more than it.
 * Each new host's writes stop at it (EDQUOT, ENOSPC on the wire);
 * rewriting, TRIM and discarding give room back. */
START_TEST(total_limit)
{
	const uint64_t total = 64 * 1024;
	struct ovl_registry r;
	struct export ex;
	struct overlay *o[8];
	uint8_t blk[B];
	char host[32];
	uint64_t written = 0;
	int refused = 0;

	make_base("pi", 1 << 20, 12);
	registry(&r, 0, 60000);
	r.total_max = total;
	open_base("pi", &ex);
	memset(blk, 0x99, sizeof(blk));
	/* Eight "hosts", four blocks each: only 16 blocks fit. */
	for (int h = 0; h < 8; h++) {
		snprintf(host, sizeof(host), "10.9.0.%d", h + 1);
		o[h] = get(&r, &ex, host);
		for (int i = 0; i < 4; i++) {
			if (ovl_write(o[h], blk, B, (uint64_t)i * B, 0) == 0) {
				written += B;
				continue;
			}
			ck_assert_int_eq(errno, EDQUOT);
			refused++;
		}
	}
	ck_assert_uint_le(written, total);
	ck_assert_uint_ge(written, total - 4 * B);
	ck_assert_int_gt(refused, 0);
	ck_assert_uint_le(__atomic_load_n(&r.total_used, __ATOMIC_RELAXED),
	    total);
	/* A block already written is rewritten at the limit. */
	ck_assert_int_eq(ovl_write(o[0], blk, 100, 7, 0), 0);
	/* Zeroes that need not allocate still go. */
	ck_assert_int_eq(ovl_zero(o[7], 64 * B, 16 * B, 0, 0, 0), 0);
	ck_assert_int_eq(ovl_zero(o[7], 96 * B, 16 * B, 1, 0, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	/* Host 0 trims: room for host 7. */
	ck_assert_int_eq(ovl_trim(o[0], 0, 4 * B, 0), 0);
	ck_assert_int_eq(ovl_write(o[7], blk, B, 0, 0), 0);
	/* Host 1, gone with DISC: its room too. */
	ovl_put_done(&r, o[1]);
	ck_assert_int_eq(ovl_write(o[7], blk, B, B, 0), 0);
	for (int h = 0; h < 8; h++)
		if (h != 1)
			ovl_put(&r, o[h]);
	advance(60000);
	ck_assert_int_eq(ovl_expire(&r), -1);
	ck_assert_uint_eq(__atomic_load_n(&r.total_used, __ATOMIC_RELAXED),
	    0);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* Root only: a mount namespace of the test's own, with a small tmpfs. */
static int
private_mounts(void)
{
	if (getuid() != 0) {
		printf("# skipped: a mount namespace needs root\n");
		return 0;
	}
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL),
	    0);
	return 1;
}

static uint64_t
free_bytes(const char *dir)
{
	struct statvfs sv;

	ck_assert_int_eq(statvfs(dir, &sv), 0);
	return (uint64_t)sv.f_bfree * sv.f_frsize;
}

START_TEST(full_file_system)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *a, *b;
	uint8_t *chunk = malloc(64 * 1024), *got = malloc(64 * 1024);
	uint64_t sum, size = 4 << 20, fresh, off;
	char why[512];
	int i;

	if (!private_mounts())
		return;
	snprintf(ovldir, sizeof(ovldir), "%s/small", root);
	ck_assert_int_eq(mkdir(ovldir, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", ovldir, "tmpfs", 0, "size=512k"), 0);
	make_base("pi", size, 11);
	sum = checksum("pi");
	fresh = free_bytes(ovldir);
	registry(&r, 0, 0);
	open_base("pi", &ex);
	a = get(&r, &ex, "10.0.0.1");
	b = get(&r, &ex, "10.0.0.2");
	memset(chunk, 0x5a, 64 * 1024);
	for (i = 0, off = 0; off < size; i++, off += 64 * 1024)
		if (ovl_write(a, chunk, 64 * 1024, off, 0) == -1)
			break;
	ck_assert_msg(off < size, "4 MiB went into 512 KiB");
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_gt(i, 2);
	/* What was written reads back; past it, the base. */
	for (uint64_t p = 0; p < off; p += 64 * 1024) {
		ck_assert_int_eq(ovl_read(a, got, 64 * 1024, p), 0);
		ck_assert_int_eq(memcmp(got, chunk, 64 * 1024), 0);
	}
	ck_assert_int_eq(ovl_read(a, got, 64 * 1024, size - 64 * 1024), 0);
	/* The other host: no room either, but no harm. */
	ck_assert_int_eq(ovl_write(b, chunk, 64 * 1024, 0, 0), -1);
	ck_assert_int_eq(errno, ENOSPC);
	/* A TRIM makes room for it. */
	ck_assert_int_eq(ovl_trim(a, 0, 128 * 1024, 0), 0);
	ck_assert_int_eq(ovl_write(b, chunk, 64 * 1024, 0, 0), 0);
	/* Discarded, a's space is the file system's again. */
	ovl_put(&r, a);
	ovl_put(&r, b);
	ck_assert_uint_ge(free_bytes(ovldir) + 8192, fresh);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_uint_eq(checksum("pi"), sum);
	ck_assert_int_eq(umount(ovldir), 0);

	/* A read-only file system: refused at start, named. */
	snprintf(ovldir, sizeof(ovldir), "%s/ro", root);
	ck_assert_int_eq(mkdir(ovldir, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", ovldir, "tmpfs", MS_RDONLY,
	    "size=64k"), 0);
	ck_assert_int_eq(ovl_registry_init(&r, ovldir,
	    &(struct ovl_limits){ 0 }, NULL, why, sizeof(why)), -1);
	ck_assert_int_eq(errno, EROFS);
	ck_assert_ptr_nonnull(strstr(why, ovldir));
	ck_assert_int_eq(umount(ovldir), 0);
	free(chunk);
	free(got);
}
END_TEST

/* A host's writes survive its last connection for the grace period,
 * and are gone after it. */
START_TEST(grace_period)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o, *o2;
	uint8_t w[16], base[16], got[16];

	make_base("pi", 1 << 20, 4);
	registry(&r, 0, 60000);
	open_base("pi", &ex);
	o = get(&r, &ex, "10.0.0.5");
	ck_assert_int_eq(ovl_read(o, base, 16, 4096), 0);
	memset(w, 0x77, sizeof(w));
	ck_assert_int_eq(ovl_write(o, w, 16, 4096, 0), 0);
	/* A second connection shares it; the first closing changes
	 * nothing. */
	ck_assert_ptr_eq(get(&r, &ex, "10.0.0.5"), o);
	ovl_put(&r, o);
	ck_assert_int_eq(ovl_expire(&r), -1);
	ck_assert_ptr_eq(ovl_find(&r, "pi", "10.0.0.5", NULL), o);
	ovl_put(&r, o);
	ovl_put(&r, o);
	/* Within the grace period: the same overlay, the same bytes. */
	ck_assert_int_eq(ovl_expire(&r), 60000);
	advance(59999);
	ck_assert_int_eq(ovl_expire(&r), 1);
	o2 = get(&r, &ex, "10.0.0.5");
	ck_assert_ptr_eq(o2, o);
	ck_assert_int_eq(ovl_read(o2, got, 16, 4096), 0);
	ck_assert_int_eq(memcmp(got, w, 16), 0);
	ovl_put(&r, o2);
	/* After it: discarded; the next connection starts fresh. */
	advance(60000);
	ck_assert_int_eq(ovl_expire(&r), -1);
	ck_assert_ptr_null(ovl_find(&r, "pi", "10.0.0.5", NULL));
	o2 = get(&r, &ex, "10.0.0.5");
	ck_assert_int_eq(ovl_read(o2, got, 16, 4096), 0);
	ck_assert_int_eq(memcmp(got, base, 16), 0);
	ck_assert_uint_eq(ovl_blocks(o2), 0);
	/* ovl_get and ovl_put discard lazily too. */
	ovl_put(&r, o2);
	advance(60001);
	o = get(&r, &ex, "10.0.0.6");
	ck_assert_ptr_null(ovl_find(&r, "pi", "10.0.0.5", NULL));
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* A clean NBD_CMD_DISC: the client is done, so its last connection
 * takes the overlay with it, grace period or not; while another of its
 * connections is open, nothing goes. Which overlays are over an image is
 * counted (a base in use must not be claimed for writing). */
START_TEST(clean_disconnect)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *o, *other;
	uint8_t w[16], base[16], got[16];

	make_base("pi", 1 << 20, 5);
	registry(&r, 0, 60000);
	open_base("pi", &ex);
	ck_assert_int_eq(ovl_base_users(&r, ex.dev, ex.ino), 0);
	o = get(&r, &ex, "10.0.0.5");
	other = get(&r, &ex, "10.0.0.6");
	ck_assert_int_eq(ovl_base_users(&r, ex.dev, ex.ino), 2);
	ck_assert_int_eq(ovl_read(o, base, 16, 0), 0);
	memset(w, 0x55, sizeof(w));
	ck_assert_int_eq(ovl_write(o, w, 16, 0, 0), 0);
	ck_assert_ptr_eq(get(&r, &ex, "10.0.0.5"), o);
	/* One connection says goodbye, the other is still there. */
	ovl_put_done(&r, o);
	ck_assert_ptr_eq(ovl_find(&r, "pi", "10.0.0.5", NULL), o);
	ovl_put(&r, o);
	ck_assert_int_eq(ovl_read(o, got, 16, 0), 0);
	ck_assert_int_eq(memcmp(got, w, 16), 0);
	/* The last one does: gone at once, the next connection is fresh. */
	ovl_put_done(&r, o);
	ck_assert_ptr_null(ovl_find(&r, "pi", "10.0.0.5", NULL));
	ck_assert_int_eq(ovl_expire(&r), -1);
	ck_assert_int_eq(ovl_base_users(&r, ex.dev, ex.ino), 1);
	o = get(&r, &ex, "10.0.0.5");
	ck_assert_int_eq(ovl_read(o, got, 16, 0), 0);
	ck_assert_int_eq(memcmp(got, base, 16), 0);
	/* Without DISC the grace period holds, and an overlay in it still
	 * counts as a user of its base. */
	ovl_put(&r, o);
	ovl_put(&r, other);
	ck_assert_int_eq(ovl_base_users(&r, ex.dev, ex.ino), 2);
	advance(60000);
	ck_assert_int_eq(ovl_base_users(&r, ex.dev, ex.ino), 0);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* At max_overlays a new host is refused (ENOSPC), and nothing is
 * discarded for it: an overlay in its grace period stays, with its
 * bytes, until that period ends, and its host coming back needs no room.
 * Room comes back when a grace period ends. */
START_TEST(overlay_cap)
{
	struct ovl_registry r;
	struct export ex;
	struct overlay *a, *b, *c, *d;
	uint8_t w[16], got[16];
	char why[256];

	make_base("pi", 1 << 20, 6);
	registry(&r, 0, 60000);
	r.max_overlays = 3;
	open_base("pi", &ex);
	a = get(&r, &ex, "10.0.0.1");
	b = get(&r, &ex, "10.0.0.2");
	c = get(&r, &ex, "10.0.0.3");
	memset(w, 0x42, sizeof(w));
	ck_assert_int_eq(ovl_write(b, w, 16, 4096, 0), 0);
	ovl_put(&r, b);
	advance(10);
	ovl_put(&r, a);
	/* Two in their grace period, one in use: no room, nothing goes. */
	ck_assert_ptr_null(ovl_get(&r, &ex, "10.0.0.4", NULL, why,
	    sizeof(why)));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_msg(strstr(why, "3 made already") != NULL &&
	    strstr(why, "2 of them kept for hosts that may come back") !=
	    NULL, "%s", why);
	ck_assert_int_eq(r.count, 3);
	/* A host back within its grace period finds its bytes. */
	b = get(&r, &ex, "10.0.0.2");
	ck_assert_int_eq(ovl_read(b, got, 16, 4096), 0);
	ck_assert_int_eq(memcmp(got, w, 16), 0);
	ck_assert_ptr_eq(get(&r, &ex, "10.0.0.3"), c);
	ovl_put(&r, c);
	/* Over TLS an identity is an owner of its own: as new as a host. */
	ck_assert_ptr_null(ovl_get(&r, &ex, "10.0.0.2", "abcd1234", why,
	    sizeof(why)));
	ck_assert_int_eq(errno, ENOSPC);
	/* a's grace period ends: its room is the newcomer's. */
	advance(60000);
	d = get(&r, &ex, "10.0.0.4");
	ck_assert_int_eq(r.count, 3);
	ck_assert_ptr_null(ovl_find(&r, "pi", "10.0.0.1", NULL));
	ovl_put(&r, b);
	ovl_put(&r, c);
	ovl_put(&r, d);
	export_close(&ex);
	ovl_registry_destroy(&r);
	ck_assert_int_eq(r.count, 0);
}
END_TEST

/* Over TLS an overlay belongs to (address, identity): two identities
 * from one address each get their own, a DISC from one leaves the
 * other's, the per-host limit is each one's, and a new identity taking
 * over an address within another's grace period starts from the base.
 * Without an identity, by address as before. */
START_TEST(owner_is_address_and_identity)
{
	const uint64_t limit = 64 * 1024;
	struct ovl_registry r;
	struct export ex;
	struct overlay *a, *b, *plain, *n;
	uint8_t wa[B], wb[B], base[B], got[B];

	make_base("lab", 1 << 20, 7);
	registry(&r, limit, 60000);
	open_base("lab", &ex);
	a = get(&r, &ex, "10.0.0.9");
	ovl_put(&r, a);
	ck_assert_ptr_null(ovl_find(&r, "lab", "10.0.0.9", "pi-a"));
	a = ovl_get(&r, &ex, "10.0.0.9", "pi-a", NULL, 0);
	ck_assert_ptr_nonnull(a);
	b = ovl_get(&r, &ex, "10.0.0.9", "pi-b", NULL, 0);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	plain = ovl_find(&r, "lab", "10.0.0.9", "");
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_ne(plain, a);
	ovl_put(&r, plain);
	ck_assert_int_eq(ovl_read(a, base, B, 0), 0);
	memset(wa, 0xaa, B);
	memset(wb, 0xbb, B);
	ck_assert_int_eq(ovl_write(a, wa, B, 0, 0), 0);
	ck_assert_int_eq(ovl_read(b, got, B, 0), 0);
	ck_assert_int_eq(memcmp(got, base, B), 0);
	ck_assert_int_eq(ovl_write(b, wb, B, 0, 0), 0);
	/* Each its own -q: a at its limit, b still writes. */
	for (int i = 1; i < 16; i++)
		ck_assert_int_eq(ovl_write(a, wa, B, (uint64_t)i * B, 0), 0);
	ck_assert_int_eq(ovl_write(a, wa, B, 20 * B, 0), -1);
	ck_assert_int_eq(errno, EDQUOT);
	ck_assert_int_eq(ovl_write(b, wb, B, 20 * B, 0), 0);
	/* b says it is done; a's overlay stays, with a's bytes. */
	ovl_put_done(&r, b);
	ck_assert_ptr_null(ovl_find(&r, "lab", "10.0.0.9", "pi-b"));
	ck_assert_ptr_eq(ovl_find(&r, "lab", "10.0.0.9", "pi-a"), a);
	ovl_put(&r, a);
	ck_assert_int_eq(ovl_read(a, got, B, 0), 0);
	ck_assert_int_eq(memcmp(got, wa, B), 0);
	/* a's connection dies (no DISC); a new Pi takes the address
	 * within a's grace period: the base, not a's disk. */
	ovl_put(&r, a);
	advance(1000);
	n = ovl_get(&r, &ex, "10.0.0.9", "pi-c", NULL, 0);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_ne(n, a);
	ck_assert_int_eq(ovl_read(n, got, B, 0), 0);
	ck_assert_int_eq(memcmp(got, base, B), 0);
	ovl_put(&r, n);
	/* a, back within its grace period, finds its disk. */
	ck_assert_ptr_eq(ovl_get(&r, &ex, "10.0.0.9", "pi-a", NULL, 0), a);
	ck_assert_int_eq(ovl_read(a, got, B, 0), 0);
	ck_assert_int_eq(memcmp(got, wa, B), 0);
	ovl_put(&r, a);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

/* mv new.img lab.img while hosts use lab: they keep the base they
 * started with, a host back within its grace period too; new ones get
 * the new base. */
START_TEST(base_renamed_over)
{
	struct ovl_registry r;
	struct export old, new;
	struct overlay *a, *b;
	uint8_t *old_bytes, *new_bytes, *now, got[4096];
	uint64_t n;

	make_base("lab", 1 << 20, 100);
	make_base("next", (1 << 20) + 8192, 200);
	old_bytes = slurp("lab", &n);
	new_bytes = slurp("next", &n);
	registry(&r, 0, 60000);
	open_base("lab", &old);
	a = get(&r, &old, "10.0.0.1");
	ck_assert_int_eq(renameat(rootfd, "next.img", rootfd, "lab.img"), 0);
	open_base("lab", &new);
	ck_assert_uint_ne(new.ino, old.ino);
	/* A second connection of host 1 now opens the new file, and gets
	 * the overlay over the old one. */
	ck_assert_ptr_eq(get(&r, &new, "10.0.0.1"), a);
	ck_assert_uint_eq(ovl_size(a), 1 << 20);
	ck_assert_int_eq(ovl_read(a, got, 4096, 0), 0);
	ck_assert_int_eq(memcmp(got, old_bytes, 4096), 0);
	/* Host 2 is new: the new base. */
	b = get(&r, &new, "10.0.0.2");
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(ovl_size(b), (1 << 20) + 8192);
	ck_assert_int_eq(ovl_read(b, got, 4096, 0), 0);
	ck_assert_int_eq(memcmp(got, new_bytes, 4096), 0);
	/* Host 1 gone and back within the grace period: still the old. */
	ovl_put(&r, a);
	ovl_put(&r, a);
	advance(30000);
	ck_assert_ptr_eq(get(&r, &new, "10.0.0.1"), a);
	ck_assert_int_eq(ovl_read(a, got, 4096, 4096), 0);
	ck_assert_int_eq(memcmp(got, old_bytes + 4096, 4096), 0);
	/* ... and after it: the new one. */
	ovl_put(&r, a);
	advance(60000);
	ck_assert_int_eq(ovl_expire(&r), -1);
	a = get(&r, &new, "10.0.0.1");
	ck_assert_uint_eq(ovl_size(a), (1 << 20) + 8192);
	ck_assert_int_eq(ovl_read(a, got, 4096, 4096), 0);
	ck_assert_int_eq(memcmp(got, new_bytes + 4096, 4096), 0);
	ovl_put(&r, a);
	ovl_put(&r, b);
	/* The old base, renamed away, was never written either. */
	now = malloc(1 << 20);
	ck_assert_int_eq(pread(old.fd, now, 1 << 20, 0), 1 << 20);
	ck_assert_int_eq(memcmp(now, old_bytes, 1 << 20), 0);
	free(now);
	export_close(&old);
	export_close(&new);
	ovl_registry_destroy(&r);
	free(old_bytes);
	free(new_bytes);
}
END_TEST

struct churn {
	struct ovl_registry *r;
	const struct export *ex;
	int id;
};

static void *
churn(void *arg)
{
	struct churn *c = arg;
	char host[32], why[256];
	uint8_t byte = (uint8_t)c->id;

	snprintf(host, sizeof(host), "10.0.0.%d", c->id % 3);
	for (int i = 0; i < 300; i++) {
		struct overlay *o = ovl_get(c->r, c->ex, host, NULL, why,
		    sizeof(why));
		EXPECT(o != NULL, "ovl_get: %s", why);
		if (o == NULL)
			break;
		EXPECT(ovl_write(o, &byte, 1, (uint64_t)c->id * 4096, 0) == 0,
		    "write");
		if (i % 7 == 0)
			advance(1000);
		ovl_put(c->r, o);
	}
	return NULL;
}

/* Many connections of a few hosts coming and going at once, with
 * overlays discarded under them as the clock moves. */
START_TEST(registry_threads)
{
	enum { THREADS = 8 };
	struct ovl_registry r;
	struct export ex;
	struct churn c[THREADS];
	pthread_t t[THREADS];

	make_base("pi", 1 << 20, 6);
	open_base("pi", &ex);
	/* Thousands of overlays come and go: their log lines are not
	 * what this test looks at. */
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	ck_assert_int_eq(dup2(null, 2), 2);
	close(null);
	for (int grace = 0; grace <= 5000; grace += 5000) {
		registry(&r, 1 << 20, grace);
		for (int i = 0; i < THREADS; i++) {
			c[i] = (struct churn){ &r, &ex, i };
			ck_assert_int_eq(pthread_create(&t[i], NULL, churn,
			    &c[i]), 0);
		}
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		EXPECT_NONE();
		advance(grace);
		ck_assert_int_eq(ovl_expire(&r), -1);
		ck_assert_ptr_null(r.list);
		ck_assert_ptr_null(r.hosts);
		ovl_registry_destroy(&r);
	}
	dup2(saved, 2);
	close(saved);
	export_close(&ex);
	ck_assert_int_eq(entries(ovldir), 0);
}
END_TEST

static long
rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &pages, &rss), 2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* An overlay over a 32 GiB base: 1 MiB of map, allocated at once but
 * resident only as the host writes across the disk. */
START_TEST(memory_32g)
{
	const uint64_t size = 32ULL << 30;
	struct ovl_registry r;
	struct export ex;
	struct overlay *o;
	uint8_t blk[B];
	long before, made, touched;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/big.img", root);
	fd = open(path, O_CREAT | O_WRONLY, 0444);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	registry(&r, 0, 0);
	open_base("big", &ex);
	before = rss_kib();
	o = get(&r, &ex, "10.0.0.5");
	made = rss_kib();
	ck_assert_uint_le(ovl_memory(o), (1 << 20) + 1024);
	ck_assert_uint_ge(ovl_memory(o), 1 << 20);
	/* One block in every 128 MiB: every page of the map is touched. */
	memset(blk, 1, sizeof(blk));
	for (uint64_t off = 0; off < size; off += 128ULL << 20)
		ck_assert_int_eq(ovl_write(o, blk, B, off, 0), 0);
	touched = rss_kib();
	printf("# overlay over a 32 GiB base: %zu bytes allocated; resident "
	    "+%ld KiB when made, +%ld KiB once written across the disk\n",
	    ovl_memory(o), made - before, touched - before);
	ck_assert_int_le(touched - before, 3 * 1024);
	ovl_put(&r, o);
	export_close(&ex);
	ovl_registry_destroy(&r);
}
END_TEST

static Suite *
overlay_suite(void)
{
	Suite *s = suite_create("nbdd_overlay");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tmpfile_both_ways);
	tcase_add_test(tc, bad_directory);
	tcase_add_test(tc, model_one_thread);
	tcase_add_test(tc, model_threads);
	tcase_add_test(tc, first_writes_race);
	tcase_add_test(tc, block_status);
	tcase_add_test(tc, source_for_sendfile);
	tcase_add_test(tc, host_limit);
	tcase_add_test(tc, total_limit);
	tcase_add_test(tc, full_file_system);
	tcase_add_test(tc, grace_period);
	tcase_add_test(tc, clean_disconnect);
	tcase_add_test(tc, overlay_cap);
	tcase_add_test(tc, owner_is_address_and_identity);
	tcase_add_test(tc, base_renamed_over);
	tcase_add_test(tc, registry_threads);
	tcase_add_test(tc, memory_32g);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(overlay_suite)
