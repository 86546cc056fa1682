/* The fake librbd of the unit tests: see rbdfake.h. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nbdd/rbdclaim.h"		/* the holder's key */
#include "tests/unit/rbdfake.h"

struct rbdfake rbdfake;

/* A short read takes this off a read longer than twice it. */
#define SHORT_BY	4096u

enum { J_READ, J_WRITE, J_FLUSH, J_DISCARD, J_ZERO };

struct fcomp {
	rbd_callback_t cb;
	void *arg;
	ssize_t rc;
};

struct rbdfake_job {
	struct rbdfake_job *next;
	struct fcomp *c;
	int kind;
	uint64_t off;
	size_t len;
	char *buf;
};

static struct rbdfake_image *
image_named(const char *name)
{
	for (size_t i = 0; i < 2; i++)
		if (rbdfake.image[i].name != NULL &&
		    strcmp(rbdfake.image[i].name, name) == 0)
			return &rbdfake.image[i];
	return NULL;
}

static struct rbdfake_image *
image_of(rbd_image_t handle)
{
	ck_assert_msg(handle == &rbdfake.image[0] ||
	    handle == &rbdfake.image[1], "not a handle of the fake's");
	return handle;
}

/* --- the cluster -------------------------------------------------- */

static int
f_ioctx_create(rados_t r, const char *pool, rados_ioctx_t *io)
{
	(void)r;
	if (strcmp(pool, RBDFAKE_POOL) != 0)
		return -ENOENT;
	*io = &rbdfake;
	return 0;
}

static void
f_ioctx_destroy(rados_ioctx_t io)
{
	(void)io;
}

static void
f_shutdown(rados_t r)
{
	(void)r;
}

static int
f_conf_get(rados_t r, const char *opt, char *buf, size_t len)
{
	(void)r;
	if (strcmp(opt, "rbd_cache") != 0)
		return -ENOENT;
	strlcpy(buf, "true", len);
	return 0;
}

/* --- opening and closing ------------------------------------------ */

static int
opened(rbd_image_t *handle, struct rbdfake_image *im)
{
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.opens++;
	rbdfake.opened++;
	pthread_mutex_unlock(&rbdfake.lock);
	*handle = im;
	return 0;
}

static int
f_open_ro(rados_ioctx_t io, const char *name, rbd_image_t *handle,
    const char *snap)
{
	struct rbdfake_image *im = image_named(name);

	(void)io;
	if (im == NULL || (snap != NULL && strcmp(snap, RBDFAKE_SNAP) != 0))
		return -ENOENT;
	pthread_mutex_lock(&rbdfake.lock);
	strlcpy(rbdfake.snap, snap ? snap : "", sizeof(rbdfake.snap));
	pthread_mutex_unlock(&rbdfake.lock);
	return opened(handle, im);
}

/* For writing: the image itself, never a snapshot. */
static int
f_open(rados_ioctx_t io, const char *name, rbd_image_t *handle,
    const char *snap)
{
	struct rbdfake_image *im = image_named(name);

	(void)io;
	ck_assert_ptr_null(snap);
	if (im == NULL)
		return -ENOENT;
	return opened(handle, im);
}

static int
f_close(rbd_image_t handle)
{
	(void)image_of(handle);
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.opens--;
	pthread_mutex_unlock(&rbdfake.lock);
	return 0;
}

static int
f_size(rbd_image_t handle, uint64_t *size)
{
	(void)image_of(handle);
	*size = rbdfake.size;
	return 0;
}

static int
f_features(rbd_image_t handle, uint64_t *f)
{
	(void)image_of(handle);
	*f = RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK;
	return 0;
}

/* --- synchronous reads and the allocation ------------------------- */

static ssize_t
f_read(rbd_image_t handle, uint64_t off, size_t len, char *buf)
{
	ssize_t rc;

	(void)image_of(handle);
	pthread_mutex_lock(&rbdfake.lock);
	rbdfake.sync_reads++;
	if (rbdfake.read_rc != 0) {
		rc = rbdfake.read_rc;
	} else if (off >= rbdfake.size) {
		rc = 0;
	} else {
		if (len > rbdfake.size - off)
			len = rbdfake.size - off;
		if (len > 2 * SHORT_BY)
			len -= SHORT_BY;
		memcpy(buf, rbdfake.bytes + off, len);
		rc = (ssize_t)len;
	}
	pthread_mutex_unlock(&rbdfake.lock);
	return rc;
}

/* Whole objects that hold anything, as librbd reports them. */
static int
f_diff(rbd_image_t handle, const char *from, uint64_t off, uint64_t len,
    uint8_t parent, uint8_t whole, int (*cb)(uint64_t, size_t, int, void *),
    void *arg)
{
	uint64_t obj = rbdfake.object_size;

	(void)image_of(handle);
	(void)parent;
	(void)whole;
	ck_assert_ptr_null(from);
	for (uint64_t o = off / obj * obj; o < off + len && o < rbdfake.size;
	    o += obj) {
		uint64_t n = rbdfake.size - o < obj ? rbdfake.size - o : obj;
		int any = 0, rc;

		for (uint64_t i = 0; i < n && !any; i++)
			any = rbdfake.bytes[o + i] != 0;
		if (any && (rc = cb(o, n, 1, arg)) < 0)
			return rc;
	}
	return 0;
}

/* --- the exclusive lock and its holder ---------------------------- */

static int
f_lock(rbd_image_t handle, rbd_lock_mode_t mode)
{
	struct rbdfake_image *im = image_of(handle);
	int rc = 0;

	ck_assert_int_eq(mode, RBD_LOCK_MODE_EXCLUSIVE);
	pthread_mutex_lock(&rbdfake.lock);
	if (im->locked)
		rc = -EROFS;
	im->locked = 1;
	pthread_mutex_unlock(&rbdfake.lock);
	return rc;
}

/* As slow as the cluster may be: image[0]'s waits while the gate is
 * closed. */
static int
f_unlock(rbd_image_t handle)
{
	struct rbdfake_image *im = image_of(handle);

	pthread_mutex_lock(&rbdfake.lock);
	if (im == &rbdfake.image[0]) {
		rbdfake.unlocking = 1;
		pthread_cond_broadcast(&rbdfake.cond);
		while (rbdfake.gate_closed)
			pthread_cond_wait(&rbdfake.cond, &rbdfake.lock);
	}
	im->locked = 0;
	pthread_mutex_unlock(&rbdfake.lock);
	return 0;
}

static int
f_meta_set(rbd_image_t handle, const char *k, const char *v)
{
	(void)image_of(handle);
	ck_assert_str_eq(k, RBD_HOLDER_KEY);
	strlcpy(rbdfake.holder, v, sizeof(rbdfake.holder));
	return 0;
}

static int
f_meta_get(rbd_image_t handle, const char *k, char *v, size_t *len)
{
	(void)image_of(handle);
	if (strcmp(k, RBD_HOLDER_KEY) != 0 || rbdfake.holder[0] == '\0')
		return -ENOENT;
	if (strlen(rbdfake.holder) + 1 > *len) {
		*len = strlen(rbdfake.holder) + 1;
		return -ERANGE;
	}
	strlcpy(v, rbdfake.holder, *len);
	return 0;
}

static int
f_meta_remove(rbd_image_t handle, const char *k)
{
	(void)image_of(handle);
	ck_assert_str_eq(k, RBD_HOLDER_KEY);
	rbdfake.holder[0] = '\0';
	return 0;
}

/* The lock's one locker, as Ceph lists it: client.4100 at 127.0.0.1:0/1,
 * the instance a test that takes locks connects as. */
static ssize_t
f_lockers(rbd_image_t handle, int *excl, char *tag, size_t *tl,
    char *clients, size_t *cl_len, char *cookies, size_t *kl, char *addrs,
    size_t *al)
{
	if (!image_of(handle)->locked)
		return 0;
	*excl = 1;
	strlcpy(tag, "internal", *tl);
	*tl = sizeof("internal");
	strlcpy(clients, "client.4100", *cl_len);
	*cl_len = sizeof("client.4100");
	strlcpy(cookies, "auto 1", *kl);
	*kl = sizeof("auto 1");
	strlcpy(addrs, "127.0.0.1:0/1", *al);
	*al = sizeof("127.0.0.1:0/1");
	return 1;
}

/* --- asynchronous calls, completed by librbd's thread ------------- */

static int
f_create(void *arg, rbd_callback_t cb, rbd_completion_t *c)
{
	struct fcomp *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->cb = cb;
	f->arg = arg;
	*c = f;
	return 0;
}

static ssize_t
f_rv(rbd_completion_t c)
{
	return ((struct fcomp *)c)->rc;
}

static void
f_release(rbd_completion_t c)
{
	__atomic_add_fetch(&rbdfake.releases, 1, __ATOMIC_RELAXED);
	free(c);
}

static int
queue(int kind, uint64_t off, size_t len, char *buf, rbd_completion_t c)
{
	struct rbdfake_job *j = calloc(1, sizeof(*j));

	ck_assert_ptr_nonnull(j);
	ck_assert_msg(rbdfake.running, "an asynchronous call, and no "
	    "rbdfake_start_worker");
	*j = (struct rbdfake_job){ NULL, c, kind, off, len, buf };
	pthread_mutex_lock(&rbdfake.lock);
	j->next = rbdfake.q;
	rbdfake.q = j;
	rbdfake.nq++;
	if (++rbdfake.inflight > rbdfake.max_inflight)
		rbdfake.max_inflight = rbdfake.inflight;
	pthread_cond_broadcast(&rbdfake.cond);
	pthread_mutex_unlock(&rbdfake.lock);
	return 0;
}

static int
f_aio_read(rbd_image_t i, uint64_t off, size_t len, char *buf,
    rbd_completion_t c)
{
	(void)image_of(i);
	return queue(J_READ, off, len, buf, c);
}

static int
f_aio_write(rbd_image_t i, uint64_t off, size_t len, const char *buf,
    rbd_completion_t c)
{
	(void)image_of(i);
	return queue(J_WRITE, off, len, (char *)buf, c);
}

static int
f_aio_flush(rbd_image_t i, rbd_completion_t c)
{
	(void)image_of(i);
	return queue(J_FLUSH, 0, 0, NULL, c);
}

static int
f_aio_discard(rbd_image_t i, uint64_t off, uint64_t len, rbd_completion_t c)
{
	(void)image_of(i);
	return queue(J_DISCARD, off, len, NULL, c);
}

static int
f_aio_zero(rbd_image_t i, uint64_t off, size_t len, rbd_completion_t c,
    int zf, int of)
{
	(void)image_of(i);
	(void)zf;
	(void)of;
	return queue(J_ZERO, off, len, NULL, c);
}

/* Completes one job, under the lock. */
static void
complete(struct rbdfake_job *j)
{
	j->c->rc = 0;
	switch (j->kind) {
	case J_READ:
		/* As librbd: the bytes read, or an error. */
		if (rbdfake.read_rc != 0)
			j->c->rc = rbdfake.read_rc;
		else {
			memcpy(j->buf, rbdfake.bytes + j->off, j->len);
			j->c->rc = (ssize_t)j->len - rbdfake.read_short;
		}
		break;
	case J_WRITE:
		if (rbdfake.write_rc != 0) {
			j->c->rc = rbdfake.write_rc;
			break;
		}
		memcpy(rbdfake.bytes + j->off, j->buf, j->len);
		rbdfake.writes++;
		rbdfake.last_write_seq = ++rbdfake.seq;
		break;
	case J_FLUSH:
		rbdfake.flushes++;
		rbdfake.last_flush_seq = ++rbdfake.seq;
		break;
	default:
		if (rbdfake.write_rc != 0)
			j->c->rc = rbdfake.write_rc;
		else
			memset(rbdfake.bytes + j->off, 0, j->len);
		break;
	}
}

/* librbd's thread: completes queued calls in an order of its own. */
static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rbdfake.lock);
	for (;;) {
		struct rbdfake_job **pp, *j;
		int pick;

		while (!rbdfake.stop && (rbdfake.nq == 0 || rbdfake.held))
			pthread_cond_wait(&rbdfake.cond, &rbdfake.lock);
		if (rbdfake.stop && rbdfake.nq == 0)
			break;
		pick = (int)(rand_r(&rbdfake.seed) % (unsigned)rbdfake.nq);
		for (pp = &rbdfake.q; pick-- > 0; pp = &(*pp)->next)
			;
		j = *pp;
		*pp = j->next;
		rbdfake.nq--;
		complete(j);
		rbdfake.inflight--;
		pthread_mutex_unlock(&rbdfake.lock);
		j->c->cb(j->c, j->c->arg);
		free(j);
		pthread_mutex_lock(&rbdfake.lock);
	}
	pthread_mutex_unlock(&rbdfake.lock);
	return NULL;
}

/* --- the fixture -------------------------------------------------- */

void
rbdfake_init(const char *name, const char *name2)
{
	memset(&rbdfake, 0, sizeof(rbdfake));
	ck_assert_int_eq(pthread_mutex_init(&rbdfake.lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&rbdfake.cond, NULL), 0);
	rbdfake.object_size = 64u * 1024;
	rbdfake.image[0].name = name;
	rbdfake.image[1].name = name2;
}

void
rbdfake_start_worker(unsigned seed)
{
	rbdfake.seed = seed;
	rbdfake.running = 1;
	ck_assert_int_eq(pthread_create(&rbdfake.thread, NULL, worker, NULL),
	    0);
}

void
rbdfake_destroy(void)
{
	if (rbdfake.running) {
		pthread_mutex_lock(&rbdfake.lock);
		rbdfake.stop = 1;
		rbdfake.held = 0;
		pthread_cond_broadcast(&rbdfake.cond);
		pthread_mutex_unlock(&rbdfake.lock);
		pthread_join(rbdfake.thread, NULL);
		rbdfake.running = 0;
	}
	free(rbdfake.bytes);
	rbdfake.bytes = NULL;
	pthread_cond_destroy(&rbdfake.cond);
	pthread_mutex_destroy(&rbdfake.lock);
}

void
rbdfake_cluster(struct rbd_cluster *cl)
{
	struct rbdlib *lib = &cl->lib;

	memset(cl, 0, sizeof(*cl));
	ck_assert_int_eq(pthread_mutex_init(&cl->lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&cl->changed, NULL), 0);
	lib->rados_ioctx_create = f_ioctx_create;
	lib->rados_ioctx_destroy = f_ioctx_destroy;
	lib->rados_shutdown = f_shutdown;
	lib->rados_conf_get = f_conf_get;
	lib->rbd_open = f_open;
	lib->rbd_open_read_only = f_open_ro;
	lib->rbd_close = f_close;
	lib->rbd_get_size = f_size;
	lib->rbd_get_features = f_features;
	lib->rbd_read = f_read;
	lib->rbd_diff_iterate2 = f_diff;
	lib->rbd_lock_acquire = f_lock;
	lib->rbd_lock_release = f_unlock;
	lib->rbd_metadata_set = f_meta_set;
	lib->rbd_metadata_get = f_meta_get;
	lib->rbd_metadata_remove = f_meta_remove;
	lib->rbd_list_lockers = f_lockers;
	lib->rbd_aio_create_completion = f_create;
	lib->rbd_aio_get_return_value = f_rv;
	lib->rbd_aio_release = f_release;
	lib->rbd_aio_read = f_aio_read;
	lib->rbd_aio_write = f_aio_write;
	lib->rbd_aio_flush = f_aio_flush;
	lib->rbd_aio_discard = f_aio_discard;
	lib->rbd_aio_write_zeroes = f_aio_zero;
}

void
rbdfake_cluster_destroy(struct rbd_cluster *cl)
{
	if (cl->cur != NULL)
		rbdc_put(cl, cl->cur);
	cl->cur = NULL;
	pthread_cond_destroy(&cl->changed);
	pthread_mutex_destroy(&cl->lock);
}
