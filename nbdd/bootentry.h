/* tlsauth's window on the boot directory: which image an entry points
 * at, through the same lookup tftpd and dhcpproxyd use (common/bootdir),
 * so nbdd sees the entry exactly as the Pi's boot did. */
#ifndef NBDD_BOOTENTRY_H
#define NBDD_BOOTENTRY_H

#include "nbdd/tlsauth.h"

/* A tlsauth_lookup_fn; ctx points at the boot directory's descriptor
 * (an int). An entry pointing at "IMAGE#N" names IMAGE. An entry nbdd
 * cannot open (permissions) is NONE: nothing would boot from it. */
enum tlsauth_entry bootentry_image(void *ctx, const char *name,
    struct image_id *id);

#endif
