/* dhcpproxyd: proxy DHCP that points netbooting Raspberry Pis and PXE
 * machines at their boot server, beside the LAN's own DHCP server. This
 * file is the thin I/O layer: flags, sockets, the event loop, the boot
 * directory's lookups, and carrying out verdicts. packet.c knows the
 * bytes, arrival.c which datagrams count, decide.c whom to answer. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/clock.h"
#include "common/cmdline.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/signals.h"
#include "arrival.h"
#include "decide.h"
#include "dhcp.h"
#include "unknown.h"

#define MAX_IFACES	16
#define MAX_SOCKETS	(2 * LISTEN_MAX_FDS)

struct flags {
	int answer_all;				/* -a */
	uint32_t tftp_addr;			/* -t, network order; 0 unset */
	struct bootfile bootfiles[BOOTFILES_MAX];	/* -b */
	size_t nbootfiles;
	const char *menu_text;			/* -m */
	int send_opt66;				/* -O */
	const char *ifaces[MAX_IFACES];		/* -I */
	size_t nifaces;
	long long discovery_port;		/* -P, 0 disables */
	const char *unknown_path;		/* -U */
};

/* main's loop state. */
struct server {
	const struct flags *o;
	int rootfd;			/* the boot directory, -1 if none */
	struct arrival_rules rules;
	struct decide_config dc;
	struct decider dec;
	struct dhcp_msg msg;		/* the request being served */
	int fds[MAX_SOCKETS];
	int discovery[MAX_SOCKETS];	/* the socket is on port 4011 */
	int nfds;
	uint16_t client_port;		/* -p + 1: replies to clients */
	uint16_t relay_port;		/* -p: replies to relays */
	struct unknown_record unknown;	/* -U */
};

/* The decision layer's question, asked of the boot directory: a look
 * (O_PATH) as dhcpproxyd's user, which sees a dangling or looping link
 * and a target of the wrong type, but not whether tftpd's user may read
 * the image (tftpd refuses that Pi and says so). */
static enum boot_entry_type
look_entry(void *ctx, const char *name, char *why, size_t whylen)
{
	const struct server *sv = ctx;

	return bootdir_look(sv->rootfd, name, why, whylen);
}

static const struct cmdline_extra extras[] = {
	{ 'a', "all", NULL, "answer every PXE client, known or not" },
	{ 't', "tftp", "ADDR", "TFTP server address when it is another host" },
	{ 'b', "bootfile", "ARCH=FILE",
	    "boot file by option 93 architecture or ipxe (repeatable)" },
	{ 'M', "menu", "TEXT",
	    "option 43 boot menu text (default \"" PI_MENU_TEXT "\")" },
	{ 'O', "option66", NULL, "also name the TFTP server in option 66" },
	{ 'I', "interface", "IFACE", "answer on this interface (repeatable; "
	    "default all)" },
	{ 'P', "discovery-port", "PORT",
	    "PXE boot server discovery port (default 4011, 0 off)" },
	{ 'U', "unknown", "FILE",
	    "record machines that ask and have no entry (netboot-prep -L)" },
	{ 0, NULL, NULL, NULL },
};

static const char *
handle_flag(void *ctx, int ch, const char *arg)
{
	struct flags *o = ctx;
	struct in_addr a;
	const char *why;

	switch (ch) {
	case 'a':
		o->answer_all = 1;
		return NULL;
	case 't':
		if (inet_pton(AF_INET, arg, &a) != 1 || a.s_addr == 0)
			return "not an IPv4 address";
		o->tftp_addr = a.s_addr;
		return NULL;
	case 'b':
		if (o->nbootfiles == BOOTFILES_MAX)
			return "too many boot files";
		if ((why = bootfile_parse(arg,
		    &o->bootfiles[o->nbootfiles])) != NULL)
			return why;
		o->nbootfiles++;
		return NULL;
	case 'M':
		if (*arg == '\0' || strlen(arg) > PXE_MENU_TEXT_MAX)
			return "menu text must be 1 to 240 bytes";
		o->menu_text = arg;
		return NULL;
	case 'O':
		o->send_opt66 = 1;
		return NULL;
	case 'I':
		if (o->nifaces == MAX_IFACES)
			return "too many interfaces";
		if (*arg == '\0' || strlen(arg) >= IF_NAMESIZE)
			return "not an interface name";
		o->ifaces[o->nifaces++] = arg;
		return NULL;
	case 'P':
		return cmdline_count(arg, 0, 65535, &o->discovery_port);
	case 'U':
		if (*arg == '\0')
			return "not a file name";
		o->unknown_path = arg;
		return NULL;
	}
	return "unknown flag";
}

static const char *
ntoa(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = addr };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void
send_reply(int fd, const uint8_t *buf, size_t len, const struct sockaddr_in *to,
    int ifindex, uint32_t local, int broadcast)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} cbuf;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg;
	struct cmsghdr *c;
	struct in_pktinfo pi;
	char a[INET_ADDRSTRLEN];

	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_name = (void *)to;
	msg.msg_namelen = sizeof(*to);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* Source address: ours on the arrival interface. The interface
	 * itself only for a broadcast, which has no route to pick one. */
	memset(&pi, 0, sizeof(pi));
	pi.ipi_ifindex = broadcast ? ifindex : 0;
	pi.ipi_spec_dst.s_addr = local;
	if (ifindex != 0 || local != 0) {
		msg.msg_control = cbuf.b;
		msg.msg_controllen = sizeof(cbuf.b);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	if (sendmsg(fd, &msg, 0) == -1)
		log_warn("send to %s port %u: %s", ntoa(to->sin_addr.s_addr, a),
		    ntohs(to->sin_port), strerror(errno));
}

static void
log_at(enum log_level level, const char *line, const char *note)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		log_err("%s%s", line, note);
		break;
	case LOG_LEVEL_WARN:
		log_warn("%s%s", line, note);
		break;
	case LOG_LEVEL_INFO:
		log_info("%s%s", line, note);
		break;
	case LOG_LEVEL_DEBUG:
		log_debug("%s%s", line, note);
		break;
	case LOG_LEVEL_TRACE:
		log_trace("%s%s", line, note);
		break;
	}
}

static void
answer(struct server *sv, int fd, int discovery, const struct dhcp_msg *m,
    const struct sockaddr_in *from, int ifindex, uint32_t local,
    uint32_t server_id)
{
	struct decide_input in;
	struct decision d;
	struct decision_log dl;
	struct sockaddr_in to;
	uint8_t out[DHCP_MAX_LEN];
	char line[DECISION_LINE_LEN], a[INET_ADDRSTRLEN];
	size_t len = 0;
	int bcast;

	memset(&in, 0, sizeof(in));
	in.m = m;
	in.discovery_port = discovery;
	in.server_id = server_id;
	in.now_ms = monotonic_ms();
	decide(&sv->dec, &sv->dc, &in, &d);
	if (d.no_entry)
		unknown_note(&sv->unknown, d.serial, m->chaddr);
	if (d.verdict == DECIDE_ANSWER &&
	    (len = dhcp_build_reply(m, &d.reply, out, sizeof(out))) == 0) {
		log_warn("%s: cannot build a reply", d.who);
		return;
	}
	decision_line(&in, &d, line, sizeof(line));
	decision_log(&sv->dec, m->chaddr, &d, line, in.now_ms, &dl);
	log_at(dl.level, line, dl.note);
	if (d.verdict != DECIDE_ANSWER)
		return;
	bcast = reply_destination(m, discovery, from, sv->client_port,
	    sv->relay_port, &to);
	log_trace("%s: DHCP%s to %s port %u", d.who,
	    dhcp_msg_type_name(d.reply.msg_type), ntoa(to.sin_addr.s_addr, a),
	    ntohs(to.sin_port));
	send_reply(fd, out, len, &to, ifindex, local, bcast);
}

/* One datagram: the facts of its arrival, arrival.c's verdict on them,
 * then decide.c's on the request. */
static void
serve_one(struct server *sv, int fd, int discovery)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
	} cbuf;
	uint8_t buf[DHCP_MAX_LEN + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct sockaddr_in from;
	struct msghdr msg;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct arrival arr;
	struct arrival_decision ad;
	char ifname[IF_NAMESIZE] = "?", line[128 + IF_NAMESIZE];
	int ifindex = 0;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&from, 0, sizeof(from));
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.b;
	msg.msg_controllen = sizeof(cbuf.b);
	if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("receive: %s", strerror(errno));
		return;
	}
	memset(&arr, 0, sizeof(arr));
	arr.from_ipv4 = msg.msg_namelen >= sizeof(from) &&
	    from.sin_family == AF_INET;
	arr.from = from.sin_addr.s_addr;
	arr.bytes = buf;
	arr.len = (size_t)n;
	arr.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	arr.ifname = ifname;
	if (arr.from_ipv4) {
		datagram_local_addr(fd, &msg, &ss, &sslen, &ifindex);
		if (ss.ss_family == AF_INET)
			arr.local = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
		if (ifindex != 0 &&
		    if_indextoname((unsigned)ifindex, ifname) == NULL)
			strlcpy(ifname, "?", sizeof(ifname));
		arr.ifindex = ifindex;
	}
	arrival_decide(&sv->rules, &arr, &sv->msg, &ad);
	if (log_enabled(ad.level)) {
		arrival_line(&arr, &ad, &sv->msg, line, sizeof(line));
		log_at(ad.level, line, "");
	}
	if (ad.verdict == ARRIVAL_SERVE)
		answer(sv, fd, discovery, &sv->msg, &from, ifindex, arr.local,
		    ad.server_id);
}

static void
socket_setup(int fd)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == -1)
		log_fatal("broadcast on socket %d: %s", fd, strerror(errno));
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1)
		log_fatal("packet info on socket %d: %s", fd, strerror(errno));
}

static uint16_t
socket_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		log_fatal("socket %d: %s", fd, strerror(errno));
	if (sin.sin_family != AF_INET)
		log_fatal("socket %d is not an IPv4 socket", fd);
	return ntohs(sin.sin_port);
}

static void
open_sockets(struct server *sv, const struct cmdline *cl)
{
	int fds[LISTEN_MAX_FDS], n, i;

	if ((n = listen_inherited(cl->inetd, fds, LISTEN_MAX_FDS)) == -1)
		exit(1);
	if (n > 0) {
		/* Handed over: the port tells the role. */
		for (i = 0; i < n; i++) {
			socket_setup(fds[i]);
			sv->fds[sv->nfds] = fds[i];
			sv->discovery[sv->nfds++] = sv->o->discovery_port != 0 &&
			    socket_port(fds[i]) == sv->o->discovery_port;
		}
		return;
	}
	/* The LAN's DHCP server may run on this host: the port is shared
	 * when it lets us (dhcpproxyd(8), SOCKETS). */
	n = listen_udp(cl->listen_addr, cl->port, LISTEN_PKTINFO |
	    LISTEN_IPV4_ONLY | LISTEN_SHARED, fds, LISTEN_MAX_FDS);
	if (n == -1)
		exit(1);
	for (i = 0; i < n; i++) {
		socket_setup(fds[i]);
		sv->fds[sv->nfds] = fds[i];
		sv->discovery[sv->nfds++] = 0;
	}
	if (sv->o->discovery_port == 0)
		return;
	n = listen_udp(cl->listen_addr, (uint16_t)sv->o->discovery_port,
	    LISTEN_PKTINFO | LISTEN_IPV4_ONLY, fds, LISTEN_MAX_FDS);
	if (n == -1)
		exit(1);
	for (i = 0; i < n; i++) {
		socket_setup(fds[i]);
		sv->fds[sv->nfds] = fds[i];
		sv->discovery[sv->nfds++] = 1;
	}
}

int
main(int argc, char *argv[])
{
	static struct flags o = { .discovery_port = PXE_DISCOVERY_PORT };
	static struct server sv;
	static const struct cmdline_spec spec = {
		.progname = "dhcpproxyd",
		.summary = "proxy DHCP that points netbooting Raspberry Pis "
		    "and PXE machines at their boot server",
		.default_root = "/srv/boot",
		.default_port = DHCP_SERVER_PORT,
		.extras = extras,
		.handle = handle_flag,
		.ctx = &o,
	};
	struct pollfd pfd[MAX_SOCKETS + 1];
	struct cmdline cl;
	char why[256];
	int sigfd, i, sig = 0;

	cmdline_start(&cl, &spec, argc, argv);
	if (o.discovery_port == cl.port)
		log_fatal("-P %lld: the discovery port must differ from -p",
		    o.discovery_port);

	sv.o = &o;
	decider_init(&sv.dec);
	sv.dc.answer_all = o.answer_all;
	sv.dc.bootfiles = o.bootfiles;
	sv.dc.nbootfiles = o.nbootfiles;
	sv.dc.menu_text = o.menu_text;
	sv.dc.send_opt66 = o.send_opt66;
	sv.rules.ifaces = o.ifaces;
	sv.rules.nifaces = o.nifaces;
	sv.rules.tftp_addr = o.tftp_addr;
	/* The replies' ports follow the listening port, as dnsmasq's
	 * alternate ports do: 67 and 68, or 1067 and 1068 in a test. */
	sv.relay_port = cl.port;
	sv.client_port = cl.port == 65535 ? 65535 : cl.port + 1;
	sv.rootfd = open(cl.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv.rootfd == -1) {
		if (!o.answer_all)
			log_fatal("boot directory %s: %s", cl.root,
			    strerror(errno));
		log_warn("boot directory %s: %s (answering all with -a)",
		    cl.root, strerror(errno));
	} else {
		sv.dc.look_entry = look_entry;
		sv.dc.entries = &sv;
	}

	sv.unknown.fd = -1;
	if (o.unknown_path != NULL && unknown_open(&sv.unknown, o.unknown_path,
	    why, sizeof(why)) == -1)
		log_fatal("-U %s: %s", o.unknown_path, why);

	if ((sigfd = signals_shutdown_fd()) == -1)
		exit(1);
	open_sockets(&sv, &cl);
	if (cl.user != NULL && privdrop(cl.user) == -1)
		exit(1);
	log_info("serving %s%s on %d socket%s", o.answer_all ?
	    "every PXE client" : "clients with an entry in ",
	    o.answer_all ? "" : cl.root, sv.nfds, sv.nfds == 1 ? "" : "s");

	for (i = 0; i < sv.nfds; i++)
		pfd[i] = (struct pollfd){ .fd = sv.fds[i], .events = POLLIN };
	pfd[sv.nfds] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	while (sig == 0) {
		if (poll(pfd, (nfds_t)sv.nfds + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal("poll: %s", strerror(errno));
		}
		if (pfd[sv.nfds].revents & POLLIN)
			sig = signals_read(sigfd);
		for (i = 0; i < sv.nfds && sig == 0; i++)
			if (pfd[i].revents & (POLLIN | POLLERR))
				serve_one(&sv, sv.fds[i], sv.discovery[i]);
	}
	log_info("signal %d: shutting down", sig);
	for (i = 0; i < sv.nfds; i++)
		close(sv.fds[i]);
	close(sigfd);
	if (sv.rootfd != -1)
		close(sv.rootfd);
	if (sv.unknown.fd != -1)
		close(sv.unknown.fd);
	return 0;
}
