/* layer: I/O */
/* Logging shared by the daemons: stderr with the program name (for runit,
 * systemd and a terminal) or syslog (-s). -v raises the level. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

#include "common/loglevel.h"

/* verbose counts -v flags: 0 logs up to INFO, 1 DEBUG, 2 and more TRACE. */
void log_init(const char *progname, int use_syslog, int verbose);
int log_enabled(enum log_level level);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fatal setup error: logs at ERR and exits with status 1. */
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
