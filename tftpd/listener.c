/* The request port's I/O: datagrams read, the host checked, the name
 * opened, the ERROR sent, the decision's line logged. What each datagram
 * gets is decided in request.c. */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/listen.h"
#include "common/log.h"
#include "tftpd/netascii.h"
#include "tftpd/packet.h"
#include "tftpd/request.h"
#include "tftpd/resolve.h"
#include "tftpd/server.h"

#define REQUESTS_PER_WAKEUP	32	/* then let transfers have a turn */

/* The datagram being handled, for the host check and the answer. */
struct datagram {
	struct server *s;
	const struct sockaddr *peer;
	socklen_t plen;
	struct sockaddr_storage local;	/* where it was sent to */
	socklen_t llen;
	char peer_str[PEER_STR_LEN];
};

static int
host_allowed(void *ctx)
{
	struct datagram *dg = ctx;

	return access_check(&dg->s->access, dg->peer, dg->plen, dg->peer_str,
	    "TFTP request", dg->s->last_activity_ms);
}

/* Answers a request with an ERROR from a fresh port: the RFC's transfer
 * ID rule, so clients that lock onto the reply's port accept it. */
static void
send_error(struct datagram *dg, uint16_t code, const char *msg)
{
	struct server *s = dg->s;
	size_t len = packet_build_error(s->tx, sizeof(s->tx), code, msg);
	int fd;

	if ((fd = transfer_socket(&dg->local, dg->llen, dg->peer_str,
	    0)) == -1)
		return;
	send_one(fd, dg->peer, dg->plen, s->tx, len, dg->peer_str);
	close(fd);
}

/* The one line a request gets, if any: lines at info level and above go
 * through the request port's rate limit. */
static void
log_decision(struct datagram *dg, const struct request_decision *d)
{
	char more[48] = "";
	uint32_t held;

	if (d->line[0] == '\0' || !log_enabled(d->level) ||
	    !request_log_admit(d, &dg->s->request_log,
	    dg->s->last_activity_ms, &held))
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (%u similar lines held back)",
		    held);
	switch (d->level) {
	case LOG_LEVEL_ERR:
		log_err("%s: %s%s", dg->peer_str, d->line, more);
		break;
	case LOG_LEVEL_WARN:
		log_warn("%s: %s%s", dg->peer_str, d->line, more);
		break;
	case LOG_LEVEL_INFO:
		log_info("%s: %s%s", dg->peer_str, d->line, more);
		break;
	default:
		log_debug("%s: %s%s", dg->peer_str, d->line, more);
		break;
	}
}

/* Logs a refusal's line and sends its ERROR. */
static void
refuse(struct datagram *dg, const struct request_decision *d)
{
	log_decision(dg, d);
	send_error(dg, d->error, d->message);
}

/* The request opened (st, src, why as resolve_open gives them): its
 * transfer, or its ERROR and line. */
static void
start_transfer(struct datagram *dg, struct request_decision *d,
    enum source_status st, struct source *src, const char *why)
{
	struct source *wrapped;
	char name[TFTPD_PATH_MAX + 1];

	request_opened(d, st, why);
	if (d->action == REQUEST_REFUSE) {
		refuse(dg, d);
		return;
	}
	if (d->req.netascii) {
		if (netascii_wrap(src, &wrapped) != SOURCE_OK) {
			packet_printable(name, sizeof(name), d->req.filename,
			    d->req.filename_len);
			log_err("%s: %s: netascii: out of memory", dg->peer_str,
			    name);
			send_error(dg, TFTP_EUNDEF, "Out of memory");
			return;
		}
		src = wrapped;
	}
	if (src->size == SOURCE_SIZE_UNKNOWN)
		log_debug("%s: %s: netascii of %llu bytes, blksize %u, "
		    "windowsize %u", dg->peer_str, src->name,
		    (unsigned long long)src->size_hint, d->params.blksize,
		    d->params.windowsize);
	else
		log_debug("%s: %s: %llu bytes, blksize %u, windowsize %u",
		    dg->peer_str, src->name, (unsigned long long)src->size,
		    d->params.blksize, d->params.windowsize);
	if (conn_open(dg->s, &dg->local, dg->llen, dg->peer, dg->plen,
	    dg->peer_str, src, &d->params, !d->req.netascii) == -1)
		send_error(dg, TFTP_EUNDEF, "Server error, try again");
}

/* Whether a request of the client at peer waits for a worker. */
static int
pending_of_peer(const struct server *s, const struct sockaddr *peer,
    socklen_t plen)
{
	for (const struct pending *p = s->pending; p != NULL; p = p->next)
		if (same_addr(&p->peer, peer, plen))
			return 1;
	return 0;
}

/* Hands a request for a file in Ceph to a worker: job's fields are set
 * (resolve_open_ceph); the rest of the request is kept for on_fetched. */
static void
fetch(struct datagram *dg, struct request_decision *d, struct pending *p)
{
	struct server *s = dg->s;

	memcpy(p->filename, d->req.filename, d->req.filename_len);
	p->d = *d;
	p->d.req.filename = p->filename;
	p->d.req.nopts = 0;	/* they point into the datagram */
	memcpy(&p->peer, dg->peer, dg->plen);
	p->plen = dg->plen;
	p->local = dg->local;
	p->llen = dg->llen;
	strlcpy(p->peer_str, dg->peer_str, sizeof(p->peer_str));
	p->prev = NULL;
	p->next = s->pending;
	if (s->pending != NULL)
		s->pending->prev = p;
	s->pending = p;
	s->npending++;
	rbdfetch_submit(&s->fetch, &p->job);
}

void
on_fetched(struct server *s)
{
	struct rbdfetch_job *j, *next;

	for (j = rbdfetch_take(&s->fetch); j != NULL; j = next) {
		struct pending *p = (struct pending *)j;
		struct datagram dg = { .s = s,
		    .peer = (struct sockaddr *)&p->peer, .plen = p->plen,
		    .local = p->local, .llen = p->llen };

		next = j->next;
		strlcpy(dg.peer_str, p->peer_str, sizeof(dg.peer_str));
		if (p->prev != NULL)
			p->prev->next = p->next;
		else
			s->pending = p->next;
		if (p->next != NULL)
			p->next->prev = p->prev;
		s->npending--;
		s->last_activity_ms = monotonic_ms();
		start_transfer(&dg, &p->d, j->st, j->src, j->why);
		free(p);
	}
}

static void
on_request(struct server *s, int lfd, const uint8_t *buf, size_t len,
    struct msghdr *mh)
{
	struct datagram dg = { .s = s, .peer = mh->msg_name,
	    .plen = mh->msg_namelen };
	struct request_facts facts = { s->ntransfers + s->npending,
	    s->max_transfers, log_enabled(LOG_LEVEL_DEBUG), host_allowed,
	    &dg };
	struct request_decision d;
	struct source *src;
	struct pending *p = NULL;
	enum source_status st;
	char why[SOURCE_WHY_LEN];

	addr_port_str(dg.peer, dg.plen, 0, dg.peer_str,
	    sizeof(dg.peer_str));
	/* Its client asking again: its transfer answers (late, or held
	 * for older boots: tftpd(8), OVERLOAD), or will once its file in
	 * Ceph is read. */
	if (conn_of_peer(s, dg.peer, dg.plen) ||
	    pending_of_peer(s, dg.peer, dg.plen)) {
		log_debug("%s: request again: its transfer answers it",
		    dg.peer_str);
		return;
	}
	datagram_local_addr(lfd, mh, &dg.local, &dg.llen, NULL);
	request_decide(buf, len, &facts, &d);
	switch (d.action) {
	case REQUEST_DROP:
		log_decision(&dg, &d);
		return;
	case REQUEST_REFUSE:
		refuse(&dg, &d);
		return;
	case REQUEST_OPEN:
		break;
	}
	if (s->ceph != NULL && (p = calloc(1, sizeof(*p))) == NULL) {
		log_err("%s: request: %s", dg.peer_str, strerror(errno));
		send_error(&dg, TFTP_EUNDEF, "Out of memory");
		return;
	}
	st = resolve_open_ceph(s->rootfd, d.req.filename, d.req.filename_len,
	    p != NULL ? &p->job : NULL, &src, why, sizeof(why));
	if (st == SOURCE_IN_CEPH) {
		fetch(&dg, &d, p);
		return;
	}
	free(p);
	start_transfer(&dg, &d, st, src, why);
}

void
on_listener(struct server *s, int lfd)
{
	struct sockaddr_storage peer;
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(struct in_pktinfo))];
	} cbuf;
	struct iovec iov = { s->rx, sizeof(s->rx) };
	struct msghdr mh;
	ssize_t n;

	for (int i = 0; i < REQUESTS_PER_WAKEUP; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		if ((n = recvmsg(lfd, &mh, 0)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("receiving a request: %s",
				    strerror(errno));
			return;
		}
		s->last_activity_ms = monotonic_ms();
		on_request(s, lfd, s->rx, (size_t)n, &mh);
	}
}
