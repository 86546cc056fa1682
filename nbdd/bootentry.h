/* layer: I/O */
/* tlsauth's window on the boot directory: which image an entry points
 * at, through the same lookup tftpd and dhcpproxyd use (common/bootdir),
 * so nbdd sees the entry exactly as the Pi's boot did. */
#ifndef NBDD_BOOTENTRY_H
#define NBDD_BOOTENTRY_H

#include "nbdd/tlsauth.h"

/* A tlsauth_lookup_fn; ctx points at the boot directory's descriptor
 * (an int). An entry pointing at "IMAGE#N" names IMAGE. A broken entry
 * (dangling, a FIFO, an image nbdd's user cannot open: bootdir.h) is
 * BROKEN, not NONE: it is there, so the identity it names must not fall
 * back to what default boots, as tftpd and dhcpproxyd refuse that Pi. */
enum tlsauth_entry bootentry_image(void *ctx, const char *name,
    struct image_id *id);

#endif
