/* layer: I/O */
/* librbd and librados, loaded at run time (dlopen) when a daemon is given
 * -C, and only then: the daemons link no Ceph library, so a server
 * without Ceph's libraries runs them as before, and one with them loads
 * them only to serve images in a cluster. Built against librbd-dev's
 * headers, so each call has librbd's own type. This file is the one place
 * that names the libraries. */
#ifndef COMMON_RBDLIB_H
#define COMMON_RBDLIB_H

#include <stddef.h>
#include <rbd/librbd.h>

#define RBDLIB_SONAME	"librbd.so.1"	/* Debian: librbd1 */

#define RBDLIB_FN(f)	__typeof__(f) *f

struct rbdlib {
	void *handle;
	RBDLIB_FN(rados_create2);
	RBDLIB_FN(rados_conf_read_file);
	RBDLIB_FN(rados_conf_set);
	RBDLIB_FN(rados_conf_get);
	RBDLIB_FN(rados_connect);
	RBDLIB_FN(rados_shutdown);
	RBDLIB_FN(rados_get_instance_id);
	RBDLIB_FN(rados_getaddrs);
	RBDLIB_FN(rados_buffer_free);
	RBDLIB_FN(rados_ioctx_create);
	RBDLIB_FN(rados_ioctx_destroy);
	RBDLIB_FN(rbd_open);
	RBDLIB_FN(rbd_open_read_only);
	RBDLIB_FN(rbd_close);
	RBDLIB_FN(rbd_get_size);
	RBDLIB_FN(rbd_get_features);
	RBDLIB_FN(rbd_read);
	RBDLIB_FN(rbd_flush);
	RBDLIB_FN(rbd_aio_create_completion);
	RBDLIB_FN(rbd_aio_get_return_value);
	RBDLIB_FN(rbd_aio_release);
	RBDLIB_FN(rbd_aio_read);
	RBDLIB_FN(rbd_aio_write);
	RBDLIB_FN(rbd_aio_flush);
	RBDLIB_FN(rbd_aio_discard);
	RBDLIB_FN(rbd_aio_write_zeroes);
	RBDLIB_FN(rbd_diff_iterate2);
	RBDLIB_FN(rbd_lock_acquire);
	RBDLIB_FN(rbd_lock_release);
	RBDLIB_FN(rbd_list_lockers);
	RBDLIB_FN(rbd_metadata_get);
	RBDLIB_FN(rbd_metadata_set);
	RBDLIB_FN(rbd_metadata_remove);
};

/* Loads librbd (and through it librados) and every call above. 0, or -1
 * with why naming the library and the package that brings it. */
int rbdlib_load(struct rbdlib *lib, char *why, size_t whylen);
void rbdlib_unload(struct rbdlib *lib);

#endif
