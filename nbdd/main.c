/* nbdd: an NBD server exporting ROOT/NAME.img as export NAME, one writer
 * per image, and shared bases through per-host overlays. This file is the
 * thin outer layer: flags, sockets, one thread per connection, overlays
 * expiring, and a clean shutdown on SIGTERM. */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/access.h"
#include "common/bootdir.h"
#include "common/cmdline.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/rbdcluster.h"
#include "common/ratelimit.h"
#include "common/signals.h"
#include "nbdd/admission.h"
#include "nbdd/bootentry.h"
#include "nbdd/conn.h"
#include "nbdd/ctx.h"
#include "nbdd/overlay.h"
#include "nbdd/ovlpolicy.h"
#include "nbdd/paybuf.h"
#include "nbdd/sizearg.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/tlsflags.h"
#include "nbdd/turnaway.h"

#define DEFAULT_MAX_CONN	128
#define DEFAULT_PER_HOST	8
#define DEFAULT_TIMEOUT		20
#define THREAD_STACK		(256 * 1024)
/* With -C: librbd's and librados' code (an image's open and close, the
 * cluster handle's shutdown by its last user) runs on the connection's
 * thread. Ceph's C++ has stack frames of over 100 KiB with no probe
 * that walks them down page by page: one on a path the tests do not
 * take would step over a small stack's guard page into other memory.
 * As deep as the connector thread's (the system's default). */
#define THREAD_STACK_CEPH	(8 * 1024 * 1024)
#define SHUTDOWN_GRACE_MS	3000
#define TLS_ADMINS_MAX		64

struct worker {
	struct worker *next;
	struct server *srv;
	pthread_t tid;
	int fd;
	struct conn_start start;	/* its host, for the limits per host */
	int handshaking;		/* transmission has not begun */
	int done;
};

/* main's loop state. */
struct server {
	struct nbdd_ctx ctx;
	pthread_mutex_t lock;		/* guards workers' flags */
	struct worker *workers;
	int nworkers;
	struct adm_limits limits;	/* -m, -c, handshakes, turnaways */
	int reapfd;			/* eventfd: a worker finished */
	struct access access;		/* -A */
	struct turnaways turnaways;	/* hosts outside -A told why */
	struct paybufs payloads;	/* ctx.payloads */
	struct ratelimit busy_log;	/* refusals for the limits */
	struct ovl_registry overlays;	/* ctx.overlays, once usable */
	char no_overlays[PATH_MAX + 128];	/* ... or why not */
	char user[64];			/* ctx.user */
	struct rbd_cluster rbd;		/* ctx.rbd, with -C */
};

/* The start-up listing's state (imagekind.h's census). */
struct census_ctx {
	struct server *s;
	struct image_census tally;
};

struct flags {
	long long max_conn;
	long long timeout;
	long long per_host;
	struct allowlist allow;
	int tls_mode;			/* -x, or TLSFLAGS_MODE_UNSET */
	struct tls_config tls;		/* -X, -k, -y */
	const char *admins[TLS_ADMINS_MAX];	/* -w */
	size_t nadmins;
	const char *boot_dir;		/* -B */
	const char *overlay_dir;	/* -o; NULL: the root */
	uint64_t host_max;		/* -q */
	uint64_t total_max;		/* -Q, or SIZE_UNSET */
	long long grace;		/* -g, seconds */
	const char *ceph;		/* -C [ID@]CONF */
};

static const char *
tls_admin_flag(struct flags *f, const char *arg)
{
	const char *bad;

	if ((bad = tlsflags_admin(arg)) != NULL)
		return bad;
	if (f->nadmins == TLS_ADMINS_MAX)
		return "too many administrators' names";
	f->admins[f->nadmins++] = arg;
	return NULL;
}

static const char *
handle_flag(void *ctx, int ch, const char *arg)
{
	struct flags *f = ctx;

	switch (ch) {
	case 'm':
		return cmdline_count(arg, 1, 100000, &f->max_conn);
	case 'T':
		return cmdline_count(arg, 1, 3600, &f->timeout);
	case 'c':
		return cmdline_count(arg, 1, 100000, &f->per_host);
	case 'A':
		return allow_add(&f->allow, arg);
	case 'x':
		return tlsflags_mode(arg, &f->tls_mode);
	case 'X':
		f->tls.x509_dir = arg;
		return NULL;
	case 'k':
		f->tls.psk_file = arg;
		return NULL;
	case 'y':
		f->tls.verify_peer = 1;
		return NULL;
	case 'w':
		return tls_admin_flag(f, arg);
	case 'B':
		f->boot_dir = arg;
		return NULL;
	case 'o':
		f->overlay_dir = arg;
		return NULL;
	case 'q':
		return size_flag(arg, &f->host_max);
	case 'Q':
		return size_flag(arg, &f->total_max);
	case 'g':
		return cmdline_count(arg, 0, 86400, &f->grace);
	case 'C': {
		struct rbd_client_arg a;

		f->ceph = arg;
		return rbd_client_arg_parse(arg, &a);
	}
	default:
		return "unknown flag";
	}
}

/* The TLS flags as tlsflags.h takes them. */
static void
tls_flags_of(const struct flags *f, struct tls_flags *tf)
{
	*tf = (struct tls_flags){ .mode = f->tls_mode,
	    .x509 = f->tls.x509_dir != NULL, .psk = f->tls.psk_file != NULL,
	    .verify = f->tls.verify_peer, .admins = f->admins,
	    .nadmins = f->nadmins, .boot_dir = f->boot_dir != NULL };
}

/* The TLS flags taken together (tlsflags.h): NULL with the mode set
 * and whether identities are checked, or what is wrong. */
static const char *
tls_flags_check(struct flags *f, int *identities)
{
	struct tls_flags tf;
	enum opt_tls mode;
	const char *bad;

	tls_flags_of(f, &tf);
	if ((bad = tlsflags_check(&tf, &mode, identities)) != NULL)
		return bad;
	f->tls_mode = (int)mode;
	return NULL;
}

/* Loads the TLS credentials (before privileges are dropped: keys are
 * usually readable by root only) into ctx. */
static void
tls_setup(struct nbdd_ctx *ctx, const struct flags *f, int identities)
{
	char why[PATH_MAX + 256];

	ctx->tls_mode = (enum opt_tls)f->tls_mode;
	ctx->bootfd = -1;
	ctx->auth.identities = identities;
	ctx->auth.admins = f->admins;
	ctx->auth.nadmins = f->nadmins;
	ctx->auth.lookup = bootentry_image;
	ctx->auth.lookup_ctx = &ctx->bootfd;
	if (ctx->tls_mode == OPT_TLS_OFF)
		return;
	if ((ctx->tls = tls_creds_load(&f->tls, why, sizeof(why))) == NULL)
		log_fatal("TLS: %s", why);
}

/* The boot directory whose entries map TLS identities to images, opened
 * as the user we serve as. */
static void
boot_dir_setup(struct nbdd_ctx *ctx, const struct flags *f,
    const char *root)
{
	char path[PATH_MAX];
	struct tls_flags tf;
	enum tlsflags_boot_dir which;

	tls_flags_of(f, &tf);
	if ((which = tlsflags_boot_dir(&tf, ctx->tls_mode)) ==
	    TLSFLAGS_BOOT_DIR_UNUSED)
		return;
	if (which == TLSFLAGS_BOOT_DIR_NAMED)
		strlcpy(path, f->boot_dir, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/boot", root);
	if ((ctx->bootfd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1)
		return;
	if (which == TLSFLAGS_BOOT_DIR_NAMED)
		log_fatal("boot directory %s: %s", path, strerror(errno));
	log_warn("boot directory %s: %s: TLS identities open only the "
	    "exports named like them (and -w names everything)", path,
	    strerror(errno));
}

static void
tls_describe_setup(const struct nbdd_ctx *ctx, const struct flags *f)
{
	char creds[PATH_MAX + 128], admins[512] = "";

	if (ctx->tls == NULL)
		return;
	tls_creds_describe(ctx->tls, creds, sizeof(creds));
	for (size_t i = 0; i < f->nadmins; i++) {
		if (i > 0)
			strlcat(admins, ", ", sizeof(admins));
		strlcat(admins, f->admins[i], sizeof(admins));
	}
	log_info("TLS %s: %s%s%s", ctx->tls_mode == OPT_TLS_REQUIRED ?
	    "required" : "allowed", creds, *admins ?
	    "; administrators (-w): " : "", admins);
}

/* The handshake is over: the connection no longer counts against the
 * limits on handshakes. */
static void
worker_established(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->srv->lock);
	w->handshaking = 0;
	pthread_mutex_unlock(&w->srv->lock);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *s = w->srv;
	uint64_t one = 1;

	conn_serve(&s->ctx, w->fd, &w->start);
	pthread_mutex_lock(&s->lock);
	w->done = 1;
	pthread_mutex_unlock(&s->lock);
	if (write(s->reapfd, &one, sizeof(one)) == -1)
		log_err("waking the main loop: %s", strerror(errno));
	return NULL;
}

static int
start_worker(struct server *s, int fd, const struct netaddr *host)
{
	pthread_attr_t attr;
	struct worker *w;
	int e;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_err("out of memory for a connection");
		return -1;
	}
	w->srv = s;
	w->fd = fd;
	w->start.host = *host;
	w->start.established = worker_established;
	w->start.arg = w;
	w->handshaking = 1;
	pthread_attr_init(&attr);
	/* Small stacks: nothing big lives on them, and an idle connection
	 * should cost little; untouched, a deep one costs only address
	 * space. */
	pthread_attr_setstacksize(&attr,
	    s->ctx.rbd != NULL ? THREAD_STACK_CEPH : THREAD_STACK);
	pthread_mutex_lock(&s->lock);
	if ((e = pthread_create(&w->tid, &attr, worker_main, w)) != 0) {
		pthread_mutex_unlock(&s->lock);
		pthread_attr_destroy(&attr);
		log_err("starting a connection thread: %s", strerror(e));
		free(w);
		return -1;
	}
	w->next = s->workers;
	s->workers = w;
	s->nworkers++;
	pthread_mutex_unlock(&s->lock);
	pthread_attr_destroy(&attr);
	return 0;
}

/* Joins the workers that have finished and closes their sockets. */
static void
reap(struct server *s)
{
	struct worker **pp, *w, *done = NULL;
	uint64_t n;

	if (read(s->reapfd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_err("reading the wakeup counter: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	for (pp = &s->workers; (w = *pp) != NULL;) {
		if (w->done) {
			*pp = w->next;
			w->next = done;
			done = w;
			s->nworkers--;
		} else
			pp = &w->next;
	}
	pthread_mutex_unlock(&s->lock);
	while ((w = done) != NULL) {
		done = w->next;
		pthread_join(w->tid, NULL);
		close(w->fd);
		free(w);
	}
}

/* What is open now, for host (admission.h's key). Only the main thread
 * adds and removes workers and turnaways; the lock is for the flags the
 * workers set. */
static void
count_open(struct server *s, const struct netaddr *host,
    struct adm_counts *c)
{
	int mine;

	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&s->lock);
	for (struct worker *w = s->workers; w != NULL; w = w->next) {
		if (w->done)
			continue;
		mine = adm_same_host(&w->start.host, host);
		c->conns++;
		c->host_conns += mine;
		if (w->handshaking) {
			c->handshakes++;
			c->host_handshakes += mine;
		}
	}
	pthread_mutex_unlock(&s->lock);
	c->refusing = s->turnaways.n;
	c->host_refusing = turnaway_count(&s->turnaways, host);
}

/* A refusal for one of the limits, which a remote host causes: logged,
 * but a flood gets a few lines and a count. */
static void
log_busy(struct server *s, const char *peer, const struct netaddr *host,
    const struct adm_decision *d)
{
	char why[ADM_REFUSAL_LEN];
	uint32_t held;

	if (!ratelimit_take(&s->busy_log, (uint64_t)sock_now_ms(), &held))
		return;
	if (!adm_refusal_str(d, host, why, sizeof(why)))
		return;
	if (held > 0)
		log_warn("%s: refused: %s (%u similar lines held back)", peer,
		    why, held);
	else
		log_warn("%s: refused: %s", peer, why);
}

/* Starts serving the connection on fd, within the limits: a host outside
 * the allowed networks takes no worker and no slot, and is told why
 * from the main loop (turnaway.c), so its user reads it. 0, or -1 when fd
 * was closed. */
static int
admit(struct server *s, int fd, const struct sockaddr *sa, socklen_t sl)
{
	char addr[CLAIM_HOST_MAX], peer[CLAIM_HOST_MAX + 8];
	struct netaddr who, host;
	const struct netaddr *local;
	struct adm_counts counts;
	struct adm_decision d;
	int64_t now = sock_now_ms();
	size_t nlocal;
	int allowed;

	sock_peer(fd, addr, sizeof(addr), peer, sizeof(peer));
	if (netaddr_from_sockaddr(sa, sl, &who) == -1) {
		log_warn("%s: refused: not an IPv4 or IPv6 peer", peer);
		close(fd);
		return -1;
	}
	allowed = access_check(&s->access, sa, sl, peer, "NBD connection",
	    (uint64_t)now);
	local = access_local_networks(&s->access, (uint64_t)now, &nlocal);
	adm_host_key(&who, local, nlocal, &host);
	count_open(s, &host, &counts);
	adm_decide(&s->limits, allowed, &counts, &d);
	switch (d.verdict) {
	case ADM_SERVE:
		if (start_worker(s, fd, &host) == 0)
			return 0;
		break;
	case ADM_TELL:
		return turnaway_start(&s->turnaways, fd, &host, addr, peer,
		    adm_turnaway_deadline(now, s->ctx.timeout));
	case ADM_DROP_REFUSED:
		/* access_check said why (rate-limited); there is no more
		 * room to tell the host itself. */
		break;
	default:
		log_busy(s, peer, &host, &d);
		break;
	}
	close(fd);
	return -1;
}

/* Takes every connection waiting on lfd, up to a bound (admission.h). */
static void
accept_waiting(struct server *s, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint32_t held;
	int fd;

	for (int i = 0; i < ADM_ACCEPTS_PER_WAKEUP; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd == -1) {
			if (adm_accept_error(errno) == ADM_ACCEPT_QUIET)
				return;
			if (ratelimit_take(&s->busy_log,
			    (uint64_t)sock_now_ms(), &held))
				log_err("accept: %s", strerror(errno));
			return;
		}
		(void)admit(s, fd, (struct sockaddr *)&ss, sl);
	}
}

/* SIGTERM: no new requests are read (SHUT_RD lets each thread finish
 * the requests it has and send their replies), then a hard stop for
 * threads stuck sending to a client that does not read. */
static void
shutdown_workers(struct server *s)
{
	int64_t deadline = sock_now_ms() + SHUTDOWN_GRACE_MS;
	struct pollfd pfd = { .fd = s->reapfd, .events = POLLIN };
	struct worker *w;
	int hard = 0;

	pthread_mutex_lock(&s->lock);
	for (w = s->workers; w != NULL; w = w->next)
		(void)shutdown(w->fd, SHUT_RD);
	pthread_mutex_unlock(&s->lock);
	for (;;) {
		int64_t left = deadline - sock_now_ms();

		reap(s);
		if (s->nworkers == 0)
			break;
		if (left <= 0 && !hard) {
			pthread_mutex_lock(&s->lock);
			for (w = s->workers; w != NULL; w = w->next)
				(void)shutdown(w->fd, SHUT_RDWR);
			pthread_mutex_unlock(&s->lock);
			hard = 1;
		}
		(void)poll(&pfd, 1, left > 0 ? (int)left : 100);
	}
}

/* The ms until the next overlay's grace period ends (-1: none): the
 * registry discards those that are over as it answers. Workers wake the
 * loop through reapfd when they end, so a grace period that starts is
 * seen at once. */
static int64_t
expiry_wait(struct server *s)
{
	if (s->ctx.overlays == NULL)
		return -1;
	return ovl_expire(s->ctx.overlays);
}

/* The poll timeout: the sooner of the next overlay's expiry and the next
 * turnaway's deadline. */
static int
loop_timeout(struct server *s)
{
	return adm_poll_timeout(expiry_wait(s),
	    turnaway_timeout(&s->turnaways, sock_now_ms()));
}

static int
serve(struct server *s, int *lfds, int nl, int sigfd, int inetd)
{
	struct pollfd pfd[LISTEN_MAX_FDS + 2 + ADM_REFUSING_MAX];
	int n, nt, sig;

	if (inetd) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getpeername(0, (struct sockaddr *)&ss, &sl) == -1) {
			log_err("-i: fd 0 has no peer: %s", strerror(errno));
			return 1;
		}
		if (admit(s, 0, (struct sockaddr *)&ss, sl) == -1)
			return 1;
	}
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->reapfd, .events = POLLIN };
		for (int i = 0; i < nl; i++)
			pfd[2 + i] = (struct pollfd){ .fd = lfds[i],
			    .events = POLLIN };
		nt = turnaway_pollfds(&s->turnaways, pfd + 2 + nl);
		if ((n = poll(pfd, (nfds_t)(2 + nl + nt),
		    loop_timeout(s))) == -1) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			if ((sig = signals_read(sigfd)) != 0) {
				log_info("signal %d: shutting down", sig);
				break;
			}
		}
		/* Before any accept: the entries are the turnaways' now. */
		turnaway_events(&s->turnaways, pfd + 2 + nl, nt, sock_now_ms());
		if (pfd[1].revents & POLLIN)
			reap(s);
		if (inetd && adm_inetd_done(s->nworkers, s->turnaways.n))
			return 0;
		for (int i = 0; i < nl; i++)
			if (pfd[2 + i].revents & POLLIN)
				accept_waiting(s, lfds[i]);
	}
	turnaways_close(&s->turnaways);
	shutdown_workers(s);
	return 0;
}

/* What all overlays together may hold: -Q, or half the space free where
 * they are made now. */
static uint64_t
total_limit(const struct ovl_plan *p)
{
	struct statvfs sv;

	if (!p->total_from_free)
		return p->total_max;
	if (statvfs(p->dir, &sv) == -1)
		log_fatal("overlay directory %s: %s (nbdd -Q sets the limit "
		    "of all overlays without looking)", p->dir,
		    strerror(errno));
	return ovl_total_default((uint64_t)sv.f_bavail * sv.f_frsize);
}

/* The overlay registry, as the user nbdd serves as, where ovlpolicy.h's
 * plan puts it: a directory named with -o must work, or nbdd does not
 * start; the root, the default, may be one nbdd's user cannot write
 * (images owned by it, the directory by root): then only shared bases
 * are refused, and the log says why. */
static void
open_overlays(struct server *s, const struct flags *f,
    const struct cmdline *cl)
{
	const struct ovl_flags of = { .overlay_dir = f->overlay_dir,
	    .root = cl->root, .host_max = f->host_max,
	    .total_max = f->total_max, .grace_s = f->grace,
	    .max_conn = s->limits.max_conn, .inetd = cl->inetd };
	struct ovl_plan p;
	struct ovl_limits lim;
	char line[OVL_PLAN_LINE_LEN(PATH_MAX)];

	ovl_plan_from_flags(&of, &p);
	lim = (struct ovl_limits){ .host_max = p.host_max,
	    .grace_ms = p.grace_ms, .max_overlays = p.max_overlays };
	if (ovl_registry_init(&s->overlays, p.dir, &lim, NULL, s->no_overlays,
	    sizeof(s->no_overlays)) == 0) {
		s->ctx.overlays = &s->overlays;
		s->overlays.total_max = total_limit(&p);
		if (p.announce) {
			ovl_plan_describe(&p, s->overlays.total_max, line,
			    sizeof(line));
			log_info("%s", line);
		}
		return;
	}
	if (p.unusable == OVL_UNUSABLE_FATAL)
		log_fatal("%s (nbdd -o)", s->no_overlays);
	(p.unusable == OVL_UNUSABLE_QUIET ? log_debug : log_warn)("%s: shared "
	    "bases (images nbdd may not write) are refused until -o names a "
	    "directory where it can make overlays", s->no_overlays);
	s->ctx.no_overlays = s->no_overlays;
}

/* The name of the user nbdd serves as, for the fixes its messages name. */
static void
user_setup(struct server *s)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		strlcpy(s->user, pw->pw_name, sizeof(s->user));
	else
		snprintf(s->user, sizeof(s->user), "%u", (unsigned)geteuid());
	s->ctx.user = s->user;
}

static enum census_outcome
census_outcome_of(enum export_status st)
{
	switch (st) {
	case EXPORT_OK:
		return CENSUS_OPENED;
	case EXPORT_REFUSED:
		return CENSUS_REFUSED;
	case EXPORT_IN_CEPH:
		return CENSUS_IN_CEPH;
	default:
		return CENSUS_OTHER;
	}
}

static int
census_one(void *ctx, const char *name, size_t len)
{
	struct census_ctx *ic = ctx;
	char reason[RBD_TARGET_MAX + 256], why[PATH_MAX * 2 + 512];
	const char *what;
	struct export ex;
	enum export_status st;

	st = export_open(ic->s->ctx.rootfd, name, len, &ex, &what);
	switch (image_census_add(&ic->tally, census_outcome_of(st),
	    st == EXPORT_OK && ex.read_only, ic->s->ctx.rbd != NULL)) {
	case CENSUS_LINE_BASE:
		image_kind_reason(ex.kind, ic->s->user, reason,
		    sizeof(reason));
		log_info("image %s: a shared base, an overlay for each host "
		    "(%s)", ex.name, reason);
		break;
	case CENSUS_LINE_REFUSED:
		export_refusal(&ex, ic->s->ctx.root, ic->s->user, why,
		    sizeof(why));
		log_warn("image %s: refused to clients until fixed: %s",
		    ex.name, why);
		break;
	case CENSUS_LINE_CEPH_NO_CLUSTER:
		rbd_target_str(&ex.rbd_target, reason, sizeof(reason));
		log_warn("image %s: in Ceph (%s), refused to clients: nbdd has "
		    "no -C [ID@]CONF", ex.name, reason);
		break;
	case CENSUS_LINE_NONE:
		break;
	}
	if (st == EXPORT_OK)
		export_close(&ex);
	return 0;
}

/* Which images are shared bases and which will be refused, as nbdd sees
 * them now. Advice only: images are looked up again for every client. */
static void
image_census(struct server *s)
{
	struct census_ctx ic = { .s = s };
	char line[256];

	if (export_list(s->ctx.rootfd, census_one, &ic) == -1) {
		log_warn("root %s: listing images: %s", s->ctx.root,
		    strerror(errno));
		return;
	}
	image_census_describe(&ic.tally, line, sizeof(line));
	log_info("%s", line);
}

/* The Ceph cluster of -C, connected by a thread of its own: nbdd does not
 * wait for it, and serves its files whether it answers or not. */
static void
rbd_setup(struct server *s, const struct flags *f)
{
	char why[RBDC_WHY_MAX];
	int usage;

	if (f->ceph == NULL)
		return;
	/* The argument was checked with the other flags: what fails here
	 * is the machine's. */
	if (rbdc_init(&s->rbd, f->ceph, 0, &usage, why, sizeof(why)) == -1)
		log_fatal("-C %s: %s", f->ceph, why);
	if (rbdc_start(&s->rbd, s->user, why, sizeof(why)) == -1)
		log_fatal("-C %s: %s", f->ceph, why);
	s->ctx.rbd = &s->rbd;
}

/* The budget for payloads held whole (budget.h), from the server's
 * memory. */
static void
payloads_setup(struct server *s, int inetd)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t total = budget_default(pages > 0 && page > 0 ?
	    (uint64_t)pages * (uint64_t)page : 0);

	if (paybufs_init(&s->payloads, total) == -1)
		log_fatal("payload buffers: %s", strerror(errno));
	s->ctx.payloads = &s->payloads;
	if (!inetd)
		log_info("long WRITEs are held whole before they are written: "
		    "at most %llu MiB of them at once, %llu MiB from one host, "
		    "%llu MiB over %llu MiB each", (unsigned long long)(total >> 20),
		    (unsigned long long)(s->payloads.budget.host_max >> 20),
		    (unsigned long long)(budget_large_max(&s->payloads.budget) >>
		    20), BUDGET_KERNEL_MAX >> 20);
}

int
main(int argc, char *argv[])
{
	static const struct cmdline_extra extras[] = {
		{ 'm', "max", "N",
		    "serve at most N connections at once (default 128)" },
		{ 'T', "timeout", "SECONDS",
		    "drop a client stalled in the handshake or a request "
		    "(default 20)" },
		{ 'c', "per-host", "N",
		    "at most N connections from one host (default 8)" },
		{ 'A', "allow", "NETWORK",
		    "serve only hosts in NETWORK (repeatable; default "
		    "\"local\": loopback and this server's networks)" },
		{ 'x', "tls", "MODE",
		    "NBD over TLS: off, allowed or required (default: "
		    "required with -X or -k, else off)" },
		{ 'X', "tls-certs", "DIR",
		    "X.509: DIR/server-cert.pem, server-key.pem, and with -y "
		    "ca-cert.pem and ca-crl.pem" },
		{ 'k', "tls-psk", "FILE",
		    "pre-shared keys, USER:HEXKEY lines (psktool)" },
		{ 'y', "tls-verify", NULL,
		    "require client certificates from ca-cert.pem; open "
		    "exports by their common name" },
		{ 'w', "tls-admin", "NAME",
		    "the TLS identity NAME may open every export "
		    "(repeatable)" },
		{ 'B', "boot-dir", "DIR",
		    "boot entries that map identities to images (default "
		    "ROOT/boot)" },
		{ 'o', "overlays", "DIR",
		    "make shared bases' overlays in DIR (default: the root)" },
		{ 'q', "quota", "SIZE",
		    "what one host's overlays may hold (default 4G; 0: no "
		    "limit)" },
		{ 'Q', "quota-total", "SIZE",
		    "what all overlays together may hold (default: half the "
		    "space free in the overlay directory; 0: no limit)" },
		{ 'g', "grace", "SECONDS",
		    "keep an overlay this long after its host's last "
		    "connection (default 60; 0: discard at once)" },
		{ 'C', "ceph", "[ID@]CONF",
		    "serve images in Ceph (NAME.img -> rbd:POOL/IMAGE) as "
		    "client.ID (default admin) of the cluster CONF names" },
		{ 0, NULL, NULL, NULL },
	};
	struct flags f = { .max_conn = DEFAULT_MAX_CONN,
	    .timeout = DEFAULT_TIMEOUT, .per_host = DEFAULT_PER_HOST,
	    .tls_mode = TLSFLAGS_MODE_UNSET,
	    .host_max = OVL_HOST_MAX_DEFAULT, .total_max = SIZE_UNSET,
	    .grace = OVL_GRACE_MS_DEFAULT / 1000 };
	const struct cmdline_spec spec = {
		.progname = "nbdd",
		.summary = "NBD server exporting ROOT/NAME.img as export NAME, "
		    "one writer per image",
		.default_root = "/srv",
		.default_port = 10809,
		.extras = extras,
		.handle = handle_flag,
		.ctx = &f,
	};
	struct server s;
	struct cmdline cl;
	int lfds[LISTEN_MAX_FDS], nl = 0, sigfd, rc, identities, handed;
	const char *bad;

	allow_init(&f.allow);
	cmdline_start(&cl, &spec, argc, argv);
	if ((bad = tls_flags_check(&f, &identities)) != NULL) {
		log_err("%s", bad);
		return 2;
	}

	memset(&s, 0, sizeof(s));
	adm_limits_init(&s.limits, f.max_conn, f.per_host);
	turnaways_init(&s.turnaways);
	access_init(&s.access, &f.allow);
	s.ctx.timeout = (int)f.timeout;
	/* In inetd mode each connection is its own process, so a second
	 * connection from the same host would meet our own lock: no
	 * multi-conn there. */
	s.ctx.multi_conn = !cl.inetd;
	tls_setup(&s.ctx, &f, identities);
	if ((sigfd = signals_shutdown_fd()) == -1)
		return 1;
	if ((nl = listen_inherited(cl.inetd, lfds, LISTEN_MAX_FDS)) == -1)
		return 1;
	handed = nl > 0;
	if (cl.inetd) {
		int type;
		socklen_t tl = sizeof(type);

		if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
		    type != SOCK_STREAM)
			log_fatal("-i: fd 0 is not a TCP socket");
		nl = 0;
	} else if (nl == 0 &&
	    (nl = listen_tcp(cl.listen_addr, cl.port, lfds,
	    LISTEN_MAX_FDS)) == -1)
		return 1;
	/* Accept never blocks the loop, whoever bound the socket. */
	for (int i = 0; i < nl; i++)
		if (fcntl(lfds[i], F_SETFL, fcntl(lfds[i], F_GETFL) |
		    O_NONBLOCK) == -1)
			log_fatal("listening socket %d: %s", lfds[i],
			    strerror(errno));
	if (cl.user != NULL && privdrop(cl.user) == -1)
		return 1;
	/* The root is opened as the user we serve as, so the images that
	 * user cannot write are exported read-only. */
	if ((s.ctx.rootfd = open(cl.root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		log_fatal("root %s: %s", cl.root, strerror(errno));
	s.ctx.root = cl.root;
	user_setup(&s);
	rbd_setup(&s, &f);
	boot_dir_setup(&s.ctx, &f, cl.root);
	if ((s.reapfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		log_fatal("eventfd: %s", strerror(errno));
	if (claims_init(&s.ctx.claims) == -1 ||
	    rbd_claims_init(&s.ctx.rbd_claims) == -1)
		log_fatal("mutex: %s", strerror(errno));
	open_overlays(&s, &f, &cl);
	payloads_setup(&s, cl.inetd);
	if ((rc = pthread_mutex_init(&s.lock, NULL)) != 0)
		log_fatal("mutex: %s", strerror(rc));
	if (!cl.inetd) {
		char allowed[160], on[256];

		/* The sockets as they are: under socket activation they are
		 * systemd's, whatever -l and -p say. */
		listen_describe(lfds, nl, on, sizeof(on));
		access_describe(&f.allow, allowed, sizeof(allowed));
		log_info("serving %s/*.img on %s%s (at most %lld "
		    "connections, %lld per host) to hosts in: %s", cl.root,
		    on, handed ? " (from systemd)" : "", s.limits.max_conn,
		    s.limits.per_host, allowed);
		tls_describe_setup(&s.ctx, &f);
		image_census(&s);
	}

	rc = serve(&s, lfds, nl, sigfd, cl.inetd);

	for (int i = 0; i < nl; i++)
		close(lfds[i]);
	close(s.reapfd);
	close(s.ctx.rootfd);
	if (s.ctx.bootfd != -1)
		close(s.ctx.bootfd);
	tls_creds_free(s.ctx.tls);
	close(sigfd);
	if (s.ctx.overlays != NULL)
		ovl_registry_destroy(s.ctx.overlays);
	claims_destroy(&s.ctx.claims);
	rbd_claims_destroy(&s.ctx.rbd_claims);
	if (s.ctx.rbd != NULL)
		rbdc_destroy(s.ctx.rbd);
	paybufs_destroy(&s.payloads);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
