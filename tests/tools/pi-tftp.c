/* pi-tftp: a TFTP client that behaves like a Raspberry Pi's bootloader,
 * for testing and benchmarking tftpd (or any TFTP server). It shares no
 * code with tftpd on purpose: it is a second, independent reading of the
 * RFCs.
 *
 *   pi-tftp [-H host] [-p port] [-b blksize] [-w windowsize] [-T]
 *           get REMOTE LOCAL
 *       one transfer; -T asks tsize; LOCAL "-" discards the bytes.
 *   pi-tftp [-H host] [-p port] pi SERIAL OUTDIR FILE...
 *       the Pi 4's sequence for each FILE: RRQ SERIAL/FILE with tsize=0
 *       and blksize=1468, OACK, abort with ERROR, the same RRQ again at
 *       once, a lock-step fetch into OUTDIR (a '/' in FILE becomes '_').
 *       Every step is checked and printed; -x NAME also checks that
 *       SERIAL/NAME is "file not found".
 *   pi-tftp [-H host] [-p port] [-b blksize] [-w windowsize] bench -n N
 *           REMOTE
 *       N concurrent clients in this one process, each fetching REMOTE;
 *       prints the aggregate rate.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define OP_RRQ 1
#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define OP_OACK 6
#define RETRY_MS 1000
#define RETRIES 5
#define MAXPKT 65536

enum cstate { C_RRQ_SENT, C_RECEIVING, C_DONE, C_FAILED };

struct client {
	int fd;
	struct sockaddr_storage server;	/* where the RRQ goes */
	socklen_t slen;
	struct sockaddr_storage tid;	/* the transfer's port, once known */
	int have_tid;
	char file[600];
	unsigned blksize, windowsize;	/* asked, then as agreed */
	int ask_blksize, ask_windowsize, ask_tsize;
	int probe;			/* abort with ERROR after the OACK */
	enum cstate state;
	uint64_t expect;		/* next block, from 1, never wraps */
	uint64_t bytes;
	int got_oack;
	int oack_has_tsize;
	uint64_t tsize;
	unsigned oack_blksize;
	int out_fd;			/* -1: discard */
	uint8_t last[1024];		/* last packet sent, for resending */
	size_t last_len;
	uint64_t deadline;
	int retries;
	uint16_t err_code;
	char err[256];
	uint64_t start_ms, end_ms;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	fprintf(stderr, "pi-tftp: %s: not a numeric address\n", host);
	return -1;
}

static size_t
put_str(uint8_t *p, size_t at, size_t cap, const char *s)
{
	size_t l = strlen(s) + 1;

	if (at + l > cap)
		return cap + 1;
	memcpy(p + at, s, l);
	return at + l;
}

static void
send_last(struct client *c)
{
	const struct sockaddr *to = (const struct sockaddr *)&c->server;
	ssize_t r;

	/* Once the transfer's port is known the socket is connected to it:
	 * cheaper sends, and the kernel drops everyone else's packets. */
	if (c->have_tid)
		r = send(c->fd, c->last, c->last_len, 0);
	else
		r = sendto(c->fd, c->last, c->last_len, 0, to, c->slen);
	if (r == -1 && errno != EAGAIN)
		fprintf(stderr, "pi-tftp: send: %s\n", strerror(errno));
	c->deadline = now_ms() + RETRY_MS;
}

static int
client_start(struct client *c)
{
	char num[16];
	size_t n = 2;

	c->fd = socket(c->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		fprintf(stderr, "pi-tftp: socket: %s\n", strerror(errno));
		return -1;
	}
	c->last[0] = 0;
	c->last[1] = OP_RRQ;
	n = put_str(c->last, n, sizeof(c->last), c->file);
	n = put_str(c->last, n, sizeof(c->last), "octet");
	if (c->ask_tsize) {
		n = put_str(c->last, n, sizeof(c->last), "tsize");
		n = put_str(c->last, n, sizeof(c->last), "0");
	}
	if (c->ask_blksize) {
		snprintf(num, sizeof(num), "%u", c->blksize);
		n = put_str(c->last, n, sizeof(c->last), "blksize");
		n = put_str(c->last, n, sizeof(c->last), num);
	}
	if (c->ask_windowsize) {
		snprintf(num, sizeof(num), "%u", c->windowsize);
		n = put_str(c->last, n, sizeof(c->last), "windowsize");
		n = put_str(c->last, n, sizeof(c->last), num);
	}
	if (n > sizeof(c->last)) {
		fprintf(stderr, "pi-tftp: request too long\n");
		return -1;
	}
	c->last_len = n;
	if (!c->ask_blksize)
		c->blksize = 512;
	if (!c->ask_windowsize)
		c->windowsize = 1;
	c->state = C_RRQ_SENT;
	c->expect = 1;
	c->start_ms = now_ms();
	send_last(c);
	return 0;
}

static void
send_ack(struct client *c, uint16_t block)
{
	c->last[0] = 0;
	c->last[1] = OP_ACK;
	c->last[2] = (uint8_t)(block >> 8);
	c->last[3] = (uint8_t)block;
	c->last_len = 4;
	send_last(c);
}

static void
send_abort(struct client *c)
{
	static const char msg[] = "Abort: probe only";

	c->last[0] = 0;
	c->last[1] = OP_ERROR;
	c->last[2] = 0;
	c->last[3] = 0;
	memcpy(c->last + 4, msg, sizeof(msg));
	c->last_len = 4 + sizeof(msg);
	send_last(c);
}

static void
finish(struct client *c, enum cstate st)
{
	c->state = st;
	c->end_ms = now_ms();
}

static int
parse_oack(struct client *c, const uint8_t *p, size_t len)
{
	size_t at = 2;

	while (at < len) {
		const char *name = (const char *)p + at, *val;
		const uint8_t *nul = memchr(p + at, 0, len - at);
		if (nul == NULL)
			return -1;
		at = (size_t)(nul - p) + 1;
		if ((nul = memchr(p + at, 0, len - at)) == NULL)
			return -1;
		val = (const char *)p + at;
		at = (size_t)(nul - p) + 1;
		if (strcasecmp(name, "tsize") == 0) {
			c->oack_has_tsize = 1;
			c->tsize = strtoull(val, NULL, 10);
		} else if (strcasecmp(name, "blksize") == 0) {
			c->oack_blksize = (unsigned)strtoul(val, NULL, 10);
			c->blksize = c->oack_blksize;
		} else if (strcasecmp(name, "windowsize") == 0)
			c->windowsize = (unsigned)strtoul(val, NULL, 10);
	}
	return 0;
}

static int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr,
	    sizeof(struct in6_addr)) == 0;
}

static int
same_port(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
		    ((const struct sockaddr_in *)b)->sin_port;
	return ((const struct sockaddr_in6 *)a)->sin6_port ==
	    ((const struct sockaddr_in6 *)b)->sin6_port;
}

static void
on_data(struct client *c, const uint8_t *p, size_t len)
{
	uint16_t block = (uint16_t)(p[2] << 8 | p[3]);
	size_t dlen = len - 4;

	if (c->state == C_RRQ_SENT) {
		/* No OACK: the server ignored every option. */
		c->blksize = 512;
		c->windowsize = 1;
		c->state = C_RECEIVING;
	}
	if (block != (uint16_t)c->expect) {
		/* A duplicate or a gap: say what we have in order. */
		if (c->windowsize > 1 || block == (uint16_t)(c->expect - 1))
			send_ack(c, (uint16_t)(c->expect - 1));
		return;
	}
	if (dlen > c->blksize) {
		snprintf(c->err, sizeof(c->err), "block %u has %zu bytes",
		    block, dlen);
		finish(c, C_FAILED);
		return;
	}
	if (c->out_fd != -1 && dlen > 0 &&
	    write(c->out_fd, p + 4, dlen) != (ssize_t)dlen) {
		snprintf(c->err, sizeof(c->err), "write: %s",
		    strerror(errno));
		finish(c, C_FAILED);
		return;
	}
	c->bytes += dlen;
	c->expect++;
	c->retries = 0;
	if (dlen < c->blksize) {
		send_ack(c, block);
		finish(c, C_DONE);
	} else if ((c->expect - 1) % c->windowsize == 0)
		send_ack(c, block);
}

/* One packet from the server. */
static void
client_packet(struct client *c, const uint8_t *p, ssize_t n,
    const struct sockaddr_storage *from)
{
	int op;

	if (n < 4 || c->state >= C_DONE)
		return;
	if (!same_host(from, &c->server))
		return;
	if (!c->have_tid) {
		c->tid = *from;
		c->have_tid = 1;
		if (connect(c->fd, (const struct sockaddr *)from,
		    c->slen) == -1) {
			snprintf(c->err, sizeof(c->err), "connect: %s",
			    strerror(errno));
			finish(c, C_FAILED);
			return;
		}
	} else if (!same_port(from, &c->tid))
		return;
	op = p[0] << 8 | p[1];
	switch (op) {
	case OP_OACK:
		if (c->state != C_RRQ_SENT)
			return;
		c->got_oack = 1;
		if (parse_oack(c, p, (size_t)n) == -1) {
			snprintf(c->err, sizeof(c->err), "malformed OACK");
			finish(c, C_FAILED);
			return;
		}
		if (c->probe) {
			send_abort(c);
			finish(c, C_DONE);
			return;
		}
		c->state = C_RECEIVING;
		send_ack(c, 0);
		return;
	case OP_DATA:
		on_data(c, p, (size_t)n);
		return;
	case OP_ERROR:
		c->err_code = (uint16_t)(p[2] << 8 | p[3]);
		snprintf(c->err, sizeof(c->err), "server error %u: %.*s",
		    c->err_code, (int)(n - 4), (const char *)p + 4);
		finish(c, C_FAILED);
		return;
	}
}

/* Everything queued on the client's socket, in one recvmmsg: a window of
 * DATA costs one system call, so the load generator measures the
 * server, not itself. */
#define RX_BATCH 32
static void
client_input(struct client *c)
{
	static uint8_t bufs[RX_BATCH][MAXPKT];
	static struct sockaddr_storage froms[RX_BATCH];
	static struct iovec iovs[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];
	int n;

	for (int i = 0; i < RX_BATCH; i++) {
		iovs[i] = (struct iovec){ bufs[i], MAXPKT };
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &froms[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(froms[i]);
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(c->fd, msgs, c->windowsize > 1 ? RX_BATCH : 1,
	    MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		client_packet(c, bufs[i], (ssize_t)msgs[i].msg_len,
		    &froms[i]);
}

static void
client_tick(struct client *c, uint64_t now)
{
	if (c->state >= C_DONE || now < c->deadline)
		return;
	if (++c->retries > RETRIES) {
		snprintf(c->err, sizeof(c->err), "timed out");
		finish(c, C_FAILED);
		return;
	}
	send_last(c);
}

/* Runs clients until all are done or failed. */
static void
run_clients(struct client *cs, int n)
{
	struct epoll_event ev, evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC), left = 0, r;

	if (ep == -1) {
		perror("pi-tftp: epoll_create1");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		if (client_start(&cs[i]) == -1)
			exit(1);
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) == -1) {
			perror("pi-tftp: epoll_ctl");
			exit(1);
		}
		left++;
	}
	while (left > 0) {
		r = epoll_wait(ep, evs, 64, 100);
		for (int i = 0; i < r; i++) {
			struct client *c = evs[i].data.ptr;
			if (c->state >= C_DONE)
				continue;
			client_input(c);
			if (c->state >= C_DONE)
				left--;
		}
		uint64_t now = now_ms();
		for (int i = 0; i < n; i++) {
			if (cs[i].state >= C_DONE)
				continue;
			client_tick(&cs[i], now);
			if (cs[i].state >= C_DONE)
				left--;
		}
	}
	for (int i = 0; i < n; i++)
		close(cs[i].fd);
	close(ep);
}

static void
client_init(struct client *c, const struct sockaddr_storage *srv,
    socklen_t slen, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->server = *srv;
	c->slen = slen;
	c->out_fd = -1;
	snprintf(c->file, sizeof(c->file), "%s", file);
}

static int
fetch_one(struct client *c)
{
	run_clients(c, 1);
	return c->state == C_DONE ? 0 : -1;
}

/* The Pi 4 sequence for one file; returns 0 if every step held. */
static int
pi_file(const struct sockaddr_storage *srv, socklen_t slen,
    const char *serial, const char *outdir, const char *file)
{
	struct client c;
	char path[600], out[1200], flat[600];
	uint64_t probe_tsize;

	snprintf(path, sizeof(path), "%s/%s", serial, file);
	/* 1. The probe: tsize=0 blksize=1468, abort after the OACK. */
	client_init(&c, srv, slen, path);
	c.ask_tsize = c.ask_blksize = 1;
	c.blksize = 1468;
	c.probe = 1;
	if (fetch_one(&c) == -1 || !c.got_oack) {
		printf("FAIL probe %s: %s\n", path, c.err[0] ? c.err :
		    "no OACK");
		return -1;
	}
	if (!c.oack_has_tsize || c.oack_blksize != 1468) {
		printf("FAIL probe %s: OACK lacks tsize or blksize 1468\n",
		    path);
		return -1;
	}
	probe_tsize = c.tsize;
	printf("ok probe %s: OACK tsize=%llu blksize=%u, aborted\n", path,
	    (unsigned long long)c.tsize, c.oack_blksize);

	/* 2. The same request again at once, fetched lock-step. */
	snprintf(flat, sizeof(flat), "%s", file);
	for (char *p = flat; *p; p++)
		if (*p == '/')
			*p = '_';
	snprintf(out, sizeof(out), "%s/%s", outdir, flat);
	client_init(&c, srv, slen, path);
	c.ask_tsize = c.ask_blksize = 1;
	c.blksize = 1468;
	if ((c.out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		printf("FAIL %s: %s\n", out, strerror(errno));
		return -1;
	}
	if (fetch_one(&c) == -1) {
		printf("FAIL fetch %s: %s\n", path, c.err);
		close(c.out_fd);
		return -1;
	}
	close(c.out_fd);
	if (c.bytes != probe_tsize || c.tsize != probe_tsize) {
		printf("FAIL fetch %s: %llu bytes, tsize said %llu\n", path,
		    (unsigned long long)c.bytes,
		    (unsigned long long)probe_tsize);
		return -1;
	}
	printf("ok fetch %s: %llu bytes at blksize %u\n", path,
	    (unsigned long long)c.bytes, c.blksize);
	return 0;
}

static int
pi_missing(const struct sockaddr_storage *srv, socklen_t slen,
    const char *serial, const char *name)
{
	struct client c;
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", serial, name);
	client_init(&c, srv, slen, path);
	c.ask_tsize = c.ask_blksize = 1;
	c.blksize = 1468;
	c.probe = 1;
	if (fetch_one(&c) == 0 || c.err_code != 1) {
		printf("FAIL missing %s: expected file not found, got %s\n",
		    path, c.err[0] ? c.err : "an OACK");
		return -1;
	}
	printf("ok missing %s: file not found\n", path);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pi-tftp [-H host] [-p port] [-b blksize] [-w windowsize] "
	    "[-T] get REMOTE LOCAL\n"
	    "       pi-tftp [-H host] [-p port] [-x missing] pi SERIAL OUTDIR "
	    "FILE...\n"
	    "       pi-tftp [-H host] [-p port] [-b blksize] [-w windowsize] "
	    "-n N bench REMOTE\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *host = "127.0.0.1", *missing = NULL;
	unsigned port = 69, blksize = 0, windowsize = 0;
	int nclients = 1, tsize = 0, ch, rc = 0;
	struct sockaddr_storage srv;
	socklen_t slen;

	while ((ch = getopt(argc, argv, "H:p:b:w:n:Tx:")) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = (unsigned)atoi(optarg); break;
		case 'b': blksize = (unsigned)atoi(optarg); break;
		case 'w': windowsize = (unsigned)atoi(optarg); break;
		case 'n': nclients = atoi(optarg); break;
		case 'T': tsize = 1; break;
		case 'x': missing = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || nclients < 1 || nclients > 4096 ||
	    resolve(host, port, &srv, &slen) == -1)
		usage();

	if (strcmp(argv[0], "get") == 0 && argc == 3) {
		struct client c;
		client_init(&c, &srv, slen, argv[1]);
		c.ask_tsize = tsize;
		c.ask_blksize = blksize != 0;
		c.blksize = blksize;
		c.ask_windowsize = windowsize != 0;
		c.windowsize = windowsize;
		if (strcmp(argv[2], "-") != 0 && (c.out_fd = open(argv[2],
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1) {
			fprintf(stderr, "pi-tftp: %s: %s\n", argv[2],
			    strerror(errno));
			return 1;
		}
		if (fetch_one(&c) == -1) {
			fprintf(stderr, "pi-tftp: %s: %s\n", argv[1], c.err);
			return 1;
		}
		printf("%llu bytes in %.3f s\n", (unsigned long long)c.bytes,
		    (double)(c.end_ms - c.start_ms) / 1000.0);
		return 0;
	}
	if (strcmp(argv[0], "pi") == 0 && argc >= 4) {
		if (missing != NULL && pi_missing(&srv, slen, argv[1],
		    missing) == -1)
			rc = 1;
		for (int i = 3; i < argc; i++)
			if (pi_file(&srv, slen, argv[1], argv[2],
			    argv[i]) == -1)
				rc = 1;
		return rc;
	}
	if (strcmp(argv[0], "bench") == 0 && argc == 2) {
		struct client *cs = calloc((size_t)nclients, sizeof(*cs));
		uint64_t start, end, total = 0;
		int failed = 0;

		if (cs == NULL) {
			perror("pi-tftp");
			return 1;
		}
		for (int i = 0; i < nclients; i++) {
			client_init(&cs[i], &srv, slen, argv[1]);
			cs[i].ask_blksize = blksize != 0;
			cs[i].blksize = blksize;
			cs[i].ask_windowsize = windowsize != 0;
			cs[i].windowsize = windowsize;
		}
		start = now_ms();
		run_clients(cs, nclients);
		end = now_ms();
		for (int i = 0; i < nclients; i++) {
			total += cs[i].bytes;
			if (cs[i].state != C_DONE) {
				failed++;
				fprintf(stderr, "pi-tftp: client %d: %s\n", i,
				    cs[i].err);
			}
		}
		double secs = (double)(end - start) / 1000.0;
		printf("clients %d failed %d bytes %llu seconds %.3f "
		    "MB/s %.1f\n", nclients, failed,
		    (unsigned long long)total, secs,
		    secs > 0 ? (double)total / secs / 1e6 : 0.0);
		free(cs);
		return failed ? 1 : 0;
	}
	usage();
}
