/* tftpd: read-only TFTP server for Raspberry Pi boot files. This file is
 * the thin I/O layer: sockets, the event loop, timers and log lines. What
 * packets mean is packet.c, what a transfer does is transfer.c, where
 * bytes come from is resolve.c. */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cmdline.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/signals.h"
#include "tftpd/packet.h"
#include "tftpd/resolve.h"
#include "tftpd/transfer.h"

#define DEFAULT_MAX_TRANSFERS	512
#define DEFAULT_IDLE_SECS	60	/* inetd mode: exit after this */
#define TIMER_TICK_MS		100	/* how often deadlines are checked */
#define REQUESTS_PER_WAKEUP	32
#define LISTEN_RCVBUF		(4 * 1024 * 1024)
#define PEER_STR_LEN		(INET6_ADDRSTRLEN + 16)
#define GSO_MAX_BYTES		60000	/* one UDP GSO send, under 64 KiB */
#define GSO_MAX_SEGS		64	/* the kernel's UDP_MAX_SEGMENTS */

enum handle_kind { KIND_LISTENER, KIND_SIGNAL, KIND_CONN, KIND_STRANGER };

struct conn;

struct handle {
	enum handle_kind kind;
	int fd;
	struct conn *conn;	/* KIND_STRANGER: whose port it watches */
};

/* One transfer and its own ephemeral port, bound to the address the
 * request arrived at. Two sockets share the port: h is connected to the
 * client, so the kernel routes once and hands it only the client's
 * packets; stranger catches everyone else's, to answer "unknown transfer
 * ID" (RFC 1350) without disturbing the transfer. Where the two cannot
 * share (stranger.fd == -1), h alone is unconnected and does both. */
struct conn {
	struct handle h;	/* first: epoll hands back a handle */
	struct handle stranger;
	int connected;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_str[PEER_STR_LEN];
	uint64_t start_ms;
	struct transfer xfer;
	struct conn *prev, *next;
};

struct options {
	long long max_transfers;
	long long idle_secs;
};

/* Everything the loop owns. */
struct server {
	int epfd;
	struct handle sig;
	struct handle listeners[LISTEN_MAX_FDS];
	int nlisteners;
	int rootfd;
	int inetd;
	unsigned max_transfers, ntransfers;
	uint64_t idle_ms, last_activity_ms, next_tick_ms;
	struct conn *conns;
	uint8_t rx[TFTPD_PACKET_MAX];
	uint8_t tx[1024];
	int gso;		/* UDP GSO works: send a window in one go */
	struct mmsghdr msgs[TFTPD_WINDOWSIZE_CAP];
	struct iovec iovs[2 * TFTPD_WINDOWSIZE_CAP];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
	} gso_cmsg[TFTPD_WINDOWSIZE_CAP];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strlcpy(out, "?", outsz);
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(out, outsz, "[%s]:%s", host, serv);
	else
		snprintf(out, outsz, "%s:%s", host, serv);
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b,
    socklen_t blen)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return blen >= sizeof(*y) && x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return blen >= sizeof(*y) && x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

/* The local address a datagram was sent to, from its packet info, as a
 * socket address with port 0 to bind a transfer's socket to. Without the
 * information, the listening socket's own address. */
static void
local_addr(int lfd, struct msghdr *mh, struct sockaddr_storage *local,
    socklen_t *llen)
{
	struct cmsghdr *c;

	*llen = sizeof(*local);
	memset(local, 0, sizeof(*local));
	if (getsockname(lfd, (struct sockaddr *)local, llen) == -1)
		*llen = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (local->ss_family == AF_INET && c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *sin = (struct sockaddr_in *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* spec_dst: our address, even for a broadcast. */
			sin->sin_addr = pi.ipi_spec_dst;
		} else if (local->ss_family == AF_INET6 &&
		    c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			/* IPv4 on a dual-stack socket: the mapped form. */
			struct in_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(&sin6->sin6_addr, 0, sizeof(sin6->sin6_addr));
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6->sin6_addr.s6_addr[12], &pi.ipi_spec_dst, 4);
			sin6->sin6_scope_id = 0;
		} else if (local->ss_family == AF_INET6 &&
		    c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin6->sin6_addr = pi.ipi6_addr;
			sin6->sin6_scope_id =
			    IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ?
			    (uint32_t)pi.ipi6_ifindex : 0;
		}
	}
	if (local->ss_family == AF_INET)
		((struct sockaddr_in *)local)->sin_port = 0;
	else if (local->ss_family == AF_INET6)
		((struct sockaddr_in6 *)local)->sin6_port = 0;
}

/* A new UDP socket bound to local (port 0: an ephemeral one). reuse lets
 * a second socket share the port. */
static int
transfer_socket(const struct sockaddr_storage *local, socklen_t llen,
    const char *peer, int reuse)
{
	int fd, on = 1;

	fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_err("socket for %s: %s", peer, strerror(errno));
		return -1;
	}
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1) {
		log_err("SO_REUSEADDR for %s: %s", peer, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)local, llen) == -1) {
		log_err("bind for %s: %s", peer, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
send_one(int fd, const struct sockaddr *to, socklen_t tolen,
    const void *buf, size_t len, const char *peer)
{
	if (sendto(fd, buf, len, 0, to, tolen) == -1)
		log_debug("send to %s: %s", peer, strerror(errno));
}

/* Answers a request with an ERROR from a fresh port: the RFC's transfer
 * ID rule, so clients that lock onto the reply's port accept it. */
static void
refuse(struct server *s, const struct sockaddr_storage *local,
    socklen_t llen, const struct sockaddr *peer, socklen_t plen,
    const char *peer_str, uint16_t code, const char *msg)
{
	size_t len = packet_build_error(s->tx, sizeof(s->tx), code, msg);
	int fd;

	if ((fd = transfer_socket(local, llen, peer_str, 0)) == -1)
		return;
	send_one(fd, peer, plen, s->tx, len, peer_str);
	close(fd);
}

static void
conn_close(struct server *s, struct conn *c)
{
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
	free(c);
	s->ntransfers--;
	s->last_activity_ms = now_ms();
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

/* Sends what the transfer lists: the whole window in one system call. */
static void
conn_send(struct server *s, struct conn *c)
{
	unsigned n, done = 0;
	int r;

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

static void
conn_finish(struct server *s, struct conn *c, enum transfer_result r)
{
	struct transfer *t = &c->xfer;
	double secs = (double)(now_ms() - c->start_ms) / 1000.0;
	double rate = secs > 0 ? (double)t->bytes_acked / secs / 1e6 : 0;

	switch (r) {
	case XFER_FINISHED:
		log_info("%s %s: %llu bytes in %.3f s, %.1f MB/s "
		    "(blksize %u, windowsize %u)", c->peer_str, t->src->name,
		    (unsigned long long)t->bytes_acked, secs, rate,
		    t->params.blksize, t->params.windowsize);
		break;
	case XFER_PROBE:
		log_debug("%s %s: probe ended by the client after the OACK "
		    "(%s)", c->peer_str, t->src->name, t->why);
		break;
	case XFER_ABORTED:
		log_info("%s %s: aborted by the client after %llu bytes: %s",
		    c->peer_str, t->src->name,
		    (unsigned long long)t->bytes_acked, t->why);
		break;
	case XFER_FAILED:
		if (t->nout > 0)
			conn_send(s, c);
		log_warn("%s %s: failed after %llu bytes: %s", c->peer_str,
		    t->src->name, (unsigned long long)t->bytes_acked, t->why);
		break;
	default:
		break;
	}
	conn_close(s, c);
}

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
		break;
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

/* A new transfer for an accepted request. */
static void
conn_open(struct server *s, const struct sockaddr_storage *local,
    socklen_t llen, const struct sockaddr *peer, socklen_t plen,
    const char *peer_str, struct source *src, const struct tftp_params *p,
    int tsize_known)
{
	struct epoll_event ev;
	struct conn *c;
	enum transfer_result r;
	size_t window = (size_t)p->windowsize * (p->blksize + 64);

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_err("transfer for %s: %s", peer_str, strerror(errno));
		source_close(src);
		return;
	}
	c->stranger.kind = KIND_STRANGER;
	c->stranger.conn = c;
	c->h.kind = KIND_CONN;
	memcpy(&c->peer, peer, plen);
	c->peer_len = plen;
	strlcpy(c->peer_str, peer_str, sizeof(c->peer_str));
	c->start_ms = now_ms();
	if (conn_sockets(c, local, llen) == -1) {
		free(c);
		source_close(src);
		return;
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
	ev.events = EPOLLIN;
	ev.data.ptr = &c->h;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->h.fd, &ev) == -1 ||
	    (c->stranger.fd != -1 && (ev.data.ptr = &c->stranger,
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->stranger.fd, &ev) == -1))) {
		log_err("epoll for %s: %s", peer_str, strerror(errno));
		source_close(src);
		conn_close(s, c);
		return;
	}
	r = transfer_start(&c->xfer, src, p, tsize_known, c->start_ms);
	conn_result(s, c, r);
}

/* One datagram on a listening socket: a request, or noise. */
static void
on_request(struct server *s, int lfd, const uint8_t *buf, size_t len,
    struct msghdr *mh)
{
	const struct sockaddr *peer = mh->msg_name;
	socklen_t plen = mh->msg_namelen;
	struct sockaddr_storage local;
	socklen_t llen;
	struct tftp_request req;
	struct tftp_params p;
	struct source *src, *wrapped;
	enum packet_status ps;
	enum source_status ss;
	char peer_str[PEER_STR_LEN], msg[128];
	const char *why;
	int op;

	addr_str(peer, plen, peer_str, sizeof(peer_str));
	local_addr(lfd, mh, &local, &llen);
	op = packet_opcode(buf, len);
	if (op >= TFTP_DATA && op <= TFTP_OACK) {
		/* A stray packet of some transfer: not ours to answer. */
		log_debug("%s: opcode %d on the request port, dropped",
		    peer_str, op);
		return;
	}
	ps = packet_parse_request(buf, len, &req);
	if (ps != PKT_OK) {
		log_debug("%s: bad request: %s", peer_str,
		    packet_status_str(ps));
		refuse(s, &local, llen, peer, plen, peer_str,
		    ps == PKT_REPEATED_OPTION || ps == PKT_TOO_MANY_OPTIONS ?
		    TFTP_EOPTNEG : TFTP_EBADOP, packet_status_str(ps));
		return;
	}
	if (req.opcode == TFTP_WRQ) {
		log_info("%s: write request for %.*s refused: read-only",
		    peer_str, (int)req.filename_len, req.filename);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EACCESS,
		    "Access violation: read-only server");
		return;
	}
	if ((ps = packet_negotiate(&req, &p, &why)) != PKT_OK) {
		snprintf(msg, sizeof(msg), "bad value for option %s", why);
		log_debug("%s: %.*s: %s", peer_str, (int)req.filename_len,
		    req.filename, msg);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EOPTNEG,
		    msg);
		return;
	}
	if (s->ntransfers >= s->max_transfers) {
		log_info("%s: %.*s refused: %u transfers running", peer_str,
		    (int)req.filename_len, req.filename, s->ntransfers);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EUNDEF,
		    "Server busy: too many transfers, try again");
		return;
	}
	ss = resolve_open(s->rootfd, req.filename, req.filename_len, &src);
	switch (ss) {
	case SOURCE_OK:
		break;
	case SOURCE_NOT_FOUND:
		log_debug("%s: %.*s: not found", peer_str,
		    (int)req.filename_len, req.filename);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_ENOTFOUND,
		    NULL);
		return;
	case SOURCE_DENIED:
		log_info("%s: %.*s: access violation", peer_str,
		    (int)req.filename_len, req.filename);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EACCESS,
		    NULL);
		return;
	case SOURCE_ERROR:
	default:
		log_warn("%s: %.*s: cannot open", peer_str,
		    (int)req.filename_len, req.filename);
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EUNDEF,
		    "Cannot open file");
		return;
	}
	if (req.netascii) {
		if (netascii_wrap(src, &wrapped) != SOURCE_OK) {
			refuse(s, &local, llen, peer, plen, peer_str,
			    TFTP_EUNDEF, "Out of memory");
			return;
		}
		src = wrapped;
	}
	log_debug("%s: %s: %llu bytes, blksize %u, windowsize %u", peer_str,
	    src->name, (unsigned long long)src->size, p.blksize, p.windowsize);
	conn_open(s, &local, llen, peer, plen, peer_str, src, &p,
	    !req.netascii);
}

static void
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
		s->last_activity_ms = now_ms();
		on_request(s, lfd, s->rx, (size_t)n, &mh);
	}
}

static void
on_conn(struct server *s, struct conn *c)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char from_str[PEER_STR_LEN];
	size_t len;
	ssize_t n;

	n = recvfrom(c->h.fd, s->rx, sizeof(s->rx), 0,
	    (struct sockaddr *)&from, &flen);
	if (n == -1) {
		/* ECONNREFUSED: an ICMP error from the client's side; the
		 * timer decides whether it is gone. */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_debug("%s: receive: %s", c->peer_str,
			    strerror(errno));
		return;
	}
	if (!same_addr(&c->peer, (struct sockaddr *)&from, flen)) {
		/* RFC 1350: answer the stranger, leave the transfer be. */
		addr_str((struct sockaddr *)&from, flen, from_str,
		    sizeof(from_str));
		log_debug("%s: packet from %s to the transfer of %s",
		    from_str, from_str, c->xfer.src->name);
		len = packet_build_error(s->tx, sizeof(s->tx), TFTP_EBADID,
		    NULL);
		send_one(c->h.fd, (struct sockaddr *)&from, flen, s->tx, len,
		    from_str);
		return;
	}
	conn_result(s, c, transfer_input(&c->xfer, s->rx, (size_t)n,
	    now_ms()));
}

/* A packet on the unconnected socket of a transfer whose connected one
 * takes the client's: always a stranger's. */
static void
on_stranger(struct server *s, struct conn *c)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char from_str[PEER_STR_LEN];
	size_t len;

	if (recvfrom(c->stranger.fd, s->rx, sizeof(s->rx), 0,
	    (struct sockaddr *)&from, &flen) == -1)
		return;
	addr_str((struct sockaddr *)&from, flen, from_str, sizeof(from_str));
	log_debug("%s: packet to the transfer of %s to %s: unknown "
	    "transfer ID", from_str, c->xfer.src->name, c->peer_str);
	len = packet_build_error(s->tx, sizeof(s->tx), TFTP_EBADID, NULL);
	send_one(c->stranger.fd, (struct sockaddr *)&from, flen, s->tx, len,
	    from_str);
}

static void
check_timers(struct server *s, uint64_t now)
{
	struct conn *c, *next;

	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (now >= c->xfer.deadline_ms)
			conn_result(s, c, transfer_timeout(&c->xfer, now));
	}
}

static int
add_handle(struct server *s, struct handle *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, h->fd, &ev) == -1) {
		log_err("epoll add fd %d: %s", h->fd, strerror(errno));
		return -1;
	}
	return 0;
}

/* The loop: until a signal, or in inetd mode until idle. */
static void
serve(struct server *s)
{
	struct epoll_event evs[64];
	uint64_t now;
	int n, timeout;

	s->last_activity_ms = now_ms();
	for (;;) {
		now = now_ms();
		timeout = -1;
		if (s->conns != NULL)
			timeout = s->next_tick_ms > now ?
			    (int)(s->next_tick_ms - now) : 0;
		else if (s->inetd) {
			uint64_t end = s->last_activity_ms + s->idle_ms;
			if (now >= end) {
				log_debug("idle for %llu s, exiting",
				    (unsigned long long)s->idle_ms / 1000);
				return;
			}
			timeout = (int)(end - now);
		}
		n = epoll_wait(s->epfd, evs, 64, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_fatal("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;

			switch (h->kind) {
			case KIND_SIGNAL:
				if (signals_read(h->fd) != 0) {
					log_debug("signal: shutting down");
					return;
				}
				break;
			case KIND_LISTENER:
				on_listener(s, h->fd);
				break;
			case KIND_CONN:
				on_conn(s, (struct conn *)h);
				break;
			case KIND_STRANGER:
				on_stranger(s, h->conn);
				break;
			}
		}
		now = now_ms();
		if (now >= s->next_tick_ms) {
			check_timers(s, now);
			s->next_tick_ms = now + TIMER_TICK_MS;
		}
	}
}

static const char *
handle_flag(void *ctx, int ch, const char *arg)
{
	struct options *o = ctx;

	switch (ch) {
	case 'm':
		return cmdline_count(arg, 1, 65536, &o->max_transfers);
	case 't':
		return cmdline_count(arg, 1, 86400, &o->idle_secs);
	}
	return "unknown flag";
}

/* Each transfer holds two descriptors: make room for -m of them. */
static void
raise_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("raising the descriptor limit to %u: %s", want,
		    strerror(errno));
}

int
main(int argc, char *argv[])
{
	static const struct cmdline_extra extras[] = {
		{ 'm', "max-transfers", "N",
		  "at most N transfers at once (default 512)" },
		{ 't', "idle", "SECS",
		  "inetd mode: exit after SECS idle (default 60)" },
		{ 0, NULL, NULL, NULL },
	};
	struct options opts = { DEFAULT_MAX_TRANSFERS, DEFAULT_IDLE_SECS };
	struct cmdline_spec spec = {
		.progname = "tftpd",
		.summary = "read-only TFTP server for Raspberry Pi boot files",
		.default_root = "/srv/boot",
		.default_port = 69,
		.extras = extras,
		.handle = handle_flag,
		.ctx = &opts,
	};
	struct cmdline cl;
	struct server *s;
	int fds[LISTEN_MAX_FDS], n, rc = 0;

	switch (cmdline_parse(&cl, &spec, argc, argv, stdout, stderr)) {
	case CMDLINE_EXIT_OK:
		return 0;
	case CMDLINE_EXIT_USAGE:
		return 2;
	case CMDLINE_RUN:
		break;
	}
	log_init(spec.progname, cl.use_syslog, cl.verbose);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		log_fatal("memory: %s", strerror(errno));
	s->max_transfers = (unsigned)opts.max_transfers;
	s->gso = 1;
	s->inetd = cl.inetd;
	s->idle_ms = (uint64_t)opts.idle_secs * 1000;
	raise_fd_limit(2 * s->max_transfers + 64);

	if ((s->sig.fd = signals_shutdown_fd()) == -1)
		return 1;
	s->sig.kind = KIND_SIGNAL;
	if ((n = listen_inherited(cl.inetd, fds, LISTEN_MAX_FDS)) == -1)
		return 1;
	if (n > 0) {
		for (int i = 0; i < n; i++) {
			int fl = fcntl(fds[i], F_GETFL);
			if (fl == -1 || fcntl(fds[i], F_SETFL,
			    fl | O_NONBLOCK) == -1)
				log_fatal("socket fd %d: %s", fds[i],
				    strerror(errno));
			if (socket_want_pktinfo(fds[i]) == -1)
				log_fatal("socket fd %d is not a UDP socket: "
				    "%s", fds[i], strerror(errno));
		}
	} else if ((n = listen_udp(cl.listen_addr, cl.port, LISTEN_PKTINFO,
	    fds, LISTEN_MAX_FDS)) == -1)
		return 1;
	s->nlisteners = n;
	for (int i = 0; i < n; i++) {
		int sz = LISTEN_RCVBUF;
		(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
		s->listeners[i] = (struct handle){ KIND_LISTENER, fds[i], NULL };
	}
	if ((s->rootfd = open(cl.root, O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		log_fatal("root %s: %s", cl.root, strerror(errno));
	if (cl.user != NULL && privdrop(cl.user) == -1)
		return 1;
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		log_fatal("epoll_create1: %s", strerror(errno));
	if (add_handle(s, &s->sig) == -1)
		return 1;
	for (int i = 0; i < n; i++)
		if (add_handle(s, &s->listeners[i]) == -1)
			return 1;
	log_info("serving %s on %d socket%s%s, at most %u transfers", cl.root,
	    n, n == 1 ? "" : "s", cl.inetd ? " (inetd)" : "",
	    s->max_transfers);

	serve(s);

	while (s->conns != NULL) {
		log_info("%s %s: cut short by shutdown", s->conns->peer_str,
		    s->conns->xfer.src ? s->conns->xfer.src->name : "?");
		conn_close(s, s->conns);
	}
	for (int i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].fd);
	close(s->sig.fd);
	close(s->rootfd);
	close(s->epfd);
	free(s);
	return rc;
}
