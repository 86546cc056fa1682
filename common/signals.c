#include <sys/signalfd.h>
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"

int
signals_shutdown_fd(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		log_err("blocking SIGTERM and SIGINT: %s", strerror(errno));
		return -1;
	}
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_err("signalfd: %s", strerror(errno));
		return -1;
	}
	return fd;
}

int
signals_read(int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

/* Written by the handler, which may use only what is safe in one: the
 * name, prepared once. */
static char abort_line[128];
static size_t abort_len;

static void
trace_abort(int sig)
{
	void *frames[64];
	int n;

	(void)!write(STDERR_FILENO, abort_line, abort_len);
	n = backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
signals_trace_aborts(const char *progname)
{
	struct sigaction sa = { .sa_handler = trace_abort };
	void *frame;
	int len;

	len = snprintf(abort_line, sizeof(abort_line),
	    "%s: aborted; the stack of the thread that aborted:\n", progname);
	abort_len = len > 0 && (size_t)len < sizeof(abort_line) ?
	    (size_t)len : 0;
	/* The first backtrace() loads the unwinder, which a handler must
	 * not. */
	backtrace(&frame, 1);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGABRT, &sa, NULL) == -1)
		log_warn("no stack trace on an abort: sigaction: %s",
		    strerror(errno));
}
