/* layer: I/O */
/* The Ceph cluster that -C names, for nbdd and tftpd: one client
 * connection (a librados instance) shared by every image the daemon opens
 * in it. A thread of its own connects, and while it cannot, tries again
 * every RBDC_RETRY_MS: a daemon whose cluster is down at start serves its
 * files as before and refuses images in Ceph with the reason, and never
 * waits on the cluster to start.
 *
 * An instance that Ceph has cut off (blocklisted: another server broke
 * the lock of an image this one stopped answering for, netboot(7),
 * SEVERAL SERVERS) can never do I/O again: whoever sees an operation fail
 * with ESHUTDOWN says so (rbdc_failed), images already open through it
 * fail from then on, and new ones are opened through a new instance,
 * which the thread makes at once. An instance goes when the last image
 * opened through it is closed.
 *
 * Settings nbdd and tftpd need differently from librados' defaults are
 * made after ceph.conf is read: an operation the cluster does not answer
 * fails after RBDC_OP_TIMEOUT s (rados_osd_op_timeout and
 * rados_mon_op_timeout, unless ceph.conf sets them), a connection attempt
 * after RBDC_MOUNT_TIMEOUT s (client_mount_timeout, unless set), and
 * Ceph's own log lines stay out of the daemon's. I/O layer; thread-safe. */
#ifndef COMMON_RBDCLUSTER_H
#define COMMON_RBDCLUSTER_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbdlib.h"
#include "common/rbdname.h"

#define RBDC_RETRY_MS		10000
#define RBDC_OP_TIMEOUT		"30"
#define RBDC_MOUNT_TIMEOUT	"15"
#define RBDC_POOLS_MAX		16
#define RBDC_WHO_MAX		128
#define RBDC_WHY_MAX		(PATH_MAX + 512)

struct rbdc_instance {
	rados_t rados;
	int refs;			/* the cluster's own while current, and
					 * one per holder; under the lock */
	int dead;			/* cut off: no new opens */
	char who[RBDC_WHO_MAX];		/* "client.4123 at 10.0.9.2:0/31" */
	int npools;
	struct {
		char name[RBD_POOL_MAX + 1];
		rados_ioctx_t io;
	} pools[RBDC_POOLS_MAX];
};

struct rbd_cluster {
	struct rbdlib lib;
	struct rbd_client_arg arg;
	const char *user;		/* the daemon's user, for fixes */
	int fresh_reads;		/* no librbd cache: tftpd reads what
					 * the writer flushed, never a copy */
	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t changed;		/* connected, cut off, or stopping */
	pthread_t thread;
	int started;
	int stopping;
	int attempts;			/* connection attempts made */
	struct rbdc_instance *cur;	/* NULL while not connected */
	char down[RBDC_WHY_MAX];	/* why not, for refusals */
};

/* Parses -C's argument and loads librbd: 0, or -1 with why (a usage error
 * for a bad argument, *usage set; else a setup error). fresh_reads as
 * above. Nothing is read from the cluster's files yet. */
int rbdc_init(struct rbd_cluster *c, const char *arg, int fresh_reads,
    int *usage, char *why, size_t whylen);

/* As the user the daemon serves as: reads ceph.conf (a setup error if it
 * cannot: -1 with why), checks that the keyring it names can be read
 * (one that is there but unreadable to this user is a setup error, with
 * the fix), and starts the thread that connects. user names the daemon's
 * user in fixes. */
int rbdc_start(struct rbd_cluster *c, const char *user, char *why,
    size_t whylen);

/* The I/O context of pool in the current instance, which the caller
 * holds a reference on (*inst) until rbdc_put. While not connected,
 * waits up to wait_ms for the first attempt to end (0: never waits).
 * 0, or -1 with why: not connected (and the last failure), no such pool.
 * errno ENOTCONN or ENOENT. */
int rbdc_pool(struct rbd_cluster *c, const char *pool, int wait_ms,
    struct rbdc_instance **inst, rados_ioctx_t *io, char *why,
    size_t whylen);
void rbdc_put(struct rbd_cluster *c, struct rbdc_instance *inst);
/* One more reference on an instance the caller holds one on already. */
void rbdc_hold(struct rbd_cluster *c, struct rbdc_instance *inst);

/* An operation through inst failed with ESHUTDOWN: Ceph cut it off.
 * Logged once; a new instance is made. */
void rbdc_failed(struct rbd_cluster *c, struct rbdc_instance *inst);

/* Whether an error code of librbd's (negative errno) means the instance
 * is cut off. */
int rbdc_cut_off(int rc);

/* Stops the thread and lets go of the current instance (after the last
 * image is closed). */
void rbdc_destroy(struct rbd_cluster *c);

#endif
