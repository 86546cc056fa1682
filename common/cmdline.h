/* layer: setup */
/* The command line every daemon of the suite shares: the same letter means
 * the same thing in all three. A daemon adds its own flags through extras. */
#ifndef COMMON_CMDLINE_H
#define COMMON_CMDLINE_H

#include <stdint.h>
#include <stdio.h>

#include "common/numarg.h"

struct cmdline {
	const char *root;		/* -r DIR */
	const char *listen_addr;	/* -l ADDR, NULL for all addresses */
	uint16_t port;			/* -p PORT */
	int inetd;			/* -i: the socket is fd 0 */
	const char *user;		/* -u USER, NULL to keep the user */
	int use_syslog;			/* -s */
	int verbose;			/* -v, repeatable */
};

/* One daemon-specific flag. */
struct cmdline_extra {
	int ch;			/* short letter; 0 ends the list */
	const char *name;	/* long name */
	const char *arg;	/* argument name for the usage, NULL if none */
	const char *help;	/* one line for -h */
};

struct cmdline_spec {
	const char *progname;
	const char *summary;		/* what the daemon does, one line */
	const char *default_root;
	uint16_t default_port;
	const struct cmdline_extra *extras;	/* may be NULL */
	/* Called for each extra flag with its argument (NULL if it takes
	 * none). Returns NULL when the value is good, else the reason it is
	 * not, which the parser reports next to the flag. */
	const char *(*handle)(void *ctx, int ch, const char *arg);
	void *ctx;
};

enum cmdline_result {
	CMDLINE_RUN,		/* go on and serve */
	CMDLINE_EXIT_OK,	/* -h or -V printed; exit 0 */
	CMDLINE_EXIT_USAGE,	/* error and usage printed; exit 2 */
};

/* Parses argv into cl. Help and version go to out, errors to err. */
enum cmdline_result cmdline_parse(struct cmdline *cl,
    const struct cmdline_spec *spec, int argc, char *argv[], FILE *out,
    FILE *err);

/* What each daemon's main does first: parses argv, exiting 0 after -h or
 * -V and 2 after a usage error, then starts logging as the flags say. */
void cmdline_start(struct cmdline *cl, const struct cmdline_spec *spec,
    int argc, char *argv[]);

/* Whether log lines must go to syslog: -s, or inetd mode with standard
 * error a socket (inetd hands the client's socket over as fds 0, 1 and 2:
 * a line on stderr would land in the client's stream). */
int cmdline_wants_syslog(const struct cmdline *cl);

#endif
