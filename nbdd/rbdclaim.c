#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/rbdclaim.h"
#include "nbdd/rbdexport.h"

#define LOCKERS_MAX	4096

/* Where a claim is in the cluster. */
enum rbd_claim_state {
	RBD_CLAIM_LOCKING,		/* being opened and locked */
	RBD_CLAIM_HELD,
	RBD_CLAIM_RELEASING,		/* being unlocked and closed */
};

struct rbd_claim {
	struct rbd_claim *next;
	enum rbd_claim_state state;
	uint64_t key;
	char str[RBD_TARGET_MAX + 1];
	char host[CLAIM_HOST_MAX];
	char name[EXPORT_NAME_MAX + 1];
	int refs;
	struct rbd_writer w;
};

int
rbd_claims_init(struct rbd_claims *cs)
{
	int e;

	cs->list = NULL;
	if ((e = pthread_mutex_init(&cs->lock, NULL)) != 0) {
		errno = e;
		return -1;
	}
	if ((e = pthread_cond_init(&cs->settled, NULL)) != 0) {
		pthread_mutex_destroy(&cs->lock);
		errno = e;
		return -1;
	}
	return 0;
}

void
rbd_claims_destroy(struct rbd_claims *cs)
{
	pthread_cond_destroy(&cs->settled);
	pthread_mutex_destroy(&cs->lock);
}

static void
unlink_claim(struct rbd_claims *cs, struct rbd_claim *c)
{
	struct rbd_claim **pp;

	for (pp = &cs->list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
}

const struct rbd_writer *
rbd_claim_writer(const struct rbd_claim *c)
{
	return &c->w;
}

/* Who holds the lock, as far as Ceph says: the locker's client and
 * address, and the host nbdd recorded when the record is that locker's. */
static void
describe_holder(const struct rbdlib *lib, rbd_image_t img, char *out,
    size_t outlen)
{
	char tag[128], clients[LOCKERS_MAX], cookies[LOCKERS_MAX];
	char addrs[LOCKERS_MAX], rec[512], who[512], mark[256];
	size_t tl = sizeof(tag), cl = sizeof(clients), kl = sizeof(cookies);
	size_t al = sizeof(addrs), rl = sizeof(rec) - 1;
	int exclusive;
	ssize_t n;

	n = lib->rbd_list_lockers(img, &exclusive, tag, &tl, clients, &cl,
	    cookies, &kl, addrs, &al);
	if (n <= 0) {
		snprintf(out, outlen, "a holder Ceph does not name (it may "
		    "have just gone)");
		return;
	}
	/* Each list is NUL-separated; the first entry is the holder. The
	 * record is the holder's when it names the same client (a global id
	 * of the cluster's, never reused): addresses are written
	 * differently by the lockers' list and by the holder itself. */
	snprintf(who, sizeof(who), "%.200s at %.200s", clients, addrs);
	snprintf(mark, sizeof(mark), "Ceph %.200s at ", clients);
	memset(rec, 0, sizeof(rec));
	if (lib->rbd_metadata_get(img, RBD_HOLDER_KEY, rec, &rl) == 0 &&
	    strstr(rec, mark) != NULL)
		snprintf(out, outlen, "%s", rec);
	else
		snprintf(out, outlen, "Ceph %.500s", who);
}

/* The image opened for writing and locked, into w: 0, or -1 with why. */
static int
lock_image(struct rbd_cluster *cl, const struct export *ex,
    const char *host, struct rbd_writer *w, char *why, size_t whylen)
{
	const struct rbd_target *t = &ex->rbd_target;
	const char *str = ex->rbd->str;
	char reason[RBDC_WHY_MAX], holder[1024], rec[512], server[256];
	char cache[16] = "";
	uint64_t features;
	rados_ioctx_t io;
	int rc;

	memset(w, 0, sizeof(*w));
	w->cl = cl;
	if (rbdc_pool(cl, t->pool, RBDX_CONNECT_WAIT_MS, &w->inst, &io, reason,
	    sizeof(reason)) == -1) {
		snprintf(why, whylen, "%s: %s", str, reason);
		return -1;
	}
	if ((rc = rbdx_result(cl, w->inst, cl->lib.rbd_open(io, t->image,
	    &w->image, NULL))) < 0) {
		snprintf(why, whylen, "opening %s for writing: %s", str,
		    strerror(-rc));
		w->image = NULL;
		goto fail;
	}
	if ((rc = cl->lib.rbd_get_features(w->image, &features)) < 0) {
		snprintf(why, whylen, "%s: %s", str, strerror(-rc));
		goto fail;
	}
	if (!(features & RBD_FEATURE_EXCLUSIVE_LOCK)) {
		snprintf(why, whylen, "image %s (%s) has no exclusive lock, so "
		    "one writer across servers cannot be promised: rbd feature "
		    "enable %s/%s exclusive-lock", ex->name, str, t->pool,
		    t->image);
		goto fail;
	}
	rc = rbdx_result(cl, w->inst, cl->lib.rbd_lock_acquire(w->image,
	    RBD_LOCK_MODE_EXCLUSIVE));
	if (rc == -EROFS || rc == -EBUSY || rc == -EAGAIN) {
		describe_holder(&cl->lib, w->image, holder, sizeof(holder));
		/* A holder that died keeps the lock until its watch on the
		 * image expires; then the next try here takes it. */
		snprintf(why, whylen, "image %s is in use by %s through "
		    "another server (%s; one writer per image; a server that "
		    "died gives it up after Ceph's osd_client_watch_timeout)",
		    ex->name, holder, str);
		goto fail;
	}
	if (rc < 0) {
		snprintf(why, whylen, "locking %s: %s", str, strerror(-rc));
		goto fail;
	}
	/* Who holds it, for the refusal another server gives. */
	if (gethostname(server, sizeof(server)) == -1)
		strlcpy(server, "?", sizeof(server));
	server[sizeof(server) - 1] = '\0';
	snprintf(rec, sizeof(rec), "%s through nbdd on %s, Ceph %s", host,
	    server, w->inst->who);
	if ((rc = cl->lib.rbd_metadata_set(w->image, RBD_HOLDER_KEY, rec)) < 0)
		log_debug("%s: recording the holder: %s", str, strerror(-rc));
	if (cl->lib.rados_conf_get(w->inst->rados, "rbd_cache", cache,
	    sizeof(cache)) != 0 || strcmp(cache, "false") != 0)
		w->cached = 1;
	return 0;
fail:
	if (w->image != NULL)
		(void)cl->lib.rbd_close(w->image);
	rbdc_put(cl, w->inst);
	return -1;
}

static void
unlock_image(struct rbd_writer *w)
{
	const struct rbdlib *lib = &w->cl->lib;

	if (!w->inst->dead) {
		(void)lib->rbd_metadata_remove(w->image, RBD_HOLDER_KEY);
		(void)lib->rbd_lock_release(w->image);
	}
	(void)lib->rbd_close(w->image);
	rbdc_put(w->cl, w->inst);
}

struct rbd_claim *
rbd_claim_take(struct rbd_claims *cs, const struct export *ex,
    const char *host, char *why, size_t whylen)
{
	uint64_t key = rbd_target_key(&ex->rbd_target);
	struct rbd_claim *c;
	int rc;

	pthread_mutex_lock(&cs->lock);
	for (;;) {
		for (c = cs->list; c != NULL; c = c->next)
			if (c->key == key && strcmp(c->str, ex->rbd->str) == 0)
				break;
		if (c == NULL || c->state == RBD_CLAIM_HELD)
			break;
		pthread_cond_wait(&cs->settled, &cs->lock);
	}
	if (c != NULL && c->w.inst->dead) {
		/* Cut off: what it holds is lost; the host's connections go
		 * as their I/O fails. A new claim is not made alongside. */
		snprintf(why, whylen, "image %s: this server was cut off by "
		    "the Ceph cluster while %s wrote it; try again when its "
		    "connections are gone", ex->name, c->host);
		c = NULL;
	} else if (c != NULL) {
		if (strcmp(c->host, host) != 0) {
			snprintf(why, whylen, "image %s is in use by %s (one "
			    "writer per image)", c->name, c->host);
			c = NULL;
		} else
			c->refs++;
	} else if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(why, whylen, "out of memory");
	} else {
		/* Listed while it is locked, so that this server's other
		 * connections to the image wait for the outcome. */
		c->state = RBD_CLAIM_LOCKING;
		c->key = key;
		strlcpy(c->str, ex->rbd->str, sizeof(c->str));
		strlcpy(c->host, host, sizeof(c->host));
		strlcpy(c->name, ex->name, sizeof(c->name));
		c->refs = 1;
		c->next = cs->list;
		cs->list = c;
		pthread_mutex_unlock(&cs->lock);
		rc = lock_image(ex->rbd->cl, ex, host, &c->w, why, whylen);
		pthread_mutex_lock(&cs->lock);
		if (rc == -1) {
			unlink_claim(cs, c);
			free(c);
			c = NULL;
		} else {
			c->state = RBD_CLAIM_HELD;
			log_info("%s claims image %s (%s, locked in Ceph as %s)",
			    host, ex->name, c->str, c->w.inst->who);
		}
		pthread_cond_broadcast(&cs->settled);
	}
	pthread_mutex_unlock(&cs->lock);
	return c;
}

void
rbd_claim_release(struct rbd_claims *cs, struct rbd_claim *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (--c->refs > 0) {
		pthread_mutex_unlock(&cs->lock);
		return;
	}
	/* Still listed while the cluster lets go: a new claim of the image
	 * from this server waits rather than race its own release there
	 * (and be refused as if another server held it). */
	c->state = RBD_CLAIM_RELEASING;
	pthread_mutex_unlock(&cs->lock);
	unlock_image(&c->w);
	pthread_mutex_lock(&cs->lock);
	unlink_claim(cs, c);
	pthread_cond_broadcast(&cs->settled);
	pthread_mutex_unlock(&cs->lock);
	log_info("%s releases image %s", c->host, c->name);
	free(c);
}
