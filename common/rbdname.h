/* layer: pure */
/* Names in Ceph, as the layout and the command line write them. An image
 * in an RBD pool is named by a symlink that dangles on purpose:
 *
 *     /srv/NAME.img -> rbd:POOL/IMAGE        the image, one writer at a time
 *     /srv/NAME.img -> rbd:POOL/IMAGE@SNAP   a snapshot: a shared base
 *
 * and the cluster by the daemons' -C [ID@]CONF: the client id (client.ID,
 * "admin" when left out) and the ceph.conf that says where the monitors
 * and the keyring are. Pure: strings in, fields and reasons out. */
#ifndef COMMON_RBDNAME_H
#define COMMON_RBDNAME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define RBD_PREFIX		"rbd:"
#define RBD_POOL_MAX		127
#define RBD_IMAGE_MAX		95	/* librbd's RBD_MAX_IMAGE_NAME_SIZE - 1 */
#define RBD_SNAP_MAX		127
#define RBD_TARGET_MAX		(sizeof(RBD_PREFIX) - 1 + RBD_POOL_MAX + 1 + \
				RBD_IMAGE_MAX + 1 + RBD_SNAP_MAX)
#define RBD_ID_MAX		63

struct rbd_target {
	char pool[RBD_POOL_MAX + 1];
	char image[RBD_IMAGE_MAX + 1];
	char snap[RBD_SNAP_MAX + 1];	/* "" for the image itself */
};

/* Whether a symlink's target (len bytes) names something in Ceph: it
 * starts with "rbd:". Such a target is never a path. */
int rbd_target_is_rbd(const char *s, size_t len);

/* Parses "rbd:POOL/IMAGE" or "rbd:POOL/IMAGE@SNAP". Each name is 1 to its
 * _MAX bytes of letters, digits, '.', '_', '-' and '+', not starting with
 * '.': names a shell, a log line and Ceph all take as they are. NULL when
 * good, else the reason, a phrase ("no '/' between pool and image"). */
const char *rbd_target_parse(const char *s, size_t len, struct rbd_target *t);

/* "rbd:POOL/IMAGE[@SNAP]" into out (at least RBD_TARGET_MAX + 1 bytes
 * for the whole of it); returns what snprintf returns. */
int rbd_target_str(const struct rbd_target *t, char *out, size_t outlen);

/* A 64-bit key for the image (the snapshot included): what a file's
 * (st_dev, st_ino) is to nbdd's claims, overlays and TLS rules. */
uint64_t rbd_target_key(const struct rbd_target *t);

/* The daemons' -C [ID@]CONF. */
struct rbd_client_arg {
	char id[RBD_ID_MAX + 1];	/* client.ID; "admin" when not given */
	char conf[PATH_MAX];		/* an absolute path */
};

/* NULL when good, else the reason. */
const char *rbd_client_arg_parse(const char *arg, struct rbd_client_arg *a);

#endif
