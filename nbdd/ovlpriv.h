/* The insides of an overlay, shared by overlay.c (the commands) and
 * ovlreg.c (the registry); nothing else includes this. */
#ifndef NBDD_OVLPRIV_H
#define NBDD_OVLPRIV_H

#include <sys/types.h>
#include <pthread.h>
#include <stdint.h>

#include "nbdd/blockmap.h"
#include "nbdd/overlay.h"

/* What one host's overlays hold on disk, against the registry's limit. */
struct ovl_host {
	struct ovl_host *next;
	char addr[CLAIM_HOST_MAX];
	int overlays;			/* under the registry's lock */
	uint64_t max;			/* 0: no limit */
	pthread_mutex_t lock;		/* the two counts below */
	uint64_t allocated;		/* sum of its overlays' allocated */
	uint64_t reserved;		/* promised to writes in flight */
};

/* A mutation in progress on blocks [first, end): mutations of blocks in
 * common wait for each other, so that two first writes into one block
 * cannot both copy it from the base and lose one another's bytes. */
struct ovl_busy {
	struct ovl_busy *next;
	uint64_t first, end;
};

struct overlay {
	struct overlay *next;		/* in the registry */
	struct ovl_host *host;
	char addr[CLAIM_HOST_MAX];	/* the host's, for log lines */
	char name[EXPORT_NAME_MAX + 1];
	int refs;			/* connections; under the registry's
					 * lock */
	int64_t expires_ms;		/* once refs is 0 */
	int base_fd;			/* read-only */
	int base_all_data;		/* a device: no holes to report */
	dev_t base_dev;
	ino_t base_ino;
	int fd;				/* the overlay file */
	struct blockmap map;
	uint64_t allocated;		/* fd's bytes on disk when last looked
					 * (under host->lock) */
	int limit_logged;		/* under host->lock */
	pthread_mutex_t lock;		/* busy */
	pthread_cond_t idle;
	struct ovl_busy *busy;
};

/* A fresh overlay over ex in dirfd, for host h; NULL with errno. */
struct overlay *ovl_new(int dirfd, const struct export *ex,
    struct ovl_host *h, const char *addr);
/* Closes and frees it: its file's space goes back to the file system.
 * Its host's count must have been settled already. */
void ovl_free(struct overlay *o);
/* Its bytes on disk now, taken into its host's count. Under host->lock. */
void ovl_account(struct overlay *o);

#endif
