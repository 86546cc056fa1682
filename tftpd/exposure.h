/* layer: pure */
/* What a requested name may expose: the rules resolve.c carries out,
 * given the facts it found. The first component names an entry of the
 * root, and an entry is never sent as a file: not under its own name, not
 * as a regular file named like one (a serial, a MAC entry, "default"),
 * not as an OS image hard-linked into the root. A FIFO, socket or device
 * is never opened. Each function returns SOURCE_OK to go on, or the
 * refusal with its reason (a fixed string, "" for a plain miss). */
#ifndef TFTPD_EXPOSURE_H
#define TFTPD_EXPOSURE_H

#include <sys/types.h>
#include <stddef.h>

#include "tftpd/proto.h"
#include "tftpd/source.h"

/* A requested name taken apart. */
struct exposure_name {
	char path[TFTPD_PATH_MAX + 1];	/* the name, leading '/' dropped;
					 * for a root file, its first
					 * component only */
	size_t first_len;	/* bytes of the first component */
	int root_file;		/* nothing named beneath the first
				 * component: a file of the root */
	int beneath;		/* root_file spelt with a '/' after it
				 * ("abcd1234/", "abcd1234/.") */
	const char *rest;	/* else: the path beneath the entry, in
				 * path, leading '/' dropped */
};

/* Splits name (len bytes as received, any bytes) into out. Refuses an
 * empty name, one longer than TFTPD_PATH_MAX or with a NUL (not found),
 * "." and ".." as the first component (denied) and an entry's name longer
 * than NAME_MAX (not found). */
enum source_status exposure_split(const char *name, size_t len,
    struct exposure_name *out);

/* Whether an entry named entry (len bytes) is looked up with "default"
 * after it: the name of a machine, which boots "default" when it has no
 * entry of its own. 2 names to try, or 1. */
size_t exposure_entry_names(const char *entry, size_t len);

/* The verdict on the entry bootpick found (type, a boot_entry_type). */
enum source_status exposure_entry(int type);

/* A root file's name (len bytes, NUL-terminated): one that may be looked
 * up at all (bootname.h's plain names). */
enum source_status exposure_root_name(const char *name, size_t len);

/* Whether a root file missing with errno e should ask if "default" is
 * there, to tell the administrator the name is a machine's entry. */
int exposure_root_missing_asks_default(const char *name, size_t len, int e);

/* The verdict on a root file the lookup (O_PATH, no symlink followed)
 * did not find, with errno e; default_there is the answer to
 * exposure_root_missing_asks_default's question (0 when not asked). */
enum source_status exposure_root_missing(int e, int default_there,
    const char **why);

/* The verdict on a root file found with mode (the root's own entry,
 * never a symlink's target), before it is opened. */
enum source_status exposure_root_found(const char *name, size_t len,
    mode_t mode, const char **why);

/* The verdict when opening a root file found regular failed with e: one
 * that may not be opened (denied), or the server's own failure. */
enum source_status exposure_root_open_failed(int e);

/* The verdict on a root file opened: is_image (it holds a partition
 * table or FAT file system) and beneath as in struct exposure_name. */
enum source_status exposure_root_opened(int is_image, int beneath,
    const char **why);

#endif
