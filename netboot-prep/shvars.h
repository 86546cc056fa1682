/* layer: pure */
/* Files of the form VAR=value that a distribution's hooks read, such as
 * Debian's /etc/default/raspi-firmware (ROOTPART=), whose kernel hook
 * writes cmdline.txt anew on every kernel update. Pure. */
#ifndef NETBOOT_PREP_SHVARS_H
#define NETBOOT_PREP_SHVARS_H

#include <stddef.h>

/* Sets var to value: the first assignment (commented out or not) is
 * replaced by var=value, later live ones are commented out; without one,
 * the line is appended. Returns 0, or -1 when out is too small. */
int shvar_set(const char *in, size_t len, const char *var,
    const char *value, char *out, size_t outlen);

#endif
