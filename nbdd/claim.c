#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reopen.h"
#include "nbdd/claim.h"

struct claim {
	struct claim *next;
	dev_t dev;
	ino_t ino;
	char host[CLAIM_HOST_MAX];
	char name[EXPORT_NAME_MAX + 1];
	int refs;
	int lockfd;		/* holds both locks until closed */
};

int
claims_init(struct claims *cs)
{
	int e;

	cs->list = NULL;
	if ((e = pthread_mutex_init(&cs->lock, NULL)) != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

void
claims_destroy(struct claims *cs)
{
	pthread_mutex_destroy(&cs->lock);
}

/* Takes flock and the OFD lock on a descriptor of its own: 0, or -1 with
 * errno (EWOULDBLOCK or EAGAIN when another process holds either). */
static int
lock_image(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		return -1;
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		int e = errno;
		(void)flock(fd, LOCK_UN);
		errno = e;
		return -1;
	}
	return 0;
}

struct claim *
claim_take(struct claims *cs, const struct export *ex, const char *host,
    char *why, size_t whylen)
{
	struct claim *c;

	pthread_mutex_lock(&cs->lock);
	for (c = cs->list; c != NULL; c = c->next)
		if (c->dev == ex->dev && c->ino == ex->ino)
			break;
	if (c != NULL) {
		if (strcmp(c->host, host) != 0) {
			snprintf(why, whylen, "image %s is in use by %s "
			    "(one writer per image)", c->name, c->host);
			c = NULL;
		} else
			__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&cs->lock);
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	/* An open file description of the claim's own, so the locks live
	 * exactly as long as the claim: not a dup() of a connection's
	 * descriptor, which would keep them while that connection lasts. */
	if ((c->lockfd = reopen_fd(ex->fd, O_RDWR, -1, NULL, 0)) == -1) {
		snprintf(why, whylen, "reopening image %s: %s", ex->name,
		    strerror(errno));
		free(c);
		c = NULL;
		goto out;
	}
	if (lock_image(c->lockfd) == -1) {
		if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EACCES)
			snprintf(why, whylen, "image %s is locked by another "
			    "process (another nbdd or an administrator's "
			    "tool)", ex->name);
		else
			snprintf(why, whylen, "locking image %s: %s",
			    ex->name, strerror(errno));
		close(c->lockfd);
		free(c);
		c = NULL;
		goto out;
	}
	c->dev = ex->dev;
	c->ino = ex->ino;
	c->refs = 1;
	strlcpy(c->host, host, sizeof(c->host));
	strlcpy(c->name, ex->name, sizeof(c->name));
	c->next = cs->list;
	cs->list = c;
	log_info("%s claims image %s", host, ex->name);
out:
	pthread_mutex_unlock(&cs->lock);
	return c;
}

void
claim_release(struct claims *cs, struct claim *c)
{
	struct claim **pp;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_RELAXED) > 0) {
		pthread_mutex_unlock(&cs->lock);
		return;
	}
	for (pp = &cs->list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&cs->lock);
	log_info("%s releases image %s", c->host, c->name);
	close(c->lockfd);	/* drops both locks */
	free(c);
}

int
claim_holder(struct claims *cs, const struct export *ex, char *host,
    size_t hostlen)
{
	struct claim *c;

	pthread_mutex_lock(&cs->lock);
	for (c = cs->list; c != NULL; c = c->next)
		if (c->dev == ex->dev && c->ino == ex->ino)
			break;
	if (c != NULL)
		strlcpy(host, c->host, hostlen);
	pthread_mutex_unlock(&cs->lock);
	return c != NULL;
}
