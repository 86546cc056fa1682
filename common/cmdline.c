#include <sys/stat.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "log.h"
#include "signals.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define MAX_FLAGS 32

struct common_flag {
	int ch;
	const char *name;
	const char *arg;
	const char *help;
};

static const struct common_flag common_flags[] = {
	{ 'r', "root", "DIR", "directory served or consulted" },
	{ 'l', "listen", "ADDR", "listen on this address only" },
	{ 'p', "port", "PORT", "port to listen on" },
	{ 'i', "inetd", NULL, "inetd mode: the socket is fd 0" },
	{ 'u', "user", "USER", "drop privileges to USER after binding" },
	{ 's', "syslog", NULL, "log to syslog instead of stderr" },
	{ 'v', "verbose", NULL, "log more (repeatable)" },
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ 0, NULL, NULL, NULL },
};

void
cmdline_start(struct cmdline *cl, const struct cmdline_spec *spec, int argc,
    char *argv[])
{
	switch (cmdline_parse(cl, spec, argc, argv, stdout, stderr)) {
	case CMDLINE_EXIT_OK:
		exit(0);
	case CMDLINE_EXIT_USAGE:
		exit(2);
	case CMDLINE_RUN:
		break;
	}
	log_init(spec->progname, cmdline_wants_syslog(cl), cl->verbose);
	signals_trace_aborts(spec->progname);
}

int
cmdline_wants_syslog(const struct cmdline *cl)
{
	struct stat st;

	if (cl->use_syslog)
		return 1;
	return cl->inetd && fstat(2, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void
usage_line(const struct cmdline_spec *spec, FILE *f)
{
	const struct cmdline_extra *e;

	fprintf(f, "usage: %s [-hisvV]", spec->progname);
	for (const struct common_flag *c = common_flags; c->ch; c++)
		if (c->arg)
			fprintf(f, " [-%c %s]", c->ch, c->arg);
	for (e = spec->extras; e && e->ch; e++) {
		if (e->arg)
			fprintf(f, " [-%c %s]", e->ch, e->arg);
		else
			fprintf(f, " [-%c]", e->ch);
	}
	fputc('\n', f);
}

static void
help(const struct cmdline_spec *spec, FILE *f)
{
	const struct cmdline_extra *e;
	char left[64];

	fprintf(f, "%s: %s\n", spec->progname, spec->summary);
	usage_line(spec, f);
	for (const struct common_flag *c = common_flags; c->ch; c++) {
		snprintf(left, sizeof(left), "-%c, --%s%s%s", c->ch, c->name,
		    c->arg ? " " : "", c->arg ? c->arg : "");
		fprintf(f, "  %-24s %s", left, c->help);
		if (c->ch == 'r')
			fprintf(f, " (default %s)", spec->default_root);
		else if (c->ch == 'p')
			fprintf(f, " (default %u)", spec->default_port);
		fputc('\n', f);
	}
	for (e = spec->extras; e && e->ch; e++) {
		snprintf(left, sizeof(left), "-%c, --%s%s%s", e->ch, e->name,
		    e->arg ? " " : "", e->arg ? e->arg : "");
		fprintf(f, "  %-24s %s\n", left, e->help);
	}
}

static enum cmdline_result
bad_usage(const struct cmdline_spec *spec, FILE *err, const char *flag,
    const char *arg, const char *why)
{
	if (arg)
		fprintf(err, "%s: %s %s: %s\n", spec->progname, flag, arg, why);
	else
		fprintf(err, "%s: %s: %s\n", spec->progname, flag, why);
	usage_line(spec, err);
	return CMDLINE_EXIT_USAGE;
}

enum cmdline_result
cmdline_parse(struct cmdline *cl, const struct cmdline_spec *spec, int argc,
    char *argv[], FILE *out, FILE *err)
{
	struct option longopts[MAX_FLAGS + 1];
	char shortopts[2 * MAX_FLAGS + 2];
	size_t n = 0, s = 0;
	const struct cmdline_extra *e;
	char flagname[80];
	const char *why;
	int ch;

	memset(cl, 0, sizeof(*cl));
	cl->root = spec->default_root;
	cl->port = spec->default_port;

	/* Leading ':' makes getopt report a missing argument as ':'. */
	shortopts[s++] = ':';
	for (const struct common_flag *c = common_flags; c->ch; c++) {
		longopts[n++] = (struct option){ c->name,
		    c->arg ? required_argument : no_argument, NULL, c->ch };
		shortopts[s++] = (char)c->ch;
		if (c->arg)
			shortopts[s++] = ':';
	}
	for (e = spec->extras; e && e->ch && n < MAX_FLAGS; e++) {
		longopts[n++] = (struct option){ e->name,
		    e->arg ? required_argument : no_argument, NULL, e->ch };
		shortopts[s++] = (char)e->ch;
		if (e->arg)
			shortopts[s++] = ':';
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[s] = '\0';

	optind = 0;	/* glibc: full reset, so tests can parse repeatedly */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		/* Name the flag by its letter, however it was spelled. */
		snprintf(flagname, sizeof(flagname), "-%c", ch);
		switch (ch) {
		case 'r':
			if (*optarg == '\0')
				return bad_usage(spec, err, flagname, NULL,
				    "empty directory name");
			cl->root = optarg;
			break;
		case 'l': {
			unsigned char buf[sizeof(struct in6_addr)];
			if (inet_pton(AF_INET, optarg, buf) != 1 &&
			    inet_pton(AF_INET6, optarg, buf) != 1)
				return bad_usage(spec, err, flagname, optarg,
				    "not an IPv4 or IPv6 address");
			cl->listen_addr = optarg;
			break;
		}
		case 'p':
			if ((why = cmdline_port(optarg, &cl->port)) != NULL)
				return bad_usage(spec, err, flagname, optarg,
				    why);
			break;
		case 'i':
			cl->inetd = 1;
			break;
		case 'u':
			if (*optarg == '\0')
				return bad_usage(spec, err, flagname, NULL,
				    "empty user name");
			cl->user = optarg;
			break;
		case 's':
			cl->use_syslog = 1;
			break;
		case 'v':
			cl->verbose++;
			break;
		case 'h':
			help(spec, out);
			return CMDLINE_EXIT_OK;
		case 'V':
			fprintf(out, "%s %s\n", spec->progname, VERSION);
			return CMDLINE_EXIT_OK;
		case ':':
			snprintf(flagname, sizeof(flagname), "-%c", optopt);
			return bad_usage(spec, err, flagname, NULL,
			    "needs an argument");
		case '?':
			/* optopt is 0 for an unknown long flag. */
			if (optopt)
				snprintf(flagname, sizeof(flagname), "-%c",
				    optopt);
			else
				snprintf(flagname, sizeof(flagname), "%s",
				    argv[optind - 1]);
			flagname[strcspn(flagname, "=")] = '\0';
			return bad_usage(spec, err, flagname, NULL,
			    "unknown flag");
		default:
			why = spec->handle ? spec->handle(spec->ctx, ch,
			    optarg) : "unknown flag";
			if (why != NULL)
				return bad_usage(spec, err, flagname, optarg,
				    why);
			break;
		}
	}
	if (optind < argc)
		return bad_usage(spec, err, argv[optind], NULL,
		    "unexpected argument");
	return CMDLINE_RUN;
}
