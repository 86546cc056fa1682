/* layer: I/O */
/* The insides of an overlay, shared by overlay.c (the commands) and
 * ovlreg.c (the registry); nothing else includes this. */
#ifndef NBDD_OVLPRIV_H
#define NBDD_OVLPRIV_H

#include <sys/types.h>
#include <pthread.h>
#include <stdint.h>

#include "nbdd/blockmap.h"
#include "nbdd/overlay.h"

/* What one owner's overlays hold on disk, against the registry's limits.
 * (An owner is a host, or a host and a TLS identity: ovlpolicy.h.) */
struct ovl_host {
	struct ovl_host *next;
	struct ovl_registry *reg;	/* its total and its log */
	char addr[CLAIM_HOST_MAX];
	char identity[OVL_IDENTITY_MAX];	/* "" for none */
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
	struct ovl_host *host;		/* its owner while listed */
	char who[OVL_WHO_MAX];		/* the owner, for log lines */
	char name[EXPORT_NAME_MAX + 1];
	int refs;			/* connections; under the registry's
					 * lock */
	int64_t expires_ms;		/* once refs is 0 */
	int base_fd;			/* read-only; -1 for a base in Ceph */
	struct rbd_base *base_rbd;	/* ... which is read through this */
	int base_all_data;		/* a device: no holes to report */
	dev_t base_dev;
	ino_t base_ino;
	int fd;				/* the overlay file */
	struct blockmap map;
	uint64_t allocated;		/* fd's bytes on disk when last looked
					 * (under host->lock) */
	int limit_logged;		/* the limits said once (1 << enum
					 * ovl_room); under host->lock */
	pthread_mutex_t lock;		/* busy */
	pthread_cond_t idle;
	struct ovl_busy *busy;
};

/* A fresh overlay over ex in dirfd, for owner h; NULL with errno. */
struct overlay *ovl_new(int dirfd, const struct export *ex,
    struct ovl_host *h);
/* Closes and frees it: its file's space goes back to the file system.
 * Its host's count must have been settled already. */
void ovl_free(struct overlay *o);
/* Its bytes on disk now, taken into its owner's count and the total.
 * Under host->lock. */
void ovl_account(struct overlay *o);
/* Whether the registry counts space at all (a limit is set). */
int ovl_counted(const struct ovl_registry *r);

#endif
