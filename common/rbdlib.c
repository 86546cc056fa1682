#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "common/rbdlib.h"

/* Each call's name and where its pointer goes. */
#define SYM(f)	{ #f, (void **)&lib->f }

int
rbdlib_load(struct rbdlib *lib, char *why, size_t whylen)
{
	const char *err;

	memset(lib, 0, sizeof(*lib));
	/* RTLD_LOCAL: nothing of Ceph's is visible to the rest of us. */
	if ((lib->handle = dlopen(RBDLIB_SONAME, RTLD_NOW | RTLD_LOCAL)) ==
	    NULL) {
		err = dlerror();
		snprintf(why, whylen, "cannot load %s (%s): install Debian's "
		    "librbd1 to serve images in Ceph", RBDLIB_SONAME,
		    err ? err : "unknown error");
		return -1;
	}
	struct { const char *name; void **where; } syms[] = {
		SYM(rados_create2), SYM(rados_conf_read_file),
		SYM(rados_conf_set), SYM(rados_conf_get),
		SYM(rados_connect), SYM(rados_shutdown),
		SYM(rados_get_instance_id), SYM(rados_getaddrs),
		SYM(rados_buffer_free),
		SYM(rados_ioctx_create), SYM(rados_ioctx_destroy),
		SYM(rbd_open), SYM(rbd_open_read_only), SYM(rbd_close),
		SYM(rbd_get_size), SYM(rbd_get_features), SYM(rbd_read),
		SYM(rbd_flush),
		SYM(rbd_aio_create_completion), SYM(rbd_aio_get_return_value),
		SYM(rbd_aio_release), SYM(rbd_aio_read), SYM(rbd_aio_write),
		SYM(rbd_aio_flush), SYM(rbd_aio_discard),
		SYM(rbd_aio_write_zeroes), SYM(rbd_diff_iterate2),
		SYM(rbd_lock_acquire), SYM(rbd_lock_release),
		SYM(rbd_list_lockers), SYM(rbd_metadata_get),
		SYM(rbd_metadata_set), SYM(rbd_metadata_remove),
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		(void)dlerror();
		*syms[i].where = dlsym(lib->handle, syms[i].name);
		if (*syms[i].where == NULL) {
			err = dlerror();
			snprintf(why, whylen, "%s has no %s (%s): librbd1 from "
			    "Ceph 16 (pacific) or later is needed",
			    RBDLIB_SONAME, syms[i].name, err ? err :
			    "not found");
			dlclose(lib->handle);
			lib->handle = NULL;
			return -1;
		}
	}
	return 0;
}

void
rbdlib_unload(struct rbdlib *lib)
{
	if (lib->handle != NULL)
		dlclose(lib->handle);
	lib->handle = NULL;
}
