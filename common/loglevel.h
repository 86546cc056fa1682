/* layer: pure */
/* How much a log line matters: what pure code decides for a line that
 * the I/O layer then writes (log.h) or leaves out below -v. */
#ifndef COMMON_LOGLEVEL_H
#define COMMON_LOGLEVEL_H

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,	/* the default: one line per finished job */
	LOG_LEVEL_DEBUG,	/* -v: probes, not-found, ignored packets */
	LOG_LEVEL_TRACE,	/* -vv: per-packet detail */
};

#endif
