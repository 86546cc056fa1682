#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "log.h"

/* The one piece of process-wide state in common/: who we are and where log
 * lines go, set once by main() before anything else runs. */
static struct {
	const char *progname;
	int use_syslog;
	enum log_level max;
} logger = { "netboot", 0, LOG_LEVEL_INFO };

void
log_init(const char *progname, int use_syslog, int verbose)
{
	logger.progname = progname;
	logger.use_syslog = use_syslog;
	if (verbose < 0)
		verbose = 0;
	if (verbose > 2)
		verbose = 2;
	logger.max = LOG_LEVEL_INFO + verbose;
	if (use_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_enabled(enum log_level level)
{
	return level <= logger.max;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
		LOG_DEBUG, LOG_DEBUG };
	static const char *const tag[] = { "error: ", "warning: ", "", "",
		"" };

	if (!log_enabled(level))
		return;
	if (logger.use_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	/* One fprintf per line so concurrent writers do not interleave. */
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", logger.progname, tag[level], line);
}

#define LOG_FN(name, level)					\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		va_start(ap, fmt);				\
		log_vwrite(level, fmt, ap);			\
		va_end(ap);					\
	}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_trace, LOG_LEVEL_TRACE)

void
log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
