/* layer: I/O */
/* Clean shutdown: SIGTERM and SIGINT arrive on a descriptor that the
 * daemon's event loop polls, so no handler runs in the middle of work. */
#ifndef COMMON_SIGNALS_H
#define COMMON_SIGNALS_H

/* Blocks SIGTERM and SIGINT, ignores SIGPIPE, and returns a non-blocking
 * signalfd for the two, or -1 after logging why. */
int signals_shutdown_fd(void);

/* Reads one pending signal from the descriptor: its number, or 0. */
int signals_read(int fd);

/* An abort (a library's assertion, an uncaught C++ exception in librbd)
 * writes "PROG: aborted" and the stack of the thread that aborted to
 * standard error before the process dies of it as before: what an
 * administrator can report and a developer can read. Faults are left to
 * core dumps and the sanitizers. */
void signals_trace_aborts(const char *progname);

#endif
