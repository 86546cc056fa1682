/* The one fake librbd of the unit tests: every call of struct rbdlib that
 * tftpd and nbdd make, over one disk held in memory (rbdfake.bytes, whose
 * head and snapshot "v2" read alike), in pool "pis", under one or two
 * image names. Synchronous reads come back short now and then, as a
 * careful caller must expect; the asynchronous calls queue for a thread
 * of the fake's own (rbdfake_start_worker), which completes them in an
 * order of its choosing. Not a test: tests/unit/rbdfake.c is linked into
 * the tests of the files that call librbd (the Makefile's RBDFAKE_TESTS). */
#ifndef TESTS_UNIT_RBDFAKE_H
#define TESTS_UNIT_RBDFAKE_H

#include <pthread.h>
#include <stdint.h>

#include "common/rbdcluster.h"

#define RBDFAKE_POOL	"pis"
#define RBDFAKE_SNAP	"v2"

/* An image's handle: its name and its exclusive lock. */
struct rbdfake_image {
	const char *name;	/* NULL: no second image */
	int locked;
};

struct rbdfake_job;

struct rbdfake {
	pthread_mutex_t lock;	/* taken by the fake around what it counts */
	pthread_cond_t cond;
	uint8_t *bytes;		/* the test's, freed by rbdfake_destroy */
	uint64_t size;
	uint64_t object_size;	/* rbd_diff_iterate2's whole objects */
	struct rbdfake_image image[2];
	int opens;		/* handles open now */
	int opened;		/* opens made */
	char snap[64];		/* what the last read-only open asked for */
	int read_rc;		/* 0, or what reads fail with */
	int write_rc;		/* 0, or what changes fail with */
	int read_short;		/* bytes an rbd_aio_read comes back short of */
	int sync_reads;		/* rbd_read calls: an overlay's copy-up */
	char holder[512];	/* the images' netboot.holder */
	int gate_closed;	/* image[0]'s unlock waits while set */
	int unlocking;		/* image[0]'s unlock has begun */
	/* librbd's thread: its queue and what it did. */
	pthread_t thread;
	int running;
	struct rbdfake_job *q;
	int nq, held, stop;	/* held: nothing completes while set */
	int inflight, max_inflight;
	int writes, flushes, releases;
	long seq, last_write_seq, last_flush_seq;
	unsigned seed;
};

extern struct rbdfake rbdfake;

/* Empties the fake and names its images (name2 may be NULL); the test
 * then gives it bytes and size. */
void rbdfake_init(const char *name, const char *name2);
/* Starts librbd's thread; the order it completes calls in follows seed. */
void rbdfake_start_worker(unsigned seed);
/* Stops the thread once the queue is empty, frees the bytes. */
void rbdfake_destroy(void);

/* A cluster whose calls are the fake's, with no instance yet (cl->cur). */
void rbdfake_cluster(struct rbd_cluster *cl);
/* Lets go of its current instance, if any, and of its lock. */
void rbdfake_cluster_destroy(struct rbd_cluster *cl);

#endif
