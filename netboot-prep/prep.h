/* layer: I/O */
/* One preparation: what the command line asked for, and where the work
 * stands, so that a failure at any step can be undone (the work copy
 * removed, the root unmounted, the loop device detached). */
#ifndef NETBOOT_PREP_PREP_H
#define NETBOOT_PREP_PREP_H

#include <sys/types.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/part.h"
#include "common/piid.h"
#include "recognise.h"

#define PREP_DEBS_MAX		32
#define PREP_ENTRIES_MAX	256

struct prep {
	/* asked for */
	const char *dir;		/* -r: /srv */
	const char *image;		/* the input, never written */
	const char *name;
	const char *server;		/* -s, NULL: this server's address */
	uint64_t size;			/* -S, 0: as it is */
	int shared;			/* -b */
	int force;			/* -f: replace NAME.img */
	const char *user, *group;	/* -u, -g */
	int mode;			/* -m, -1: the default for the kind */
	const char *debs[PREP_DEBS_MAX];	/* -d */
	size_t ndebs;
	char entries[PREP_ENTRIES_MAX][MAC_NAME_LEN + 1];	/* -P */
	size_t nentries;

	/* the work */
	char target[PATH_MAX];		/* DIR/NAME.img */
	char work[PATH_MAX];		/* DIR/.NAME.img.prep-XXXXXX */
	char tmpdir[PATH_MAX];		/* scratch, mount point inside */
	char mnt[PATH_MAX];
	char loopdev[64];
	int fd;				/* the work copy */
	uint64_t img_size;
	struct part boot, root;
	int mounted, proc_mounted, dev_mounted;
	struct recognition rec;
	char server_buf[64];
};

/* Each step logs what it did, or ends the run with what went wrong:
 * the step, the file and what to do (log_err, cleanup, exit 1). */
void prep_fail(struct prep *p, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
void prep_cleanup(struct prep *p);
/* Unmounts the root, detaches the loop device, removes the scratch. */
void prep_unmount(struct prep *p);

void step_check(struct prep *p);
void step_copy(struct prep *p);
void step_partitions(struct prep *p);
void step_size(struct prep *p);
void step_mount(struct prep *p);
void step_recognise(struct prep *p);
void step_cmdline(struct prep *p);
void step_fstab(struct prep *p);
void step_firstboot(struct prep *p);
void step_nbd_client(struct prep *p);
void step_finish(struct prep *p);

/* Files of the work copy's FAT partition: read into a malloc'ed buffer
 * (NUL-terminated; NULL and errno ENOENT when absent), written through
 * mtools. */
uint8_t *fat_read_file(struct prep *p, const char *name, size_t *len);
int fat_write_file(struct prep *p, const char *name, const void *data,
    size_t len, char *why, size_t whylen);
/* The FAT root directory's file names (malloc'ed array of malloc'ed
 * strings). */
char **fat_list_root(struct prep *p, size_t *n);

/* Files of the mounted root, by path inside it. */
uint8_t *root_read_file(struct prep *p, const char *path, size_t *len);
int root_write_file(struct prep *p, const char *path, const void *data,
    size_t len, int mode, char *why, size_t whylen);
int root_exists(struct prep *p, const char *path);
/* Runs argv inside the mounted root (chroot). */
int root_run(struct prep *p, const char *const argv[], char *why,
    size_t whylen);

/* The initramfs files: nbd-client in each, or added (initrd.c). */
void initrd_prepare(struct prep *p, char names[][FAT_FILE_NAME],
    size_t n);

/* Boot entries: DIR/boot/ENTRY -> ../NAME.img (enrol.c). */
int enrol(const char *dir, const char *name, const char *entry,
    char *why, size_t whylen);

#endif
