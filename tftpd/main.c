/* tftpd: read-only TFTP server for Raspberry Pi boot files. main.c
 * parses flags, binds, drops privileges and runs the event loop; the I/O
 * around it is listener.c and conn.c, what packets mean is packet.c, what
 * a request gets is request.c, what a transfer does is transfer.c, where
 * bytes come from is resolve.c. */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/access.h"
#include "common/clock.h"
#include "common/cmdline.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/rbdcluster.h"
#include "common/signals.h"
#include "tftpd/request.h"
#include "tftpd/server.h"

#define DEFAULT_MAX_TRANSFERS	512
#define DEFAULT_IDLE_SECS	60	/* inetd mode: exit after this */
#define LISTEN_RCVBUF		(4 * 1024 * 1024)
/* Calls handed to the kernel at once, at most: a turn reads at most one
 * epoll_wait's worth of datagrams and answers them and the timers due. */
#define BATCH_ENTRIES		(2 * TFTPD_EVENTS_MAX)

struct flags {
	long long max_transfers;
	long long idle_secs;
	struct allowlist allow;
	const char *ceph;	/* -C [ID@]CONF, or NULL */
};

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

/* How long epoll_wait may sleep before the earliest transfer deadline:
 * rounded up to whole milliseconds, so the loop never wakes before it is
 * due and spins. -1 when no transfer runs. */
static int
timer_wait_ms(const struct server *s, uint64_t now)
{
	const struct timer *first = timerheap_first(&s->timers);
	uint64_t left;

	if (first == NULL)
		return -1;
	if (time_reached(now, first->due))
		return 0;
	left = (first->due - now + NS_PER_MS - 1) / NS_PER_MS;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* The scheduler ticks while two or more transfers run, or while it is
 * overloaded (sched.h): how long epoll_wait may sleep before the next
 * tick, or -1 when there is none. */
static int
tick_wait_ms(const struct server *s, uint64_t now)
{
	if (s->ntransfers < 2 && !s->sched.overloaded)
		return -1;
	if (time_reached(now, s->next_tick_ns))
		return 0;
	return (int)((s->next_tick_ns - now + NS_PER_MS - 1) / NS_PER_MS);
}

/* The loop: until a signal, or in inetd mode until idle. */
static void
serve(struct server *s)
{
	struct epoll_event evs[TFTPD_EVENTS_MAX];
	struct conn *ready[TFTPD_EVENTS_MAX];
	uint64_t now, now_exact;
	unsigned nready;
	int n, timeout;

	s->last_activity_ms = monotonic_ms();
	for (;;) {
		now_exact = monotonic_ns();
		now = now_exact / NS_PER_MS;
		timeout = -1;
		if (s->conns != NULL) {
			int tick = tick_wait_ms(s, now_exact);

			timeout = timer_wait_ms(s, now_exact);
			if (tick >= 0 && (timeout < 0 || tick < timeout))
				timeout = tick;
		} else if (s->inetd) {
			uint64_t end = s->last_activity_ms + s->idle_ms;
			if (now >= end) {
				log_debug("idle for %llu s, exiting",
				    (unsigned long long)s->idle_ms / 1000);
				return;
			}
			timeout = (int)(end - now);
		}
		n = epoll_wait(s->epfd, evs, TFTPD_EVENTS_MAX, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_fatal("epoll_wait: %s", strerror(errno));
		}
		/* The transfers' datagrams first, all in one go. */
		nready = 0;
		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;
			if (h->kind == KIND_CONN)
				ready[nready++] = (struct conn *)h;
		}
		if (nready > 0)
			conn_receive(s, ready, nready);
		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;

			switch (h->kind) {
			case KIND_SIGNAL: {
				int sig = signals_read(h->fd);

				if (sig != 0) {
					log_info("signal %d: shutting down",
					    sig);
					return;
				}
				break;
			}
			case KIND_LISTENER:
				on_listener(s, h->fd);
				break;
			case KIND_RBDFETCH:
				on_fetched(s);
				break;
			case KIND_CONN:
				if (!((struct conn *)h)->closed)
					on_conn(s, (struct conn *)h);
				break;
			case KIND_STRANGER:
				if (!h->conn->closed)
					on_stranger(s, h->conn);
				break;
			}
		}
		now_exact = monotonic_ns();
		check_timers(s, now_exact);
		if (s->ntransfers >= 2 || s->sched.overloaded)
			conn_schedule(s, now_exact);
		batch_flush(&s->batch);
		conn_reap(s);
	}
}

static const char *
handle_flag(void *ctx, int ch, const char *arg)
{
	struct flags *o = ctx;

	switch (ch) {
	case 'm':
		return cmdline_count(arg, 1, 65536, &o->max_transfers);
	case 'T':
		return cmdline_count(arg, 1, 86400, &o->idle_secs);
	case 'A':
		return allow_add(&o->allow, arg);
	case 'C': {
		struct rbd_client_arg a;

		o->ceph = arg;
		return rbd_client_arg_parse(arg, &a);
	}
	}
	return "unknown flag";
}

/* The Ceph cluster of -C, connected by a thread of its own, and the
 * workers that read boot files out of its images (rbdfetch.h): tftpd
 * waits for neither, and serves its files whether the cluster answers or
 * not. */
static void
rbd_setup(struct server *s, const struct flags *f, const char *user)
{
	static struct rbd_cluster cluster;
	char why[RBDC_WHY_MAX];
	int usage;

	if (f->ceph == NULL)
		return;
	/* The argument was checked with the other flags: what fails here
	 * is the machine's. fresh_reads: no librbd cache, so a file is read
	 * as the image's writer last flushed it. */
	if (rbdc_init(&cluster, f->ceph, 1, &usage, why, sizeof(why)) == -1)
		log_fatal("-C %s: %s", f->ceph, why);
	if (rbdc_start(&cluster, user != NULL ? user : "root", why,
	    sizeof(why)) == -1)
		log_fatal("-C %s: %s", f->ceph, why);
	if (rbdfetch_start(&s->fetch, &cluster, why, sizeof(why)) == -1)
		log_fatal("-C %s: %s", f->ceph, why);
	s->ceph = &cluster;
	s->fetch_h = (struct handle){ KIND_RBDFETCH, s->fetch.efd, NULL };
	log_info("images in Ceph (rbd: entries) read as client.%s of the "
	    "cluster %s, read-only and without their lock",
	    cluster.arg.id, cluster.arg.conf);
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
		{ 'm', "max", "N",
		  "at most N transfers at once (default 512)" },
		{ 'T', "timeout", "SECS",
		  "inetd mode: exit after SECS idle (default 60)" },
		{ 'A', "allow", "NETWORK",
		  "serve only hosts in NETWORK (repeatable; default \"local\": "
		  "loopback and this server's networks)" },
		{ 'C', "ceph", "[ID@]CONF",
		  "serve boot files out of images in Ceph (NAME.img -> "
		  "rbd:POOL/IMAGE[@SNAP]) as client.ID (default admin) of "
		  "the cluster CONF names" },
		{ 0, NULL, NULL, NULL },
	};
	struct flags opts = { .max_transfers = DEFAULT_MAX_TRANSFERS,
	    .idle_secs = DEFAULT_IDLE_SECS };
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
	char allowed[160];
	int fds[LISTEN_MAX_FDS], n, rc = 0;

	allow_init(&opts.allow);
	cmdline_start(&cl, &spec, argc, argv);
	/* The sockets first: a port taken or not ours to bind is the likely
	 * failure, and nothing is allocated yet to leave behind. */
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
	if ((s = calloc(1, sizeof(*s))) == NULL)
		log_fatal("memory: %s", strerror(errno));
	s->max_transfers = (unsigned)opts.max_transfers;
	if (timerheap_init(&s->timers, s->max_transfers) == -1)
		log_fatal("memory for %u timers: %s", s->max_transfers,
		    strerror(errno));
	if ((s->sched_items = calloc(s->max_transfers,
	    sizeof(*s->sched_items))) == NULL)
		log_fatal("memory for %u transfers: %s", s->max_transfers,
		    strerror(errno));
	sched_init(&s->sched, monotonic_ns());
	ratelimit_init(&s->sched_log, SCHED_LOG_BURST, SCHED_LOG_PER_MIN);
	s->gso = 1;
	s->inetd = cl.inetd;
	s->idle_ms = (uint64_t)opts.idle_secs * 1000;
	access_init(&s->access, &opts.allow);
	ratelimit_init(&s->request_log, REQUEST_LOG_BURST, REQUEST_LOG_PER_MIN);
	raise_fd_limit(2 * s->max_transfers + 64);

	if ((s->sig.fd = signals_shutdown_fd()) == -1)
		return 1;
	s->sig.kind = KIND_SIGNAL;
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
	batch_init(&s->batch, BATCH_ENTRIES);
	rbd_setup(s, &opts, cl.user);
	if (add_handle(s, &s->sig) == -1)
		return 1;
	if (s->ceph != NULL && add_handle(s, &s->fetch_h) == -1)
		return 1;
	for (int i = 0; i < n; i++)
		if (add_handle(s, &s->listeners[i]) == -1)
			return 1;
	access_describe(&opts.allow, allowed, sizeof(allowed));
	log_info("serving %s on %d socket%s%s, at most %u transfers, to hosts "
	    "in: %s", cl.root, n, n == 1 ? "" : "s",
	    cl.inetd ? " (inetd)" : "", s->max_transfers, allowed);

	serve(s);

	while (s->conns != NULL) {
		log_info("%s %s: cut short by shutdown", s->conns->peer_str,
		    s->conns->xfer.src ? s->conns->xfer.src->name : "?");
		conn_close(s, s->conns);
	}
	if (s->ceph != NULL) {
		/* The workers end their reads (within the cluster's op
		 * timeout), and their requests are answered. */
		rbdfetch_stop(&s->fetch);
		on_fetched(s);
		while (s->conns != NULL)
			conn_close(s, s->conns);
		rbdc_destroy(s->ceph);
	}
	conn_reap(s);
	batch_fini(&s->batch);
	timerheap_free(&s->timers);
	free(s->sched_items);
	for (int i = 0; i < s->nlisteners; i++)
		close(s->listeners[i].fd);
	close(s->sig.fd);
	close(s->rootfd);
	close(s->epfd);
	free(s);
	return rc;
}
