#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

#define ERR_KEEP 4096

extern char **environ;

int
have_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (path == NULL)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

static void
last_line(const char *err, size_t len, char *buf, size_t buflen)
{
	size_t end = len, start;

	while (end > 0 && (err[end - 1] == '\n' || err[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && err[start - 1] != '\n')
		start--;
	snprintf(buf, buflen, "%.*s", (int)(end - start), err + start);
}

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *nb;
	size_t c = *cap ? *cap : 65536;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if ((nb = realloc(*buf, c)) == NULL)
		return -1;
	*buf = nb;
	*cap = c;
	return 0;
}

int
run(const char *const argv[], struct run_io *io, char *why, size_t whylen)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2];
	char err[ERR_KEEP], line[512];
	size_t errlen = 0, inoff = 0, outcap = 0;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int status, saved, want_out = io != NULL && io->out_fd < 0;
	pid_t pid;

	if (pipe2(perr, O_CLOEXEC) == -1 ||
	    (io && io->in && pipe2(pin, O_CLOEXEC) == -1) ||
	    (want_out && pipe2(pout, O_CLOEXEC) == -1)) {
		snprintf(why, whylen, "%s: pipe: %s", argv[0], strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "%s: fork: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		signal(SIGPIPE, SIG_DFL);
		dup2(pin[0] >= 0 ? pin[0] : devnull, 0);
		if (io && io->out_fd >= 0)
			dup2(io->out_fd, 1);
		else if (want_out)
			dup2(pout[1], 1);
		else
			dup2(perr[1], 1);
		dup2(perr[1], 2);
		for (const char *const *e = io ? io->env : NULL; e && *e; e++)
			putenv((char *)*e);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(perr[1]);
	if (pin[0] >= 0)
		close(pin[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	/* Never block on the child's stdin while it waits for us to read. */
	if (pin[1] >= 0)
		(void)fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (pin[1] >= 0 && io->inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	for (;;) {
		struct pollfd p[3];
		int np = 0, ie = -1, io_ = -1, ii = -1;
		ssize_t n;

		if (perr[0] >= 0) {
			ie = np;
			p[np++] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		}
		if (pout[0] >= 0) {
			io_ = np;
			p[np++] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		}
		if (pin[1] >= 0) {
			ii = np;
			p[np++] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		}
		if (np == 0)
			break;
		if (poll(p, (nfds_t)np, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (ie >= 0 && p[ie].revents) {
			char tmp[4096];

			n = read(perr[0], tmp, sizeof(tmp));
			if (n <= 0) {
				close(perr[0]);
				perr[0] = -1;
			} else {
				/* Keep the tail: the last line says why. */
				if ((size_t)n >= sizeof(err)) {
					memcpy(err, tmp + n - sizeof(err),
					    sizeof(err));
					errlen = sizeof(err);
				} else {
					if (errlen + (size_t)n > sizeof(err)) {
						size_t drop = errlen + (size_t)n -
						    sizeof(err);

						memmove(err, err + drop,
						    errlen - drop);
						errlen -= drop;
					}
					memcpy(err + errlen, tmp, (size_t)n);
					errlen += (size_t)n;
				}
			}
		}
		if (io_ >= 0 && p[io_].revents) {
			if (grow(&out, &outcap, outlen + 65536) == -1) {
				close(pout[0]);
				pout[0] = -1;
				continue;
			}
			n = read(pout[0], out + outlen, 65536);
			if (n <= 0) {
				close(pout[0]);
				pout[0] = -1;
			} else {
				outlen += (size_t)n;
			}
		}
		if (ii >= 0 && p[ii].revents) {
			size_t chunk = io->inlen - inoff;

			if (chunk > 65536)
				chunk = 65536;
			n = write(pin[1], (const uint8_t *)io->in + inoff, chunk);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				close(pin[1]);
				pin[1] = -1;
			} else if ((inoff += (size_t)n) == io->inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (want_out) {
		io->out = out;
		io->outlen = outlen;
	} else {
		free(out);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(err, errlen, line, sizeof(line));
	saved = WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
	    WTERMSIG(status);
	snprintf(why, whylen, "%s exited with status %d%s%s", argv[0], saved,
	    line[0] ? ": " : "", line);
	if (want_out) {
		free(io->out);
		io->out = NULL;
		io->outlen = 0;
	}
	errno = EIO;
	return -1;
}
