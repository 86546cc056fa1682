/* layer: pure */
/* What goes into the archive netboot-prep appends to an initramfs, as
 * nbd-client's own initramfs hook would have put it there (hooks/nbd:
 * manual_add_modules nbd, auto_add_modules net, copy_exec nbd-client),
 * decided from the image's files. Pure. */
#ifndef NETBOOT_PREP_INITPARTS_H
#define NETBOOT_PREP_INITPARTS_H

#include <stddef.h>

/* Whether a module under kernel/drivers/net (path relative to it, such
 * as "ethernet/broadcom/genet/genet.ko") is one initramfs-tools'
 * auto_add_modules net leaves out (wireless, WAN, bonding, tun, ...). */
int net_module_excluded(const char *rel);

/* The dependencies of module (a path as modules.dep names it, such as
 * "kernel/drivers/block/nbd.ko") from modules.dep's text: calls cb for
 * each. Returns 1 when the module has a line, else 0. */
int modules_dep_of(const char *dep, size_t len, const char *module,
    void (*cb)(void *ctx, const char *path, size_t plen), void *ctx);

/* A module's name from its path: "kernel/fs/ext4/ext4.ko.xz" gives
 * "ext4", with '-' as '_' as modprobe compares them. */
void module_name(const char *path, size_t len, char *out, size_t outlen);

/* The modules a module wants loaded with it but does not link against
 * (modules.softdep: "softdep ext4 pre: crypto-crc32c"): cb gets each
 * name or alias. */
void modules_softdeps(const char *softdep, size_t len, const char *name,
    void (*cb)(void *ctx, const char *dep, size_t dlen), void *ctx);

/* The path modules.dep gives a module name or an alias of modules.alias
 * ("alias crypto-crc32c crc32c_generic"); cb gets each. */
void modules_resolve(const char *dep, size_t deplen, const char *alias,
    size_t aliaslen, const char *name,
    void (*cb)(void *ctx, const char *path, size_t plen), void *ctx);

/* scripts/local-top/ORDER with nbd first: initramfs-tools runs a
 * directory's scripts in the order that file gives, so a script that
 * is not in it does not run. Any nbd line already there is dropped.
 * Returns 0, or -1 when out is too small. */
int order_with_nbd(const char *order, size_t len, char *out, size_t outlen);

#endif
