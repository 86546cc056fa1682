/* The registry of overlays: one per (owner, export name), shared by the
 * owner's connections, kept for a grace period after the last of them,
 * then discarded. Which owner, when discarded and whether a new one is
 * made are ovlpolicy.c's rules; this file keeps the lists and the locks.
 * Overlay files are closed outside the registry's lock: giving a large
 * file's space back can take a while. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/ovlpolicy.h"
#include "nbdd/ovlpriv.h"
#include "nbdd/sockio.h"

int
ovl_registry_init(struct ovl_registry *r, const char *dir,
    const struct ovl_limits *lim, int64_t (*now_ms)(void), char *why,
    size_t whylen)
{
	int fd, e;

	memset(r, 0, sizeof(*r));
	r->dirfd = -1;
	r->host_max = lim->host_max;
	r->total_max = lim->total_max;
	r->grace_ms = lim->grace_ms;
	r->max_overlays = lim->max_overlays;
	r->now_ms = now_ms != NULL ? now_ms : sock_now_ms;
	if (strlcpy(r->dir, dir, sizeof(r->dir)) >= sizeof(r->dir)) {
		snprintf(why, whylen, "overlay directory %s: name too long",
		    dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		e = errno;
		snprintf(why, whylen, "overlay directory %s: %s", dir,
		    strerror(e));
		errno = e;
		return -1;
	}
	/* Better to hear now than at the first Pi's boot. */
	if ((fd = ovl_tmpfile(r->dirfd, 1)) == -1) {
		e = errno;
		snprintf(why, whylen, "overlay directory %s: cannot create "
		    "overlay files there: %s", dir, strerror(e));
		close(r->dirfd);
		r->dirfd = -1;
		errno = e;
		return -1;
	}
	close(fd);
	if ((e = pthread_mutex_init(&r->lock, NULL)) != 0 ||
	    (e = pthread_mutex_init(&r->log_lock, NULL)) != 0) {
		snprintf(why, whylen, "overlay registry: %s", strerror(e));
		close(r->dirfd);
		r->dirfd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

int
ovl_counted(const struct ovl_registry *r)
{
	return r->host_max != 0 || r->total_max != 0;
}

static struct ovl_host *
host_get(struct ovl_registry *r, const char *addr, const char *identity)
{
	struct ovl_host *h;
	int e;

	for (h = r->hosts; h != NULL; h = h->next)
		if (ovl_same_owner(h->addr, h->identity, addr, identity))
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((e = pthread_mutex_init(&h->lock, NULL)) != 0) {
		free(h);
		errno = e;
		return NULL;
	}
	h->reg = r;
	strlcpy(h->addr, addr, sizeof(h->addr));
	if (identity != NULL)
		strlcpy(h->identity, identity, sizeof(h->identity));
	h->max = r->host_max;
	h->next = r->hosts;
	r->hosts = h;
	return h;
}

/* A host record with no overlay left goes. Under the registry's lock. */
static void
host_drop_if_unused(struct ovl_registry *r, struct ovl_host *h)
{
	struct ovl_host **pp;

	if (h->overlays > 0)
		return;
	for (pp = &r->hosts; *pp != h; pp = &(*pp)->next)
		;
	*pp = h->next;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Takes o off the registry's list and out of its host's count; the
 * caller discards it once the lock is released. */
static void
unlink_overlay(struct ovl_registry *r, struct overlay *o)
{
	struct ovl_host *h = o->host;
	struct overlay **pp;

	for (pp = &r->list; *pp != o; pp = &(*pp)->next)
		;
	*pp = o->next;
	r->count--;
	pthread_mutex_lock(&h->lock);
	h->allocated -= o->allocated;
	__atomic_sub_fetch(&r->total_used, o->allocated, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&h->lock);
	h->overlays--;
	o->host = NULL;
	host_drop_if_unused(r, h);
}

/* Moves the overlays whose grace is over onto a list of their own. */
static struct overlay *
take_expired(struct ovl_registry *r, int64_t now)
{
	struct overlay *o, *next, *dead = NULL;

	for (o = r->list; o != NULL; o = next) {
		next = o->next;
		if (!ovl_expired(o->refs, o->expires_ms, now))
			continue;
		unlink_overlay(r, o);
		o->next = dead;
		dead = o;
	}
	return dead;
}

static void
discard(struct overlay *dead)
{
	struct overlay *next;

	for (; dead != NULL; dead = next) {
		next = dead->next;
		log_info("%s: export %s: overlay discarded (%llu blocks of "
		    "4 KiB written)", dead->who, dead->name,
		    (unsigned long long)ovl_blocks(dead));
		ovl_free(dead);
	}
}

static struct overlay *
find(struct ovl_registry *r, const char *name, const char *addr,
    const char *identity)
{
	struct overlay *o;

	for (o = r->list; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0 && ovl_same_owner(o->host->addr,
		    o->host->identity, addr, identity))
			return o;
	return NULL;
}

/* Takes a reference on an overlay found in the registry; ex is what the
 * name is now, if the caller opened it. */
static void
hold(struct overlay *o, const struct export *ex)
{
	int replaced = ex != NULL && (ex->dev != o->base_dev ||
	    ex->ino != o->base_ino);

	if (o->refs++ == 0)
		log_info("%s: export %s: back within the grace period, the "
		    "host keeps its overlay%s", o->who, o->name, replaced ?
		    " and the base it was made over (the image was replaced "
		    "since)" : "");
}

/* Overlays no connection uses now: kept for owners that may come back. */
static int
in_grace(const struct ovl_registry *r)
{
	int n = 0;

	for (const struct overlay *o = r->list; o != NULL; o = o->next)
		if (o->refs == 0)
			n++;
	return n;
}

/* A line a remote host causes at will: a few, then a count. */
static int
may_log(struct ovl_registry *r, uint32_t *held)
{
	int ok;

	pthread_mutex_lock(&r->log_lock);
	ok = ratelimit_take(&r->full_log, (uint64_t)r->now_ms(), held);
	pthread_mutex_unlock(&r->log_lock);
	return ok;
}

static struct overlay *
create(struct ovl_registry *r, const struct export *ex, const char *addr,
    const char *identity, char *why, size_t whylen)
{
	struct ovl_host *h;
	struct overlay *o;
	int e;

	if (ovl_admit(r->count, r->max_overlays) == OVL_ADMIT_FULL) {
		snprintf(why, whylen, "no room for another overlay: %d made "
		    "already (nbdd -m), %d of them kept for hosts that may "
		    "come back within their grace period (-g)", r->count,
		    in_grace(r));
		errno = ENOSPC;
		return NULL;
	}
	if ((h = host_get(r, addr, identity)) == NULL) {
		e = errno;
		snprintf(why, whylen, "out of memory");
		errno = e;
		return NULL;
	}
	if ((o = ovl_new(r->dirfd, ex, h)) == NULL) {
		e = errno;
		snprintf(why, whylen, "cannot make an overlay over %s in %s: "
		    "%s", ex->name, r->dir, strerror(e));
		host_drop_if_unused(r, h);
		errno = e;
		return NULL;
	}
	ovl_owner_describe(addr, identity, o->who, sizeof(o->who));
	h->overlays++;
	r->count++;
	o->refs = 1;
	o->next = r->list;
	r->list = o;
	log_info("%s: export %s: a fresh overlay over the shared base "
	    "(%llu bytes)", o->who, ex->name, (unsigned long long)ex->size);
	return o;
}

struct overlay *
ovl_get(struct ovl_registry *r, const struct export *base, const char *host,
    const char *identity, char *why, size_t whylen)
{
	char who[OVL_WHO_MAX];
	struct overlay *o, *dead;
	uint32_t held;
	int e = 0;

	pthread_mutex_lock(&r->lock);
	dead = take_expired(r, r->now_ms());
	if ((o = find(r, base->name, host, identity)) != NULL)
		hold(o, base);
	else if ((o = create(r, base, host, identity, why, whylen)) == NULL)
		e = errno;
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	if (o != NULL)
		return o;
	if (e == ENOSPC && may_log(r, &held)) {
		ovl_owner_describe(host, identity, who, sizeof(who));
		if (held > 0)
			log_warn("%s: export %s: refused: %s (%u similar lines "
			    "held back)", who, base->name, why, held);
		else
			log_warn("%s: export %s: refused: %s", who,
			    base->name, why);
	}
	errno = e;
	return NULL;
}

struct overlay *
ovl_find(struct ovl_registry *r, const char *name, const char *host,
    const char *identity)
{
	struct overlay *o, *dead;

	pthread_mutex_lock(&r->lock);
	dead = take_expired(r, r->now_ms());
	if ((o = find(r, name, host, identity)) != NULL)
		hold(o, NULL);
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	return o;
}

/* done: the client said it is done, so no grace period. */
static void
put(struct ovl_registry *r, struct overlay *o, int done)
{
	struct overlay *dead;
	int64_t now;

	if (o == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	now = r->now_ms();
	if (--o->refs == 0) {
		o->expires_ms = ovl_expiry(now, r->grace_ms, done);
		if (done)
			log_debug("%s: export %s: the client disconnected "
			    "cleanly: its overlay goes now", o->who,
			    o->name);
		else if (r->grace_ms > 0)
			log_debug("%s: export %s: last connection gone, the "
			    "overlay is kept for %lld s", o->who, o->name,
			    (long long)(r->grace_ms / 1000));
	}
	dead = take_expired(r, now);
	pthread_mutex_unlock(&r->lock);
	discard(dead);
}

void
ovl_put(struct ovl_registry *r, struct overlay *o)
{
	put(r, o, 0);
}

void
ovl_put_done(struct ovl_registry *r, struct overlay *o)
{
	put(r, o, 1);
}

int
ovl_base_users(struct ovl_registry *r, dev_t dev, ino_t ino)
{
	struct overlay *o, *dead;
	int n = 0;

	pthread_mutex_lock(&r->lock);
	dead = take_expired(r, r->now_ms());
	for (o = r->list; o != NULL; o = o->next)
		if (o->base_dev == dev && o->base_ino == ino)
			n++;
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	return n;
}

int64_t
ovl_expire(struct ovl_registry *r)
{
	struct overlay *o, *dead;
	int64_t now, next = -1;

	pthread_mutex_lock(&r->lock);
	now = r->now_ms();
	dead = take_expired(r, now);
	for (o = r->list; o != NULL; o = o->next)
		next = ovl_next_expiry(next, o->refs, o->expires_ms, now);
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	return next;
}

void
ovl_registry_destroy(struct ovl_registry *r)
{
	struct overlay *dead = NULL;

	if (r->dirfd == -1)
		return;
	pthread_mutex_lock(&r->lock);
	while (r->list != NULL) {
		struct overlay *o = r->list;
		unlink_overlay(r, o);
		o->next = dead;
		dead = o;
	}
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->log_lock);
	close(r->dirfd);
	r->dirfd = -1;
}
