/* layer: I/O */
/* Boot files out of images in Ceph, read away from the event loop. A
 * librbd read waits for the cluster (up to its op timeout when an OSD is
 * gone), and tftpd is one loop: a request whose entry leads to rbd: is
 * handed to a worker thread, which opens the file in the image's FAT
 * partition (rbdimage.h, through its cache of open images) and reads all
 * of it into memory. The loop learns of finished jobs through an eventfd
 * it polls, and the transfer then sends from memory: once it has begun,
 * the cluster can no longer stall or break it, and a Pi gets a whole,
 * consistent file or an ERROR. A read the cluster fails or does not
 * answer ends the job with the reason (naming the image and the cause),
 * which the loop logs through the request port's rate limit.
 *
 * Why threads and not rbd_aio_read: opening a file means reading the
 * partition table, the boot sector, directories and the FAT chain, a
 * dozen dependent reads that common/fat.c makes through a synchronous
 * callback; a worker runs that code as it is, where aio would need it
 * rewritten as a state machine. The loop's own work per packet is
 * unchanged: transfers never touch librbd. */
#ifndef TFTPD_RBDFETCH_H
#define TFTPD_RBDFETCH_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rbdcluster.h"
#include "common/rbdname.h"
#include "tftpd/proto.h"
#include "tftpd/source.h"

#define RBDFETCH_WORKERS	4
/* A boot file larger than this is refused: it would be held whole. */
#define RBDFETCH_FILE_MAX	(512ull * 1024 * 1024)

/* One request for a file in an image in Ceph. The caller fills the first
 * fields (and may embed the job in a larger struct of its own); the
 * worker fills the outcome. */
struct rbdfetch_job {
	struct rbd_target target;
	int partition;			/* as bootdir_rbd says */
	char entry[NAME_MAX + 1];	/* the boot entry, for reasons */
	char path[TFTPD_PATH_MAX + 1];	/* the file inside the partition */
	char name[TFTPD_PATH_MAX + 1];	/* as requested: the source's name */
	/* The outcome: SOURCE_OK with src (in memory), or the status and
	 * why, as resolve_open gives them. */
	enum source_status st;
	struct source *src;
	char why[SOURCE_WHY_LEN];
	struct rbdfetch_job *next;
};

struct rbdfetch {
	struct rbd_cluster *cl;
	int efd;			/* readable: jobs are done */
	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t work;
	int stopping;
	struct rbdfetch_job *todo, **todo_tail;
	struct rbdfetch_job *done;
	pthread_t threads[RBDFETCH_WORKERS];
	int nthreads;
};

/* Starts the workers on cl: 0, or -1 with why. */
int rbdfetch_start(struct rbdfetch *f, struct rbd_cluster *cl, char *why,
    size_t whylen);
/* Queues j; it comes back through rbdfetch_take. */
void rbdfetch_submit(struct rbdfetch *f, struct rbdfetch_job *j);
/* The jobs done since the last call, as a list (next), and the eventfd
 * read. */
struct rbdfetch_job *rbdfetch_take(struct rbdfetch *f);
/* Lets each worker end its job (bounded by the cluster's timeouts) and
 * stops them; jobs not begun come back from rbdfetch_take as not done
 * (SOURCE_ERROR). */
void rbdfetch_stop(struct rbdfetch *f);

#endif
