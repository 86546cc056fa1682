/* A transfer's own port: sending its windows, reading its client's
 * packets, answering strangers, its timers and its log line. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tftpd/packet.h"
#include "tftpd/server.h"

#define GSO_MAX_BYTES		60000	/* one UDP GSO send, under 64 KiB */
#define GSO_MAX_SEGS		64	/* the kernel's UDP_MAX_SEGMENTS */

/* The client's address alone (its port changes from one transfer to the
 * next), as the key of what tftpd remembers of it. An IPv4-mapped IPv6
 * address is the IPv4 address it maps. */
static int
peer_key(const struct sockaddr_storage *ss, const void **key, size_t *len)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	switch (ss->ss_family) {
	case AF_INET:
		*key = &sin->sin_addr;
		*len = sizeof(sin->sin_addr);
		return 0;
	case AF_INET6:
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			*key = &sin6->sin6_addr.s6_addr[12];
			*len = 4;
		} else {
			*key = &sin6->sin6_addr;
			*len = sizeof(sin6->sin6_addr);
		}
		return 0;
	}
	return -1;
}

/* What the transfer learnt of its client's round trip is kept for the
 * client's next transfer. Only what it measured itself: a seed passed on
 * unchanged would only look younger than it is. */
static void
remember_rtt(struct server *s, struct conn *c, uint64_t now)
{
	const void *key;
	size_t len;

	if (c->xfer.sampled && peer_key(&c->peer, &key, &len) == 0)
		peerrtt_store(&s->peers, key, len, &c->xfer.rto.est, now);
}

void
conn_close(struct server *s, struct conn *c)
{
	uint64_t now = monotonic_ns();

	remember_rtt(s, c, now);
	/* A Pi's next file follows at once: its boot goes on in the wave. */
	if (c->xfer.bytes_acked > 0 && (c->sched_flags & SCHED_MEMBER))
		boots_ran(&s->boots, c->boot_slot, now);
	if (c->queued_gen == s->batch.gen)
		batch_flush(&s->batch);
	timerheap_remove(&s->timers, &c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* Closing drops the descriptor from the epoll set as well. */
	close(c->h.fd);
	if (c->stranger.fd != -1)
		close(c->stranger.fd);
	transfer_free(&c->xfer);
	c->closed = 1;
	c->prev = NULL;
	c->next = s->dead;
	s->dead = c;
	s->ntransfers--;
	s->last_activity_ms = now / NS_PER_MS;
}

void
conn_reap(struct server *s)
{
	struct conn *c;

	while ((c = s->dead) != NULL) {
		s->dead = c->next;
		free(c);
	}
}

/* Puts the transfer's packets into msgs[]: one message per packet, or,
 * with UDP GSO, runs of full-size packets as one message each that the
 * kernel cuts into datagrams (the header and data iovecs of a run
 * concatenate to exactly the datagrams' bytes). Returns the count. */
static unsigned
build_msgs(struct server *s, struct conn *c, int gso)
{
	struct transfer *t = &c->xfer;
	size_t seg = TFTP_HDR_LEN + t->params.blksize, bytes = 0;
	unsigned nmsg = 0, segs = 0;
	struct msghdr *mh = NULL;

	if (seg > GSO_MAX_BYTES / 2)
		gso = 0;
	for (unsigned i = 0; i < t->nout; i++) {
		const struct transfer_pkt *p = &t->out[i];
		size_t len = p->hdr_len + p->data_len;
		struct iovec *iov = &s->iovs[2 * i];

		/* A run continues while packets are full-size and fit. */
		if (mh == NULL || !gso || bytes % seg != 0 ||
		    bytes + len > GSO_MAX_BYTES || segs == GSO_MAX_SEGS) {
			mh = &s->msgs[nmsg++].msg_hdr;
			memset(mh, 0, sizeof(*mh));
			/* A connected socket needs (and takes) no address. */
			mh->msg_name = c->connected ? NULL : &c->peer;
			mh->msg_namelen = c->connected ? 0 : c->peer_len;
			mh->msg_iov = iov;
			bytes = 0;
			segs = 0;
		}
		iov[0] = (struct iovec){ (void *)p->hdr, p->hdr_len };
		iov[1] = (struct iovec){ (void *)p->data, p->data_len };
		mh->msg_iovlen += 2;
		bytes += len;
		segs++;
		if (segs == 2) {
			struct cmsghdr *cm;
			uint16_t segsz = (uint16_t)seg;

			mh->msg_control = s->gso_cmsg[nmsg - 1].buf;
			mh->msg_controllen = sizeof(s->gso_cmsg[nmsg - 1].buf);
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(segsz));
			memcpy(CMSG_DATA(cm), &segsz, sizeof(segsz));
		}
	}
	return nmsg;
}

/* A lone packet, as lock-step clients take them: into the turn's batch.
 * If one of this transfer's is already waiting there, it is superseded
 * (the client has answered it), and its header now says this one. */
static void
conn_send_one(struct server *s, struct conn *c)
{
	const struct transfer_pkt *p = &c->xfer.out[0];
	enum batch_send_status r;

	c->qiov[0] = (struct iovec){ (void *)p->hdr, p->hdr_len };
	c->qiov[1] = (struct iovec){ (void *)p->data, p->data_len };
	c->qmsg = (struct msghdr){
		.msg_name = c->connected ? NULL : &c->peer,
		.msg_namelen = c->connected ? 0 : c->peer_len,
		.msg_iov = c->qiov,
		.msg_iovlen = 2,
	};
	if (c->queued_gen == s->batch.gen)
		return;
	if ((r = batch_send(&s->batch, c->h.fd, &c->qmsg)) ==
	    BATCH_SEND_QUEUED)
		c->queued_gen = s->batch.gen;
	else if (r == BATCH_SEND_FAILED)
		/* The retransmission timer recovers it. */
		log_trace("send to %s: %s", c->peer_str, strerror(errno));
}

/* Sends what the transfer lists: the whole window in one system call. */
static void
conn_send(struct server *s, struct conn *c)
{
	unsigned n, done = 0;
	int r;

	if (c->xfer.nout == 1) {
		conn_send_one(s, c);
		return;
	}
	n = build_msgs(s, c, s->gso);
	while (done < n) {
		if (n - done == 1)
			r = sendmsg(c->h.fd, &s->msgs[done].msg_hdr, 0) == -1 ?
			    -1 : 1;
		else
			r = sendmmsg(c->h.fd, s->msgs + done, n - done, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (s->gso && n < c->xfer.nout &&
			    (errno == EINVAL || errno == EIO ||
			    errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				/* No UDP GSO here: one datagram per message
				 * from now on, the window sent again whole
				 * (the client drops what it already has). */
				log_debug("UDP GSO unavailable (%s); sending "
				    "datagrams one by one", strerror(errno));
				s->gso = 0;
				n = build_msgs(s, c, 0);
				done = 0;
				continue;
			}
			/* A full send buffer loses the rest of the window;
			 * the retransmission timer recovers it. */
			log_trace("send to %s: %s", c->peer_str,
			    strerror(errno));
			return;
		}
		done += (unsigned)r;
	}
}

/* The end of a transfer's log line: its retransmissions (of an OACK or
 * a window, by the timer), which boot-storm tooling reads. */
static const char *
retransmissions(const struct transfer *t, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%llu retransmission%s",
	    (unsigned long long)t->retransmissions,
	    t->retransmissions == 1 ? "" : "s");
	return buf;
}

/* The end of a finished transfer's line: how long it was held. */
static const char *
held_for(const struct transfer *t, uint64_t now, char *buf, size_t bufsz)
{
	uint64_t ns = transfer_held_ns(t, now);

	buf[0] = '\0';
	if (ns >= 50 * NS_PER_MS)
		snprintf(buf, bufsz, ", held %.1f s for older boots",
		    (double)ns / 1e9);
	return buf;
}

static void
conn_finish(struct server *s, struct conn *c, enum transfer_result r)
{
	struct transfer *t = &c->xfer;
	uint64_t now = monotonic_ns();
	double secs = (double)(now - c->start_ns) / 1e9;
	double rate = secs > 0 ? (double)t->bytes_acked / secs / 1e6 : 0;
	char rx[48], held[48];

	switch (r) {
	case XFER_FINISHED:
		log_info("%s %s: %llu bytes in %.3f s, %.1f MB/s "
		    "(blksize %u, windowsize %u), %s%s", c->peer_str,
		    t->src->name, (unsigned long long)t->bytes_acked, secs,
		    rate, t->params.blksize, t->params.windowsize,
		    retransmissions(t, rx, sizeof(rx)),
		    held_for(t, now, held, sizeof(held)));
		break;
	case XFER_PROBE:
		log_debug("%s %s: probe ended by the client after the OACK "
		    "(%s)", c->peer_str, t->src->name, t->why);
		break;
	case XFER_ABORTED:
		log_info("%s %s: aborted by the client after %llu bytes, %s%s: "
		    "%s", c->peer_str, t->src->name,
		    (unsigned long long)t->bytes_acked,
		    retransmissions(t, rx, sizeof(rx)),
		    held_for(t, now, held, sizeof(held)), t->why);
		break;
	case XFER_FAILED:
		if (t->nout > 0)
			conn_send(s, c);
		log_warn("%s %s: failed after %llu bytes, %s%s: %s",
		    c->peer_str, t->src->name,
		    (unsigned long long)t->bytes_acked,
		    retransmissions(t, rx, sizeof(rx)),
		    held_for(t, now, held, sizeof(held)), t->why);
		break;
	default:
		break;
	}
	if (t->rto.have_estimate)
		log_debug("%s %s: round trip %.3f ms, variation %.3f ms, "
		    "timer %.3f ms", c->peer_str, t->src->name,
		    (double)t->rto.est.srtt_ns / 1e6,
		    (double)t->rto.est.rttvar_ns / 1e6,
		    (double)rto_timeout(&t->rto) / 1e6);
	conn_close(s, c);
}

/* Acts on what the transfer decided; a running transfer's timer follows
 * its deadline, which any call into the transfer may have moved. */
static void
conn_result(struct server *s, struct conn *c, enum transfer_result r)
{
	switch (r) {
	case XFER_IDLE:
		break;
	case XFER_SEND:
		conn_send(s, c);
		break;
	default:
		conn_finish(s, c, r);
		return;
	}
	if (c->xfer.state == XFER_HELD) {
		/* Nothing is out: nothing to time until it runs. Whether it
		 * may is decided at once. */
		timerheap_remove(&s->timers, &c->timer);
		s->next_tick_ns = 0;
		return;
	}
	if (c->timer.slot == TIMER_UNSET ||
	    c->timer.due != c->xfer.deadline_ns) {
		/* The heap has room for every transfer (see main.c), so
		 * this cannot fail; were it to, the transfer would have no
		 * timer and could hang: end it. */
		if (timerheap_set(&s->timers, &c->timer,
		    c->xfer.deadline_ns) == -1) {
			log_err("%s %s: no room for its timer", c->peer_str,
			    c->xfer.src->name);
			conn_close(s, c);
		}
	}
}

/* The transfer's sockets (see struct conn). Returns 0 or -1. */
static int
conn_sockets(struct conn *c, const struct sockaddr_storage *local,
    socklen_t llen)
{
	struct sockaddr_storage port;
	socklen_t plen = sizeof(port);
	int fd;

	c->stranger.fd = -1;
	if ((c->h.fd = transfer_socket(local, llen, c->peer_str, 1)) == -1)
		return -1;
	if (getsockname(c->h.fd, (struct sockaddr *)&port, &plen) == -1 ||
	    (fd = transfer_socket(&port, plen, c->peer_str, 1)) == -1) {
		/* Serve anyway, from the one unconnected socket. */
		log_debug("%s: second socket: %s", c->peer_str,
		    strerror(errno));
		return 0;
	}
	/* The new socket, connected, takes the client's packets; the first
	 * keeps the rest. Nothing has been sent from this port yet, so no
	 * packet of the client's can have reached the wrong one. */
	if (connect(fd, (struct sockaddr *)&c->peer, c->peer_len) == -1) {
		log_debug("%s: connect: %s", c->peer_str, strerror(errno));
		close(fd);
		return 0;
	}
	c->stranger.fd = c->h.fd;
	c->h.fd = fd;
	c->connected = 1;
	return 0;
}

static int
watch(struct server *s, struct handle *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

/* A new transfer for an accepted request. Returns 0, or -1 (src closed,
 * the reason logged) when the transfer could not be set up. */
int
conn_open(struct server *s, const struct sockaddr_storage *local,
    socklen_t llen, const struct sockaddr *peer, socklen_t plen,
    const char *peer_str, struct source *src, const struct tftp_params *p,
    int tsize_known)
{
	struct conn *c;
	enum transfer_result r;
	size_t window = (size_t)p->windowsize * (p->blksize + 64), keylen;
	struct rto_estimate seed, *known = NULL;
	const void *key;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_err("transfer for %s: %s", peer_str, strerror(errno));
		source_close(src);
		return -1;
	}
	c->stranger.kind = KIND_STRANGER;
	c->stranger.conn = c;
	c->rx_slot = -1;
	c->h.kind = KIND_CONN;
	timer_init(&c->timer);
	memcpy(&c->peer, peer, plen);
	c->peer_len = plen;
	strlcpy(c->peer_str, peer_str, sizeof(c->peer_str));
	c->start_ns = monotonic_ns();
	if (conn_sockets(c, local, llen) == -1) {
		free(c);
		source_close(src);
		return -1;
	}
	/* A window larger than the default send buffer would be cut. */
	if (window > 128 * 1024) {
		int sz = (int)(2 * window);
		(void)setsockopt(c->h.fd, SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->ntransfers++;
	if (watch(s, &c->h) == -1 ||
	    (c->stranger.fd != -1 && watch(s, &c->stranger) == -1)) {
		log_err("epoll for %s: %s", peer_str, strerror(errno));
		source_close(src);
		conn_close(s, c);
		return -1;
	}
	c->id = ++s->next_id;
	c->boot_slot = -1;
	c->due_ns = c->start_ns + SCHED_FILE_TIMEOUT_NS;
	if (peer_key(&c->peer, &key, &keylen) == 0) {
		c->boot_slot = boots_request(&s->boots, key, keylen, c->id,
		    c->start_ns);
		/* Once a boot: the files beside its first say how big its
		 * kernel and initramfs are before it asks for them. */
		if (boots_begins(&s->boots, c->boot_slot, c->start_ns))
			sched_boot_seen(&s->sched, source_biggest_beside(src));
		if (peerrtt_find(&s->peers, key, keylen, c->start_ns, &seed))
			known = &seed;
	}
	r = transfer_start(&c->xfer, src, p, tsize_known, known, c->start_ns);
	/* Under overload a new transfer waits for the scheduler's word
	 * before its first packet, and again before its first block
	 * (sched.h). */
	if (r == XFER_SEND && s->sched.overloaded) {
		transfer_hold_first(&c->xfer, c->start_ns);
		r = XFER_IDLE;
	}
	if (r == XFER_SEND && log_enabled(LOG_LEVEL_TRACE))
		log_trace("%s %s: first timer %.3f ms (%s)", peer_str,
		    src->name, (double)c->xfer.wait_ns / 1e6,
		    known != NULL ? "the client's last round trip" :
		    p->timeout_asked ? "the client's timeout" :
		    "a client not seen lately");
	conn_result(s, c, r);
	return 0;
}


void
conn_receive(struct server *s, struct conn **cs, unsigned n)
{
	int fds[TFTPD_EVENTS_MAX] = { 0 };
	struct msghdr mhs[TFTPD_EVENTS_MAX];
	struct batch_result res[TFTPD_EVENTS_MAX];

	if (n > TFTPD_EVENTS_MAX)
		n = TFTPD_EVENTS_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct rx_slot *r = &s->rx_slots[i];

		r->iov = (struct iovec){ r->buf, sizeof(r->buf) };
		mhs[i] = (struct msghdr){
			.msg_name = &r->from,
			.msg_namelen = sizeof(r->from),
			.msg_iov = &r->iov,
			.msg_iovlen = 1,
		};
		fds[i] = cs[i]->h.fd;
	}
	batch_recv(&s->batch, n, fds, mhs, res);
	for (unsigned i = 0; i < n; i++) {
		struct rx_slot *r = &s->rx_slots[i];

		r->mh = mhs[i];
		cs[i]->rx_slot = (int)i;
		if (res[i].len < 0) {
			/* ECONNREFUSED: an ICMP error from the client's
			 * side; the timer decides whether it is gone. */
			if (res[i].err != EAGAIN && res[i].err != EINTR)
				log_debug("%s: receive: %s", cs[i]->peer_str,
				    strerror(res[i].err));
			cs[i]->rx_slot = -1;
		} else
			/* A datagram longer than the slot comes cut to it:
			 * only an ERROR's message is that long, and its
			 * start is kept. */
			r->iov.iov_len = (size_t)res[i].len;
	}
}

void
on_conn(struct server *s, struct conn *c)
{
	struct rx_slot *r;
	char from_str[PEER_STR_LEN];
	size_t len;

	if (c->rx_slot < 0)
		return;
	r = &s->rx_slots[c->rx_slot];
	c->rx_slot = -1;
	if (!same_addr(&c->peer, (struct sockaddr *)&r->from,
	    r->mh.msg_namelen)) {
		/* RFC 1350: answer the stranger, leave the transfer be. */
		addr_port_str((struct sockaddr *)&r->from, r->mh.msg_namelen,
		    0, from_str, sizeof(from_str));
		log_debug("%s: packet from %s to the transfer of %s",
		    from_str, from_str, c->xfer.src->name);
		len = packet_build_error(s->tx, sizeof(s->tx), TFTP_EBADID,
		    NULL);
		send_one(c->h.fd, (struct sockaddr *)&r->from,
		    r->mh.msg_namelen, s->tx, len, from_str);
		return;
	}
	conn_result(s, c, transfer_input(&c->xfer, r->buf, r->iov.iov_len,
	    monotonic_ns()));
}

/* A packet on the unconnected socket of a transfer whose connected one
 * takes the client's: always a stranger's. */
void
on_stranger(struct server *s, struct conn *c)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char from_str[PEER_STR_LEN];
	size_t len;

	if (recvfrom(c->stranger.fd, s->rx, sizeof(s->rx), 0,
	    (struct sockaddr *)&from, &flen) == -1)
		return;
	addr_port_str((struct sockaddr *)&from, flen, 0, from_str,
	    sizeof(from_str));
	log_debug("%s: packet to the transfer of %s to %s: unknown "
	    "transfer ID", from_str, c->xfer.src->name, c->peer_str);
	len = packet_build_error(s->tx, sizeof(s->tx), TFTP_EBADID, NULL);
	send_one(c->stranger.fd, (struct sockaddr *)&from, flen, s->tx, len,
	    from_str);
}

/* One retransmission, for -vv: the wait that ran out is what shows the
 * timer following the round trip. */
static void
log_resend(const struct conn *c, uint64_t waited_ns)
{
	const struct transfer *t = &c->xfer;

	if (t->state == XFER_OACK_SENT)
		log_trace("%s %s: resent the OACK after %.3f ms "
		    "(retransmission %llu)", c->peer_str, t->src->name,
		    (double)waited_ns / 1e6,
		    (unsigned long long)t->retransmissions);
	else
		log_trace("%s %s: resent block %u after %.3f ms "
		    "(retransmission %llu)", c->peer_str, t->src->name,
		    (unsigned)(uint16_t)t->window_first,
		    (double)waited_ns / 1e6,
		    (unsigned long long)t->retransmissions);
}

void
check_timers(struct server *s, uint64_t now)
{
	struct timer *tm;
	struct conn *c;
	enum transfer_result r;
	uint64_t waited;

	/* Each call re-arms its transfer later than now or ends it; the
	 * bound only guards against a transfer that did neither. */
	for (size_t n = s->timers.n; n > 0; n--) {
		if ((tm = timerheap_first(&s->timers)) == NULL ||
		    !time_reached(now, tm->due))
			break;
		c = (struct conn *)((char *)tm - offsetof(struct conn, timer));
		waited = c->xfer.wait_ns;
		r = transfer_timeout(&c->xfer, now);
		if (r == XFER_SEND && log_enabled(LOG_LEVEL_TRACE))
			log_resend(c, waited);
		conn_result(s, c, r);
	}
}

int
conn_of_peer(const struct server *s, const struct sockaddr *peer,
    socklen_t plen)
{
	for (const struct conn *c = s->conns; c != NULL; c = c->next)
		if (same_addr(&c->peer, peer, plen))
			return 1;
	return 0;
}

/* Whether the scheduler may hold t: before its first block, and not for
 * a client that asked for a timer of its own (it would resend, then give
 * up). */
static int
holdable(const struct transfer *t)
{
	return !t->params.timeout_asked && t->window_first == 1 &&
	    (t->state == XFER_OACK_SENT || t->state == XFER_HELD);
}

static void
log_overload(struct server *s, uint64_t now)
{
	const struct sched *sc = &s->sched;
	char more[48] = "";
	uint32_t held;

	if (!ratelimit_take(&s->sched_log, now / NS_PER_MS, &held))
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (%u similar lines held back)",
		    held);
	if (sc->overloaded)
		log_warn("overloaded: %u transfers, more than can finish "
		    "before their clients give up (%.1f MB/s at best): "
		    "serving the oldest boots first, %u held%s",
		    s->ntransfers, (double)sc->best / 1e6, sc->held, more);
	else
		log_info("overload over: %u transfers, none held%s",
		    s->ntransfers, more);
}

void
conn_schedule(struct server *s, uint64_t now)
{
	struct sched_item *it = s->sched_items;
	struct conn *c;
	size_t n = 0;
	int measures;

	if (!time_reached(now, s->next_tick_ns))
		return;
	/* A tick asked at once for a transfer just held only decides
	 * (sched.h): the ticks that measure keep their pace. */
	measures = sched_measures(&s->sched, now);
	s->next_tick_ns = (measures ? now : s->sched.last_ns) + SCHED_TICK_NS;
	for (c = s->conns; c != NULL; c = c->next) {
		struct transfer *t = &c->xfer;
		struct sched_item *x = &it[n++];
		uint64_t expected = source_expected_size(t->src);

		*x = (struct sched_item){ .owner = c,
		    .key = boots_began(&s->boots, c->boot_slot, c->id,
		    c->start_ns, now),
		    .due_ns = c->due_ns,
		    .size = expected,
		    .left = expected > t->bytes_acked ?
		    expected - t->bytes_acked : 0,
		    .moved = measures ? t->bytes_acked - c->acked_at_tick :
		    c->moved_last,
		    .rate = c->rate, .ticks = c->ticks,
		    .flags = c->sched_flags & SCHED_URGENT };
		if (measures) {
			c->moved_last = x->moved;
			c->acked_at_tick = t->bytes_acked;
		}
		if (holdable(t))
			x->flags |= SCHED_HOLDABLE;
		if (t->hold)
			x->flags |= SCHED_HELD;
		if (t->impatient)
			x->flags |= SCHED_IMPATIENT;
		if (t->state == XFER_OACK_SENT)
			x->flags |= SCHED_UNANSWERED;
		if (t->state == XFER_HELD && t->resume_state == XFER_OACK_SENT)
			x->flags |= SCHED_ASKED;
		if (boots_in_wave(&s->boots, c->boot_slot, c->id, now))
			x->flags |= SCHED_WAVE;
		if (c->boot_slot >= 0 &&
		    !boots_newest(&s->boots, c->boot_slot, c->id))
			x->flags |= SCHED_SUPERSEDED;
	}
	if (sched_tick(&s->sched, it, n, now))
		log_overload(s, now);
	if (s->sched.overloaded && log_enabled(LOG_LEVEL_TRACE))
		log_trace("sched: %zu transfers, wave of %u at most, %u held, "
		    "%u urgent, best %.2f MB/s, typical %.2f, cycle %.2f MB, "
		    "crowded %u", n, s->sched.limit, s->sched.held,
		    s->sched.urgent, (double)s->sched.best / 1e6,
		    (double)s->sched.typical / 1e6,
		    (double)s->sched.cycle_bytes / 1e6,
		    s->sched.cycle_crowded);
	for (size_t i = 0; i < n; i++) {
		c = it[i].owner;
		c->rate = it[i].rate;
		c->ticks = it[i].ticks;
		c->sched_flags = it[i].flags & (SCHED_URGENT | SCHED_MEMBER);
		if (!it[i].run) {
			transfer_hold(&c->xfer);
			continue;
		}
		if (it[i].flags & SCHED_MEMBER)
			boots_ran(&s->boots, c->boot_slot, now);
		if (c->xfer.hold)
			/* May send: a held window goes out now. */
			conn_result(s, c, transfer_resume(&c->xfer, now));
	}
}
