/* layer: pure */
/* Which boot entry a machine boots by. A machine may be known by several
 * names, tried in order: its own entries (its serial, its MAC entry) and
 * last "default", the entry of every Pi without one of its own. The first
 * name that is there decides, and an entry that is there but broken
 * decides too: the machine is refused, and never boots what default (or
 * a later name) points at in its place, for the entry shows the
 * administrator meant it to boot something else. tftpd and dhcpproxyd
 * follow this one rule. Pure: the boot directory is asked through a
 * callback (bootdir_look or bootdir_open, in the I/O layer). */
#ifndef COMMON_BOOTPICK_H
#define COMMON_BOOTPICK_H

#include <stddef.h>

#include "common/bootname.h"

#define BOOTPICK_DEFAULT	"default"

/* Looks the entry NAME up. */
typedef enum boot_entry_type (*bootpick_look_fn)(void *ctx,
    const char *name);

/* Asks look for names[0], names[1], ... in order and returns what the
 * first name that is there is: DIR, FILE or BROKEN, with its index in
 * *picked. NONE, *picked n, when none is there. No name after the one
 * that decides is asked for. */
enum boot_entry_type bootpick(const char *const *names, size_t n,
    bootpick_look_fn look, void *ctx, size_t *picked);

#endif
