/* layer: pure */
/* Numbers in a flag's argument, as every program's command line and
 * dhcpproxyd's -b ARCH=FILE take them: a decimal count in a range, a
 * port. Each returns NULL, or a fixed string saying what is wrong. */
#ifndef COMMON_NUMARG_H
#define COMMON_NUMARG_H

#include <stdint.h>

/* Parses a port number 1-65535; returns NULL or the reason it is bad. */
const char *cmdline_port(const char *arg, uint16_t *port);

/* Parses a decimal count in [min, max]; returns NULL or the reason. */
const char *cmdline_count(const char *arg, long long min, long long max,
    long long *value);

#endif
