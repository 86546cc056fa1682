/* The registry of overlays: one per (host, export name), shared by the
 * host's connections, kept for a grace period after the last of them,
 * then discarded. Overlay files are closed outside the registry's lock:
 * giving a large file's space back can take a while. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/ovlpriv.h"
#include "nbdd/sockio.h"

int
ovl_registry_init(struct ovl_registry *r, const char *dir, uint64_t host_max,
    int64_t grace_ms, int64_t (*now_ms)(void), char *why, size_t whylen)
{
	int fd, e;

	memset(r, 0, sizeof(*r));
	r->dirfd = -1;
	r->host_max = host_max;
	r->grace_ms = grace_ms;
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
	if ((e = pthread_mutex_init(&r->lock, NULL)) != 0) {
		snprintf(why, whylen, "overlay registry: %s", strerror(e));
		close(r->dirfd);
		r->dirfd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

static struct ovl_host *
host_get(struct ovl_registry *r, const char *addr)
{
	struct ovl_host *h;
	int e;

	for (h = r->hosts; h != NULL; h = h->next)
		if (strcmp(h->addr, addr) == 0)
			return h;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((e = pthread_mutex_init(&h->lock, NULL)) != 0) {
		free(h);
		errno = e;
		return NULL;
	}
	strlcpy(h->addr, addr, sizeof(h->addr));
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
		if (o->refs > 0 || o->expires_ms > now)
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
		    "4 KiB written)", dead->addr, dead->name,
		    (unsigned long long)ovl_blocks(dead));
		ovl_free(dead);
	}
}

static struct overlay *
find(struct ovl_registry *r, const char *name, const char *addr)
{
	struct overlay *o;

	for (o = r->list; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0 && strcmp(o->addr, addr) == 0)
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
		    "host keeps its overlay%s", o->addr, o->name, replaced ?
		    " and the base it was made over (the image was replaced "
		    "since)" : "");
}

/* Room for one more overlay under max_overlays: the unused one whose
 * grace period ends first goes onto *dead. 0, or -1 when every overlay is
 * in use. */
static int
make_room(struct ovl_registry *r, struct overlay **dead)
{
	struct overlay *o, *first = NULL;

	if (r->max_overlays == 0 || r->count < r->max_overlays)
		return 0;
	for (o = r->list; o != NULL; o = o->next)
		if (o->refs == 0 && (first == NULL ||
		    o->expires_ms < first->expires_ms))
			first = o;
	if (first == NULL)
		return -1;
	log_info("%s: export %s: %d overlays already: this one goes before "
	    "its grace period ends", first->addr, first->name, r->count);
	unlink_overlay(r, first);
	first->next = *dead;
	*dead = first;
	return 0;
}

static struct overlay *
create(struct ovl_registry *r, const struct export *ex, const char *addr,
    struct overlay **dead, char *why, size_t whylen)
{
	struct ovl_host *h;
	struct overlay *o;
	int e;

	if (make_room(r, dead) == -1) {
		snprintf(why, whylen, "%d overlays in use already (nbdd -m)",
		    r->count);
		errno = EBUSY;
		return NULL;
	}
	if ((h = host_get(r, addr)) == NULL) {
		e = errno;
		snprintf(why, whylen, "out of memory");
		errno = e;
		return NULL;
	}
	if ((o = ovl_new(r->dirfd, ex, h, addr)) == NULL) {
		e = errno;
		snprintf(why, whylen, "cannot make an overlay over %s in %s: "
		    "%s", ex->name, r->dir, strerror(e));
		host_drop_if_unused(r, h);
		errno = e;
		return NULL;
	}
	h->overlays++;
	r->count++;
	o->refs = 1;
	o->next = r->list;
	r->list = o;
	log_info("%s: export %s: a fresh overlay over the shared base "
	    "(%llu bytes)", addr, ex->name, (unsigned long long)ex->size);
	return o;
}

struct overlay *
ovl_get(struct ovl_registry *r, const struct export *base, const char *host,
    char *why, size_t whylen)
{
	struct overlay *o, *dead;
	int e = 0;

	pthread_mutex_lock(&r->lock);
	dead = take_expired(r, r->now_ms());
	if ((o = find(r, base->name, host)) != NULL)
		hold(o, base);
	else if ((o = create(r, base, host, &dead, why, whylen)) == NULL)
		e = errno;
	pthread_mutex_unlock(&r->lock);
	discard(dead);
	if (o == NULL)
		errno = e;
	return o;
}

struct overlay *
ovl_find(struct ovl_registry *r, const char *name, const char *host)
{
	struct overlay *o, *dead;

	pthread_mutex_lock(&r->lock);
	dead = take_expired(r, r->now_ms());
	if ((o = find(r, name, host)) != NULL)
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
		o->expires_ms = done ? now : now + r->grace_ms;
		if (done)
			log_debug("%s: export %s: the client disconnected "
			    "cleanly: its overlay goes now", o->addr,
			    o->name);
		else if (r->grace_ms > 0)
			log_debug("%s: export %s: last connection gone, the "
			    "overlay is kept for %lld s", o->addr, o->name,
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
		if (o->refs == 0 && (next == -1 || o->expires_ms - now < next))
			next = o->expires_ms - now;
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
	close(r->dirfd);
	r->dirfd = -1;
}
