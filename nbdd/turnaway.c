#include <sys/socket.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "nbdd/turnaway.h"

#define TURNAWAY_READ	1024

void
turnaways_init(struct turnaways *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < ADM_REFUSING_MAX; i++)
		t->slot[i].fd = -1;
}

static void
finish(struct turnaways *t, struct turnaway *ta, const char *how)
{
	log_debug("%s: refused host: %s, %d option%s answered", ta->peer, how,
	    ta->talk.answered, ta->talk.answered == 1 ? "" : "s");
	close(ta->fd);
	ta->fd = -1;
	t->n--;
}

/* Sends a reply whole without waiting: a refused host's replies are a
 * few hundred bytes in all, so a socket that cannot take them at once
 * belongs to a client that does not read. */
static int
send_now(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	return n == (ssize_t)len ? 0 : -1;
}

int
turnaway_start(struct turnaways *t, int fd, const struct netaddr *host,
    const char *addr, const char *peer, int64_t deadline)
{
	uint8_t greeting[HS_GREETING_SIZE];
	struct turnaway *ta = NULL;

	for (int i = 0; i < ADM_REFUSING_MAX && ta == NULL; i++)
		if (t->slot[i].fd == -1)
			ta = &t->slot[i];
	if (ta == NULL) {
		/* admission.h's bounds keep one free. */
		log_err("%s: refused host: no room to tell it why", peer);
		close(fd);
		return -1;
	}
	if (send_now(fd, greeting, refusal_greeting(greeting)) == -1) {
		log_debug("%s: refused host: greeting: %s", peer,
		    strerror(errno));
		close(fd);
		return -1;
	}
	ta->fd = fd;
	ta->deadline = deadline;
	ta->host = *host;
	strlcpy(ta->peer, peer, sizeof(ta->peer));
	refusal_init(&ta->talk, addr);
	t->n++;
	return 0;
}

int
turnaway_count(const struct turnaways *t, const struct netaddr *host)
{
	int n = 0;

	for (int i = 0; i < ADM_REFUSING_MAX; i++)
		if (t->slot[i].fd != -1 &&
		    adm_same_host(&t->slot[i].host, host))
			n++;
	return n;
}

int
turnaway_pollfds(const struct turnaways *t, struct pollfd *pfd)
{
	int n = 0;

	for (int i = 0; i < ADM_REFUSING_MAX; i++)
		if (t->slot[i].fd != -1)
			pfd[n++] = (struct pollfd){ .fd = t->slot[i].fd,
			    .events = POLLIN };
	return n;
}

/* What arrived: answered. 0 to go on, -1 when the talk is over. */
static int
talk(struct turnaway *ta, const char **how)
{
	uint8_t in[TURNAWAY_READ], out[REFUSAL_REPLY_MAX];
	size_t pos = 0, outlen;
	ssize_t n;

	if ((n = recv(ta->fd, in, sizeof(in), MSG_DONTWAIT)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		*how = strerror(errno);
		return -1;
	}
	if (n == 0) {
		*how = "it closed the connection";
		return -1;
	}
	while (pos < (size_t)n && !refusal_over(&ta->talk)) {
		pos += refusal_feed(&ta->talk, in + pos, (size_t)n - pos, out,
		    &outlen);
		if (outlen > 0 && send_now(ta->fd, out, outlen) == -1) {
			*how = "it does not read its replies";
			return -1;
		}
	}
	if (refusal_over(&ta->talk)) {
		*how = "told why";
		return -1;
	}
	return 0;
}

void
turnaway_events(struct turnaways *t, const struct pollfd *pfd, int n,
    int64_t now_ms)
{
	const char *how;
	int k = 0;

	for (int i = 0; i < ADM_REFUSING_MAX; i++) {
		struct turnaway *ta = &t->slot[i];

		if (ta->fd == -1)
			continue;
		/* pfd lists the slots in use, in order. */
		if (k < n && pfd[k].fd == ta->fd) {
			if ((pfd[k++].revents & (POLLIN | POLLERR | POLLHUP)) &&
			    talk(ta, &how) == -1) {
				finish(t, ta, how);
				continue;
			}
		}
		if (now_ms >= ta->deadline)
			finish(t, ta, "out of time");
	}
}

int
turnaway_timeout(const struct turnaways *t, int64_t now_ms)
{
	int64_t next = -1;

	for (int i = 0; i < ADM_REFUSING_MAX; i++) {
		const struct turnaway *ta = &t->slot[i];

		if (ta->fd != -1 && (next == -1 || ta->deadline < next))
			next = ta->deadline;
	}
	if (next == -1)
		return -1;
	return next <= now_ms ? 0 : (int)(next - now_ms);
}

void
turnaways_close(struct turnaways *t)
{
	for (int i = 0; i < ADM_REFUSING_MAX; i++)
		if (t->slot[i].fd != -1)
			finish(t, &t->slot[i], "nbdd is shutting down");
}
