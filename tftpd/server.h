/* layer: I/O */
/* What tftpd's event loop owns, and the I/O files that share it: main.c
 * (setup and the loop), listener.c (the request port), conn.c (a
 * transfer's own port), udp.c (socket helpers). Protocol, request and
 * transfer logic stay out of these: packet.c, request.c and transfer.c. */
#ifndef TFTPD_SERVER_H
#define TFTPD_SERVER_H

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <stdint.h>

#include "common/access.h"
#include "common/addrstr.h"
#include "common/listen.h"
#include "common/ratelimit.h"
#include "tftpd/boots.h"
#include "tftpd/peerrtt.h"
#include "tftpd/rbdfetch.h"
#include "tftpd/proto.h"
#include "tftpd/request.h"
#include "tftpd/batch.h"
#include "tftpd/sched.h"
#include "tftpd/timerheap.h"
#include "tftpd/transfer.h"

#define PEER_STR_LEN		ADDR_STR_LEN

enum handle_kind { KIND_LISTENER, KIND_SIGNAL, KIND_CONN, KIND_STRANGER,
	KIND_RBDFETCH };

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
	uint64_t start_ns;
	/* The scheduler's (sched.h): which boot it belongs to, when its
	 * client gives up on it, and what the ticks keep. */
	uint64_t id;
	int boot_slot;
	uint64_t due_ns;
	uint64_t acked_at_tick;	/* at the last measuring tick */
	uint64_t moved_last;	/* ... and in the one before it */
	uint64_t rate;
	unsigned ticks;
	unsigned sched_flags;
	struct transfer xfer;
	struct timer timer;	/* at xfer.deadline_ns, in s->timers */
	/* A lone packet (lock-step) waits in s->batch with this header;
	 * queued_gen is the batch's gen while it waits. */
	struct msghdr qmsg;
	struct iovec qiov[2];
	unsigned long long queued_gen;
	int rx_slot;		/* its datagram of this turn, in s->rx_slots */
	int closed;		/* on the dead list, freed after this batch */
	struct conn *prev, *next;
};

/* A request for a file in Ceph, waiting for its worker (rbdfetch.h):
 * what the request port needs to go on once the file is read. */
struct pending {
	struct rbdfetch_job job;	/* first: the worker hands it back */
	struct request_decision d;	/* d.req.filename points at filename */
	char filename[TFTPD_PATH_MAX + 1];
	struct sockaddr_storage peer, local;
	socklen_t plen, llen;
	char peer_str[PEER_STR_LEN];
	uint64_t queued_ns;		/* when handed to the workers */
	/* The same file of a snapshot asked for while a worker reads it:
	 * those requests wait for this one's read, not for reads of their
	 * own (rbdfetch_shared). */
	struct pending *followers, *next_follower;
	int following;			/* waits for another's read */
	struct pending *prev, *next;
};

/* Everything the loop owns. */
struct server {
	int epfd;
	struct handle sig;
	struct handle listeners[LISTEN_MAX_FDS];
	int nlisteners;
	int rootfd;
	int inetd;
	struct access access;	/* -A: which hosts are served */
	struct ratelimit request_log;	/* the request port's lines */
	unsigned max_transfers, ntransfers;
	uint64_t idle_ms, last_activity_ms;
	struct conn *conns;
	struct timerheap timers;	/* every transfer's deadline */
	struct peerrtt peers;	/* recent clients' round trips */
	struct boots boots;	/* when recent clients' boots began */
	struct sched sched;	/* which transfers send, under overload */
	struct sched_item *sched_items;	/* max_transfers of them */
	uint64_t next_tick_ns;
	uint64_t next_id;	/* the last transfer's id */
	struct ratelimit sched_log;	/* overload lines */
	/* Closed during the current batch of events: a later event of the
	 * batch may still name them, so they are freed after it. */
	struct conn *dead;
	/* -C: the cluster and the workers reading out of it; NULL and
	 * unused without. */
	struct rbd_cluster *ceph;
	struct rbdfetch fetch;
	struct handle fetch_h;
	struct pending *pending;	/* waiting for a worker */
	unsigned npending;
	uint8_t rx[TFTPD_PACKET_MAX];
	uint8_t tx[1024];
	struct batch batch;	/* this turn's reads and lone packets */
	/* A turn's datagrams on transfer ports, one per transfer that has
	 * one: ACKs and ERRORs, all the client may send there. */
	struct rx_slot {
		uint8_t buf[TFTPD_XFER_RX_MAX];
		struct sockaddr_storage from;
		struct iovec iov;
		struct msghdr mh;
	} rx_slots[TFTPD_EVENTS_MAX];
	int gso;		/* UDP GSO works: send a window in one go */
	struct mmsghdr msgs[TFTPD_WINDOWSIZE_CAP];
	struct iovec iovs[2 * TFTPD_WINDOWSIZE_CAP];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
	} gso_cmsg[TFTPD_WINDOWSIZE_CAP];
};

/* udp.c */
int same_addr(const struct sockaddr_storage *a, const struct sockaddr *b,
    socklen_t blen);
int transfer_socket(const struct sockaddr_storage *local, socklen_t llen,
    const char *peer, int reuse);
void send_one(int fd, const struct sockaddr *to, socklen_t tolen,
    const void *buf, size_t len, const char *peer);

/* listener.c: reads the requests waiting on a listening socket. */
void on_listener(struct server *s, int lfd);
/* listener.c: the requests whose files in Ceph were read (or not). */
void on_fetched(struct server *s);

/* conn.c */
int conn_open(struct server *s, const struct sockaddr_storage *local,
    socklen_t llen, const struct sockaddr *peer, socklen_t plen,
    const char *peer_str, struct source *src, const struct tftp_params *p,
    int tsize_known);
void conn_close(struct server *s, struct conn *c);
/* Whether a transfer runs for the client at peer (address and port). */
int conn_of_peer(const struct server *s, const struct sockaddr *peer,
    socklen_t plen);
void conn_reap(struct server *s);
/* Reads the datagram waiting for each of cs[0..n) (n at most
 * TFTPD_EVENTS_MAX), for on_conn() to act on. */
void conn_receive(struct server *s, struct conn **cs, unsigned n);
void on_conn(struct server *s, struct conn *c);
void on_stranger(struct server *s, struct conn *c);
/* Calls the transfers whose deadline is reached at now (ns). */
void check_timers(struct server *s, uint64_t now);
/* The scheduler's tick (sched.h), when it is due at now: holds and lets
 * run what it decides. */
void conn_schedule(struct server *s, uint64_t now);

#endif
