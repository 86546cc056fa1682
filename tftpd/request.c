/* The request port: a datagram in, a transfer started or an ERROR out. */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/listen.h"
#include "common/log.h"
#include "tftpd/packet.h"
#include "tftpd/resolve.h"
#include "tftpd/server.h"

#define REQUESTS_PER_WAKEUP	32	/* then let transfers have a turn */

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
	const char *why, *refusal;
	int op;

	addr_str(peer, plen, peer_str, sizeof(peer_str));
	datagram_local_addr(lfd, mh, &local, &llen, NULL);
	op = packet_opcode(buf, len);
	if (op >= TFTP_DATA && op <= TFTP_OACK) {
		/* A stray packet of some transfer: not ours to answer. */
		log_debug("%s: opcode %d on the request port, dropped",
		    peer_str, op);
		return;
	}
	/* Before the request is parsed: a host we do not serve gets
	 * nothing but the refusal. */
	if (!access_check(&s->access, peer, plen, peer_str, "TFTP request",
	    s->last_activity_ms)) {
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EACCESS,
		    "Access violation: this host is not served");
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
	ss = resolve_open(s->rootfd, req.filename, req.filename_len, &src,
	    &refusal);
	switch (ss) {
	case SOURCE_OK:
		break;
	case SOURCE_NOT_FOUND:
		/* A Pi probes for optional files all the time: a miss is
		 * quiet, an entry asked for as a file is not. */
		if (refusal != NULL)
			log_info("%s: %.*s: %s: refused", peer_str,
			    (int)req.filename_len, req.filename, refusal);
		else
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
	if (conn_open(s, &local, llen, peer, plen, peer_str, src, &p,
	    !req.netascii) == -1)
		refuse(s, &local, llen, peer, plen, peer_str, TFTP_EUNDEF,
		    "Server error, try again");
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
		s->last_activity_ms = now_ms();
		on_request(s, lfd, s->rx, (size_t)n, &mh);
	}
}
