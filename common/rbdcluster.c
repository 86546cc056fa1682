#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rbdcluster.h"

int
rbdc_cut_off(int rc)
{
	return rc == -ESHUTDOWN;
}

int
rbdc_init(struct rbd_cluster *c, const char *arg, int fresh_reads,
    int *usage, char *why, size_t whylen)
{
	const char *bad;
	int e;

	memset(c, 0, sizeof(*c));
	*usage = 0;
	if ((bad = rbd_client_arg_parse(arg, &c->arg)) != NULL) {
		snprintf(why, whylen, "%s", bad);
		*usage = 1;
		return -1;
	}
	c->fresh_reads = fresh_reads;
	if ((e = pthread_mutex_init(&c->lock, NULL)) != 0 ||
	    (e = pthread_cond_init(&c->changed, NULL)) != 0) {
		snprintf(why, whylen, "mutex: %s", strerror(e));
		return -1;
	}
	strlcpy(c->down, "connecting", sizeof(c->down));
	return rbdlib_load(&c->lib, why, whylen);
}

/* Sets name to ours unless ceph.conf chose something else than the
 * default. */
static void
set_unless_chosen(struct rbd_cluster *c, rados_t r, const char *name,
    const char *dflt, const char *ours)
{
	char cur[64];

	if (c->lib.rados_conf_get(r, name, cur, sizeof(cur)) == 0 &&
	    strcmp(cur, dflt) != 0)
		return;
	(void)c->lib.rados_conf_set(r, name, ours);
}

/* A handle with ceph.conf read and our settings made: 0, or a negative
 * errno with why. */
static int
configure(struct rbd_cluster *c, rados_t *rp, char *why, size_t whylen)
{
	char name[RBD_ID_MAX + 8];
	rados_t r;
	int rc;

	snprintf(name, sizeof(name), "client.%s", c->arg.id);
	if ((rc = c->lib.rados_create2(&r, "ceph", name, 0)) < 0) {
		snprintf(why, whylen, "librados: %s", strerror(-rc));
		return rc;
	}
	if ((rc = c->lib.rados_conf_read_file(r, c->arg.conf)) < 0) {
		snprintf(why, whylen, "reading %s: %s", c->arg.conf,
		    strerror(-rc));
		c->lib.rados_shutdown(r);
		return rc;
	}
	set_unless_chosen(c, r, "rados_osd_op_timeout", "0", RBDC_OP_TIMEOUT);
	set_unless_chosen(c, r, "rados_mon_op_timeout", "0", RBDC_OP_TIMEOUT);
	set_unless_chosen(c, r, "client_mount_timeout", "300",
	    RBDC_MOUNT_TIMEOUT);
	(void)c->lib.rados_conf_set(r, "log_to_stderr", "false");
	(void)c->lib.rados_conf_set(r, "err_to_stderr", "false");
	if (c->fresh_reads)
		(void)c->lib.rados_conf_set(r, "rbd_cache", "false");
	*rp = r;
	return 0;
}

/* The keyring ceph.conf names (a list of paths, the first that is there
 * wins): one that is there but that this user cannot read is a mistake
 * of ownership, said now rather than as a refusal by the cluster. */
static int
check_keyring(struct rbd_cluster *c, rados_t r, char *why, size_t whylen)
{
	char list[2048], *p, *save = NULL;
	struct stat st;

	if (c->lib.rados_conf_get(r, "keyring", list, sizeof(list)) != 0)
		return 0;
	for (p = strtok_r(list, ",; ", &save); p != NULL;
	    p = strtok_r(NULL, ",; ", &save)) {
		if (access(p, R_OK) == 0)
			return 0;
		if (stat(p, &st) == 0) {
			snprintf(why, whylen, "keyring %s (client.%s): %s: "
			    "user %s must read it (chgrp netboot %s; chmod 640 "
			    "%s; netboot(7), OWNERSHIP)", p, c->arg.id,
			    strerror(errno), c->user, p, p);
			return -1;
		}
	}
	return 0;
}

static const char *
connect_error(struct rbd_cluster *c, int rc, char *buf, size_t len)
{
	switch (-rc) {
	case ETIMEDOUT:
		snprintf(buf, len, "no monitor answered (mon host in %s)",
		    c->arg.conf);
		break;
	case EACCES:
	case EPERM:
		snprintf(buf, len, "the cluster refused client.%s's key (%s)",
		    c->arg.id, strerror(-rc));
		break;
	case ENOENT:
		snprintf(buf, len, "no key for client.%s (the keyring in %s, "
		    "readable by user %s)", c->arg.id, c->arg.conf, c->user);
		break;
	default:
		snprintf(buf, len, "%s", strerror(-rc));
		break;
	}
	return buf;
}

/* One attempt: a connected instance, or NULL with why. */
static struct rbdc_instance *
connect_once(struct rbd_cluster *c, char *why, size_t whylen)
{
	struct rbdc_instance *in;
	char reason[RBDC_WHY_MAX], *addrs = NULL;
	rados_t r;
	int rc;

	if (configure(c, &r, why, whylen) < 0)
		return NULL;
	if ((rc = c->lib.rados_connect(r)) < 0) {
		snprintf(why, whylen, "%s", connect_error(c, rc, reason,
		    sizeof(reason)));
		c->lib.rados_shutdown(r);
		return NULL;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(why, whylen, "out of memory");
		c->lib.rados_shutdown(r);
		return NULL;
	}
	in->rados = r;
	in->refs = 1;
	if (c->lib.rados_getaddrs(r, &addrs) != 0)
		addrs = NULL;
	snprintf(in->who, sizeof(in->who), "client.%llu at %s",
	    (unsigned long long)c->lib.rados_get_instance_id(r),
	    addrs ? addrs : "?");
	if (addrs != NULL)
		c->lib.rados_buffer_free(addrs);
	return in;
}

static void
instance_free(struct rbd_cluster *c, struct rbdc_instance *in)
{
	for (int i = 0; i < in->npools; i++)
		c->lib.rados_ioctx_destroy(in->pools[i].io);
	c->lib.rados_shutdown(in->rados);
	free(in);
}

static void *
connector(void *arg)
{
	struct rbd_cluster *c = arg;
	struct rbdc_instance *in;
	char why[RBDC_WHY_MAX], last[RBDC_WHY_MAX] = "";
	struct timespec ts;
	int again = 0;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		if (c->cur != NULL) {
			pthread_cond_wait(&c->changed, &c->lock);
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		in = connect_once(c, why, sizeof(why));
		pthread_mutex_lock(&c->lock);
		c->attempts++;
		if (in != NULL) {
			c->cur = in;
			log_info("Ceph cluster: connected%s as client.%s "
			    "(%s, %s)", again ? " again" : "", c->arg.id,
			    in->who, c->arg.conf);
			last[0] = '\0';
			again = 1;
			pthread_cond_broadcast(&c->changed);
			continue;
		}
		strlcpy(c->down, why, sizeof(c->down));
		pthread_cond_broadcast(&c->changed);
		/* Once per reason: a cluster down for a day is one line. */
		if (strcmp(why, last) != 0)
			log_warn("Ceph cluster (client.%s, %s): cannot connect: "
			    "%s; images in Ceph are refused until it answers "
			    "(trying every %d s)", c->arg.id, c->arg.conf, why,
			    RBDC_RETRY_MS / 1000);
		strlcpy(last, why, sizeof(last));
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += RBDC_RETRY_MS / 1000;
		while (!c->stopping && pthread_cond_timedwait(&c->changed,
		    &c->lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int
rbdc_start(struct rbd_cluster *c, const char *user, char *why,
    size_t whylen)
{
	rados_t r;
	int rc, e;

	c->user = user;
	if (configure(c, &r, why, whylen) < 0)
		return -1;
	rc = check_keyring(c, r, why, whylen);
	c->lib.rados_shutdown(r);
	if (rc == -1)
		return -1;
	if ((e = pthread_create(&c->thread, NULL, connector, c)) != 0) {
		snprintf(why, whylen, "starting a thread: %s", strerror(e));
		return -1;
	}
	c->started = 1;
	return 0;
}

int
rbdc_pool(struct rbd_cluster *c, const char *pool, int wait_ms,
    struct rbdc_instance **inst, rados_ioctx_t *io, char *why, size_t whylen)
{
	struct rbdc_instance *in;
	struct timespec ts;
	rados_ioctx_t made;
	int rc, i;

	pthread_mutex_lock(&c->lock);
	if (c->cur == NULL && c->attempts == 0 && wait_ms > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (c->cur == NULL && c->attempts == 0 &&
		    pthread_cond_timedwait(&c->changed, &c->lock, &ts) == 0)
			;
	}
	if ((in = c->cur) == NULL) {
		snprintf(why, whylen, "not connected to the Ceph cluster: %s",
		    c->down);
		pthread_mutex_unlock(&c->lock);
		errno = ENOTCONN;
		return -1;
	}
	/* The caller's reference, whatever comes. */
	in->refs++;
	for (i = 0; i < in->npools; i++)
		if (strcmp(in->pools[i].name, pool) == 0)
			break;
	if (i < in->npools) {
		*inst = in;
		*io = in->pools[i].io;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);
	/* Not under the lock: looking a pool up may wait on the monitors
	 * for as long as their timeout. */
	if ((rc = c->lib.rados_ioctx_create(in->rados, pool, &made)) < 0) {
		if (rc == -ENOENT)
			snprintf(why, whylen, "no pool %s in the Ceph cluster",
			    pool);
		else
			snprintf(why, whylen, "pool %s: %s", pool,
			    strerror(-rc));
		rbdc_put(c, in);
		errno = -rc;
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < in->npools; i++)
		if (strcmp(in->pools[i].name, pool) == 0)
			break;
	if (i == in->npools && i == RBDC_POOLS_MAX) {
		pthread_mutex_unlock(&c->lock);
		c->lib.rados_ioctx_destroy(made);
		snprintf(why, whylen, "more than %d pools in use",
		    RBDC_POOLS_MAX);
		rbdc_put(c, in);
		errno = EMFILE;
		return -1;
	}
	if (i == in->npools) {
		strlcpy(in->pools[i].name, pool, sizeof(in->pools[i].name));
		in->pools[i].io = made;
		in->npools++;
		made = NULL;
	}
	*inst = in;
	*io = in->pools[i].io;
	pthread_mutex_unlock(&c->lock);
	/* Another caller made it meanwhile: theirs is kept. */
	if (made != NULL)
		c->lib.rados_ioctx_destroy(made);
	return 0;
}

void
rbdc_put(struct rbd_cluster *c, struct rbdc_instance *in)
{
	int last;

	pthread_mutex_lock(&c->lock);
	last = --in->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		instance_free(c, in);
}

void
rbdc_hold(struct rbd_cluster *c, struct rbdc_instance *in)
{
	pthread_mutex_lock(&c->lock);
	in->refs++;
	pthread_mutex_unlock(&c->lock);
}

void
rbdc_failed(struct rbd_cluster *c, struct rbdc_instance *in)
{
	int last = 0;

	pthread_mutex_lock(&c->lock);
	if (!in->dead) {
		in->dead = 1;
		log_warn("Ceph cluster: %s was cut off (blocklisted: another "
		    "server took the lock of an image this one stopped "
		    "answering for): the clients of images opened through it "
		    "are disconnected; connecting anew", in->who);
		if (c->cur == in) {
			c->cur = NULL;
			strlcpy(c->down, "cut off by the cluster, connecting "
			    "anew", sizeof(c->down));
			last = --in->refs == 0;
			pthread_cond_broadcast(&c->changed);
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (last)
		instance_free(c, in);
}

void
rbdc_destroy(struct rbd_cluster *c)
{
	struct rbdc_instance *in;

	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = 1;
		pthread_cond_broadcast(&c->changed);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		c->started = 0;
	}
	pthread_mutex_lock(&c->lock);
	in = c->cur;
	c->cur = NULL;
	pthread_mutex_unlock(&c->lock);
	if (in != NULL)
		rbdc_put(c, in);
}
