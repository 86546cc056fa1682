/* The commands on one overlay: reads and writes merged with the base,
 * edge blocks copied up from the base the first time they are written,
 * space counted against the host's limit. Which bytes come from where is
 * nbdd/blockmap.c's arithmetic; this file only moves them. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/fdextents.h"
#include "nbdd/ovlpolicy.h"
#include "nbdd/ovlpriv.h"
#include "nbdd/rbdexport.h"

#define ZERO_CHUNK	(1024 * 1024)
#define EXTENTS_MAX	256	/* per list asked of a file */

/* A range the overlay file may have to allocate for a mutation. */
struct span {
	uint64_t off, len;
};

int
ovl_tmpfile(int dirfd, int try_tmpfile)
{
	char name[64];
	int fd;

	if (try_tmpfile) {
		fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		/* EISDIR: a kernel older than O_TMPFILE. */
		if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR))
			return fd;
	}
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), ".nbdd-overlay-%08x%08x",
		    arc4random(), arc4random());
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST)
			continue;
		if (fd == -1)
			return -1;
		if (unlinkat(dirfd, name, 0) == -1) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	errno = EEXIST;
	return -1;
}

/* A read-only descriptor of the base's own: whatever the export was
 * opened with, the overlay cannot write through it. */
static int
reopen_read_only(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (ro == -1 && errno == ENOENT)
		errno = ENOSYS;		/* no /proc here */
	return ro;
}

struct overlay *
ovl_new(int dirfd, const struct export *ex, struct ovl_host *h)
{
	struct overlay *o;
	size_t words = bm_words(ex->size);
	uint64_t *bits;
	int e;

	if (ex->size > BM_SIZE_MAX) {
		errno = EFBIG;
		return NULL;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->fd = o->base_fd = -1;
	if ((bits = calloc(words > 0 ? words : 1, sizeof(*bits))) == NULL)
		goto fail;
	bm_init(&o->map, ex->size, bits);
	if ((o->fd = ovl_tmpfile(dirfd, 1)) == -1 ||
	    ftruncate(o->fd, (off_t)ex->size) == -1)
		goto fail;
	if (ex->rbd != NULL ? rbdx_base_open(ex->rbd, &o->base_rbd) == -1 :
	    (o->base_fd = reopen_read_only(ex->fd)) == -1)
		goto fail;
	if ((e = pthread_mutex_init(&o->lock, NULL)) != 0) {
		errno = e;
		goto fail;
	}
	if ((e = pthread_cond_init(&o->idle, NULL)) != 0) {
		pthread_mutex_destroy(&o->lock);
		errno = e;
		goto fail;
	}
	o->host = h;
	strlcpy(o->name, ex->name, sizeof(o->name));
	o->base_all_data = ex->blockdev;
	o->base_dev = ex->dev;
	o->base_ino = ex->ino;
	return o;
fail:
	e = errno;
	if (o->fd != -1)
		close(o->fd);
	if (o->base_fd != -1)
		close(o->base_fd);
	rbdx_base_close(o->base_rbd);
	free(o->map.bits);
	free(o);
	errno = e;
	return NULL;
}

void
ovl_free(struct overlay *o)
{
	pthread_cond_destroy(&o->idle);
	pthread_mutex_destroy(&o->lock);
	close(o->fd);
	if (o->base_fd != -1)
		close(o->base_fd);
	rbdx_base_close(o->base_rbd);
	free(o->map.bits);
	free(o);
}

uint64_t
ovl_size(const struct overlay *o)
{
	return o->map.size;
}

size_t
ovl_memory(const struct overlay *o)
{
	return sizeof(*o) + bm_words(o->map.size) * sizeof(uint64_t);
}

uint64_t
ovl_blocks(const struct overlay *o)
{
	return bm_count(&o->map);
}

/* --- space ------------------------------------------------------------ */

void
ovl_account(struct overlay *o)
{
	struct stat st;
	uint64_t now;

	if (fstat(o->fd, &st) == -1)
		return;		/* keep the last count */
	now = (uint64_t)st.st_blocks * 512;
	o->host->allocated = o->host->allocated - o->allocated + now;
	/* Wraps when it shrinks, and the sum comes out right. */
	__atomic_add_fetch(&o->host->reg->total_used, now - o->allocated,
	    __ATOMIC_RELAXED);
	o->allocated = now;
}

/* Whether need more bytes fit, for the host and for all overlays; when
 * they do, they are promised at once (the total is shared with other
 * hosts, which reserve without this host's lock). Under host->lock. */
static enum ovl_room
try_reserve(struct overlay *o, uint64_t need)
{
	struct ovl_host *h = o->host;
	struct ovl_registry *r = h->reg;
	uint64_t total = __atomic_load_n(&r->total_used, __ATOMIC_RELAXED);
	enum ovl_room room;

	do {
		room = ovl_room(h->allocated + h->reserved, h->max, total,
		    r->total_max, need);
		if (room != OVL_ROOM_OK)
			return room;
	} while (!__atomic_compare_exchange_n(&r->total_used, &total,
	    total + need, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	h->reserved += need;
	return OVL_ROOM_OK;
}

/* Bytes of [off, off + len) that writing may newly allocate: every block
 * the host never wrote (a hole in the overlay file, whatever the file
 * system says of holes: one without SEEK_HOLE calls all of it data), and
 * the holes the file reports among the others (trimmed, zeroed). */
static int
may_allocate(struct overlay *o, uint64_t off, uint64_t len, uint64_t *need)
{
	uint64_t pos = off, end = off + len, stop, holes;
	int present;

	while (pos < end) {
		stop = bm_run(&o->map, pos, end, &present);
		if (!present)
			*need += stop - pos;
		else if (fd_hole_bytes(o->fd, pos, stop - pos, &holes) == -1)
			return -1;
		else
			*need += holes;
		pos = stop;
	}
	return 0;
}

static void
log_full(struct overlay *o, enum ovl_room room)
{
	struct ovl_registry *r = o->host->reg;
	uint32_t held;
	int ok;

	pthread_mutex_lock(&r->log_lock);
	ok = ratelimit_take(&r->full_log, (uint64_t)r->now_ms(), &held);
	pthread_mutex_unlock(&r->log_lock);
	if (!ok)
		return;
	if (room == OVL_ROOM_HOST_FULL)
		log_warn("%s: export %s: the host's overlays are at its limit "
		    "of %llu KiB (nbdd -q): writes that need more space get "
		    "ENOSPC%s", o->who, o->name,
		    (unsigned long long)(o->host->max >> 10),
		    held > 0 ? " (and lines like it held back)" : "");
	else
		log_warn("%s: export %s: the overlays of all hosts together "
		    "are at their limit of %llu KiB (nbdd -Q): writes that "
		    "need more space get ENOSPC%s", o->who, o->name,
		    (unsigned long long)(r->total_max >> 10),
		    held > 0 ? " (and lines like it held back)" : "");
}

/* Promises room for what the spans may allocate: first at their full
 * size, and near a limit exactly. Adds what to hand back to unreserve()
 * to *got. 0, or -1 with errno (EDQUOT at a limit). */
static int
reserve(struct overlay *o, const struct span *sp, int n, uint64_t *got)
{
	struct ovl_host *h = o->host;
	enum ovl_room room;
	uint64_t need = 0;
	int e, say = 0;

	if (!ovl_counted(h->reg))
		return 0;
	for (int i = 0; i < n; i++)
		need += sp[i].len;
	pthread_mutex_lock(&h->lock);
	/* The counts are as of the last mutation's end (unreserve, or a
	 * TRIM's); writes in flight since are in reserved. Near a limit,
	 * look at the file itself before counting what may allocate. */
	if ((room = try_reserve(o, need)) != OVL_ROOM_OK) {
		ovl_account(o);
		room = try_reserve(o, need);
	}
	if (room != OVL_ROOM_OK) {
		need = 0;
		for (int i = 0; i < n; i++)
			if (may_allocate(o, sp[i].off, sp[i].len, &need) ==
			    -1) {
				e = errno;
				pthread_mutex_unlock(&h->lock);
				errno = e;
				return -1;
			}
		room = try_reserve(o, need);
	}
	if (room != OVL_ROOM_OK) {
		say = !(o->limit_logged & (1 << room));
		o->limit_logged |= 1 << room;
		pthread_mutex_unlock(&h->lock);
		if (say)
			log_full(o, room);
		errno = EDQUOT;
		return -1;
	}
	*got += need;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Hands back a reservation and counts what the mutation did. */
static void
unreserve(struct overlay *o, uint64_t got)
{
	struct ovl_host *h = o->host;

	if (!ovl_counted(h->reg))
		return;
	pthread_mutex_lock(&h->lock);
	h->reserved -= got;
	__atomic_sub_fetch(&h->reg->total_used, got, __ATOMIC_RELAXED);
	ovl_account(o);
	pthread_mutex_unlock(&h->lock);
}

/* --- mutations wait for mutations of the same blocks ------------------ */

static int
busy_overlaps(const struct overlay *o, const struct ovl_busy *b)
{
	for (const struct ovl_busy *p = o->busy; p != NULL; p = p->next)
		if (p->first < b->end && b->first < p->end)
			return 1;
	return 0;
}

static void
busy_begin(struct overlay *o, struct ovl_busy *b, uint64_t off,
    uint64_t len)
{
	b->first = off >> BM_BLOCK_SHIFT;
	b->end = ((off + len - 1) >> BM_BLOCK_SHIFT) + 1;
	pthread_mutex_lock(&o->lock);
	while (busy_overlaps(o, b))
		pthread_cond_wait(&o->idle, &o->lock);
	b->next = o->busy;
	o->busy = b;
	pthread_mutex_unlock(&o->lock);
}

static void
busy_end(struct overlay *o, struct ovl_busy *b)
{
	struct ovl_busy **pp;

	pthread_mutex_lock(&o->lock);
	for (pp = &o->busy; *pp != b; pp = &(*pp)->next)
		;
	*pp = b->next;
	pthread_cond_broadcast(&o->idle);
	pthread_mutex_unlock(&o->lock);
}

/* --- bytes in and out -------------------------------------------------- */

static int
pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = pread(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;	/* a file shrank under us */
			return -1;
		}
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Bytes of the base: from its file, or from Ceph. */
static int
base_read(struct overlay *o, void *buf, size_t len, uint64_t off)
{
	if (o->base_rbd != NULL)
		return rbdx_base_read(o->base_rbd, buf, len, off);
	return pread_full(o->base_fd, buf, len, off);
}

static int
pwrite_full(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, (off_t)off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
write_zeroes(int fd, uint64_t off, uint64_t len)
{
	uint8_t *z;
	int rc = 0;

	if ((z = calloc(1, ZERO_CHUNK)) == NULL)
		return -1;
	while (len > 0 && rc == 0) {
		uint64_t n = len < ZERO_CHUNK ? len : ZERO_CHUNK;
		rc = pwrite_full(fd, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return rc;
}

static int
punch(int fd, uint64_t off, uint64_t len)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len);
}

static int
unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOSYS;
}

static int
range_ok(const struct overlay *o, uint64_t off, uint64_t len)
{
	if (bm_range_ok(o->map.size, off, len))
		return 1;
	errno = EINVAL;
	return 0;
}

/* Bytes [p->off, p->off + p->len) of one partial block: written in place
 * when the block is the overlay's, else the block is copied up from the
 * base with them in it and then marked. data NULL: zeroes. */
static int
put_partial(struct overlay *o, const struct bm_piece *p, const void *data)
{
	uint8_t blk[BM_BLOCK];
	uint64_t start = bm_block_start(p->block);
	uint64_t end = bm_block_end(&o->map, p->block);

	if (bm_test(&o->map, p->block)) {
		if (data != NULL)
			return pwrite_full(o->fd, data, p->len, p->off);
		memset(blk, 0, p->len);
		return pwrite_full(o->fd, blk, p->len, p->off);
	}
	if (base_read(o, blk, end - start, start) == -1)
		return -1;
	if (data != NULL)
		memcpy(blk + (p->off - start), data, p->len);
	else
		memset(blk + (p->off - start), 0, p->len);
	if (pwrite_full(o->fd, blk, end - start, start) == -1)
		return -1;
	bm_set(&o->map, p->block, p->block + 1);
	return 0;
}

/* The bytes of whole blocks [first, end). */
static uint64_t
whole_off(const struct bm_split *s)
{
	return bm_block_start(s->first);
}

static uint64_t
whole_len(const struct overlay *o, const struct bm_split *s)
{
	if (s->first >= s->end)
		return 0;
	return bm_block_end(&o->map, s->end - 1) - bm_block_start(s->first);
}

/* The block-rounded span of [off, off + len). */
static struct span
rounded(const struct overlay *o, uint64_t off, uint64_t len)
{
	uint64_t first = off >> BM_BLOCK_SHIFT;
	uint64_t last = (off + len - 1) >> BM_BLOCK_SHIFT;

	return (struct span){ bm_block_start(first),
	    bm_block_end(&o->map, last) - bm_block_start(first) };
}

/* --- the commands ------------------------------------------------------ */

int
ovl_read(struct overlay *o, void *buf, uint32_t len, uint64_t off)
{
	uint64_t pos = off, end = off + len, stop;
	int present;

	if (!range_ok(o, off, len))
		return -1;
	while (pos < end) {
		stop = bm_run(&o->map, pos, end, &present);
		if ((present ? pread_full(o->fd, (uint8_t *)buf + (pos - off),
		    stop - pos, pos) : base_read(o, (uint8_t *)buf + (pos -
		    off), stop - pos, pos)) == -1)
			return -1;
		pos = stop;
	}
	return 0;
}

struct rbd_base *
ovl_base_rbd(const struct overlay *o)
{
	return o->base_rbd;
}

uint64_t
ovl_run(const struct overlay *o, uint64_t off, uint64_t end, int *present)
{
	return bm_run(&o->map, off, end, present);
}

int
ovl_read_own(struct overlay *o, void *buf, uint64_t len, uint64_t off)
{
	return pread_full(o->fd, buf, len, off);
}

int
ovl_source(struct overlay *o, uint64_t off, uint32_t len, uint32_t *run)
{
	int present;

	if (len == 0 || !range_ok(o, off, len))
		return -1;
	*run = (uint32_t)(bm_run(&o->map, off, off + len, &present) - off);
	if (!present && o->base_fd == -1) {
		errno = ENOTSUP;	/* in Ceph: read, not sent from a file */
		return -1;
	}
	return present ? o->fd : o->base_fd;
}

static int
write_split(struct overlay *o, const uint8_t *buf, uint64_t off,
    const struct bm_split *s)
{
	uint64_t woff = whole_off(s), wlen = whole_len(o, s);

	if (s->head.valid &&
	    put_partial(o, &s->head, buf + (s->head.off - off)) == -1)
		return -1;
	if (wlen > 0) {
		if (pwrite_full(o->fd, buf + (woff - off), wlen, woff) == -1)
			return -1;
		bm_set(&o->map, s->first, s->end);
	}
	if (s->tail.valid &&
	    put_partial(o, &s->tail, buf + (s->tail.off - off)) == -1)
		return -1;
	return 0;
}

int
ovl_write(struct overlay *o, const void *buf, uint32_t len, uint64_t off,
    int fua)
{
	struct ovl_busy b;
	struct bm_split s;
	struct span sp;
	uint64_t got;
	int rc, e;

	(void)fua;	/* nothing outlives nbdd: see overlay.h */
	if (!range_ok(o, off, len))
		return -1;
	if (len == 0)
		return 0;
	bm_split(&o->map, off, len, &s);
	sp = rounded(o, off, len);
	busy_begin(o, &b, off, len);
	got = 0;
	if ((rc = reserve(o, &sp, 1, &got)) == 0) {
		rc = write_split(o, buf, off, &s);
		e = errno;
		unreserve(o, got);
		errno = e;
	}
	busy_end(o, &b);
	return rc;
}

int
ovl_flush(struct overlay *o)
{
	(void)o;
	return 0;
}

static void
account_now(struct overlay *o)
{
	if (!ovl_counted(o->host->reg))
		return;
	pthread_mutex_lock(&o->host->lock);
	ovl_account(o);
	pthread_mutex_unlock(&o->host->lock);
}

int
ovl_trim(struct overlay *o, uint64_t off, uint32_t len, int fua)
{
	struct ovl_busy b;
	struct bm_split s;
	uint64_t wlen;
	int rc = 0;

	(void)fua;
	if (!range_ok(o, off, len))
		return -1;
	if (len == 0)
		return 0;
	bm_split(&o->map, off, len, &s);
	if ((wlen = whole_len(o, &s)) == 0)
		return 0;
	busy_begin(o, &b, whole_off(&s), wlen);
	if (punch(o->fd, whole_off(&s), wlen) == 0) {
		bm_set(&o->map, s.first, s.end);
		account_now(o);
	} else if (!unsupported(errno))
		rc = -1;
	busy_end(o, &b);
	return rc;
}

/* Whole blocks read as zeroes and stay allocated: ZERO_RANGE, or a hole
 * punched and allocated again. 0, or -1 (EOPNOTSUPP when neither works:
 * only writing would). */
static int
zero_allocated(int fd, uint64_t off, uint64_t len)
{
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len) == 0)
		return 0;
	if (!unsupported(errno))
		return -1;
	if (punch(fd, off, len) == 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len) == 0)
		return 0;
	if (!unsupported(errno))
		return -1;
	errno = EOPNOTSUPP;
	return -1;
}

/* The whole blocks of a WRITE ZEROES: a hole where one will do, and
 * otherwise zeroes that take space, for which room is reserved first
 * (added to *got). */
static int
zero_whole(struct overlay *o, uint64_t off, uint64_t len, int no_hole,
    int fast, uint64_t *got)
{
	struct span sp = { off, len };

	if (!no_hole) {
		if (punch(o->fd, off, len) == 0)
			return 0;
		if (!unsupported(errno))
			return -1;
		/* No holes on this file system: the zeroes allocate as
		 * written bytes do, and count against the limits. */
		if (reserve(o, &sp, 1, got) == -1)
			return -1;
	}
	if (zero_allocated(o->fd, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP || fast)
		return -1;
	return write_zeroes(o->fd, off, len);
}

/* What a WRITE ZEROES may allocate before it knows whether a hole will
 * do: its partial blocks, and its whole ones with NO_HOLE. Returns how
 * many spans. */
static int
zero_spans(const struct overlay *o, const struct bm_split *s, int no_hole,
    struct span sp[3])
{
	int n = 0;

	if (s->head.valid)
		sp[n++] = (struct span){ bm_block_start(s->head.block),
		    bm_block_end(&o->map, s->head.block) -
		    bm_block_start(s->head.block) };
	if (s->tail.valid)
		sp[n++] = (struct span){ bm_block_start(s->tail.block),
		    bm_block_end(&o->map, s->tail.block) -
		    bm_block_start(s->tail.block) };
	if (no_hole && whole_len(o, s) > 0)
		sp[n++] = (struct span){ whole_off(s), whole_len(o, s) };
	return n;
}

static int
zero_split(struct overlay *o, const struct bm_split *s, int no_hole,
    int fast, uint64_t *got)
{
	uint64_t wlen = whole_len(o, s);

	/* The whole blocks first: a FAST_ZERO that cannot be fast, or
	 * zeroes with no room left, change nothing. */
	if (wlen > 0) {
		if (zero_whole(o, whole_off(s), wlen, no_hole, fast, got) ==
		    -1)
			return -1;
		bm_set(&o->map, s->first, s->end);
	}
	if (s->head.valid && put_partial(o, &s->head, NULL) == -1)
		return -1;
	if (s->tail.valid && put_partial(o, &s->tail, NULL) == -1)
		return -1;
	return 0;
}

int
ovl_zero(struct overlay *o, uint64_t off, uint32_t len, int no_hole,
    int fast, int fua)
{
	struct ovl_busy b;
	struct bm_split s;
	struct span sp[3];
	uint64_t got = 0;
	int rc, e;

	(void)fua;
	if (!range_ok(o, off, len))
		return -1;
	if (len == 0)
		return 0;
	bm_split(&o->map, off, len, &s);
	busy_begin(o, &b, off, len);
	if ((rc = reserve(o, sp, zero_spans(o, &s, no_hole, sp), &got)) ==
	    0) {
		rc = zero_split(o, &s, no_hole, fast, &got);
		e = errno;
		unreserve(o, got);
		errno = e;
	}
	busy_end(o, &b);
	return rc;
}

int
ovl_cache(struct overlay *o, uint64_t off, uint32_t len)
{
	uint64_t pos = off, end = off + len, stop;
	int present;

	if (!range_ok(o, off, len))
		return -1;
	while (pos < end) {
		stop = bm_run(&o->map, pos, end, &present);
		/* Advice only: a failure here loses nothing (nor is any
		 * given to Ceph, which reads ahead by itself). */
		if (present || o->base_fd != -1)
			(void)posix_fadvise(present ? o->fd : o->base_fd,
			    (off_t)pos, (off_t)(stop - pos),
			    POSIX_FADV_WILLNEED);
		pos = stop;
	}
	return 0;
}

int
ovl_extents(struct overlay *o, uint64_t off, uint32_t len,
    struct blk_extent *out, int max)
{
	struct bm_extent ovl[EXTENTS_MAX], base[EXTENTS_MAX];
	struct bm_extent merged[EXTENTS_MAX];
	int novl = 0, nbase = 0, n, present, one;

	if (len == 0 || max < 1 || !range_ok(o, off, len)) {
		errno = EINVAL;
		return -1;
	}
	one = bm_run(&o->map, off, off + len, &present) == off + len;
	/* Ask only the files the range needs. */
	if ((!one || present) && (novl = fd_extents(o->fd, 0, off, len, ovl,
	    EXTENTS_MAX)) == -1)
		return -1;
	if ((!one || !present) && (nbase = o->base_rbd != NULL ?
	    rbdx_base_extents(o->base_rbd, off, len, base, EXTENTS_MAX) :
	    fd_extents(o->base_fd, o->base_all_data, off, len, base,
	    EXTENTS_MAX)) == -1)
		return -1;
	n = bm_merge_extents(&o->map, off, len, ovl, novl, base, nbase,
	    merged, max < EXTENTS_MAX ? max : EXTENTS_MAX);
	if (n == 0) {
		errno = EIO;	/* a file answered with nothing */
		return -1;
	}
	for (int i = 0; i < n; i++)
		out[i] = (struct blk_extent){ (uint32_t)merged[i].len,
		    merged[i].flags };
	return n;
}
