/* pi-dhcp: a DHCP client for testing dhcpproxyd, written apart from it
 * (it shares no code with the daemon, so a bug in one is not hidden by
 * the same bug in the other).
 *
 * It sends one DHCPDISCOVER (or REQUEST) as a Raspberry Pi's bootloader
 * does, or as generic PXE firmware, iPXE, or a plain DHCP client would,
 * then collects every reply with its xid for a few seconds and prints
 * each decoded on one line:
 *
 *   REPLY from=192.168.50.2:67 type=OFFER yiaddr=0.0.0.0 ... menu="..."
 *
 * It can also write the packet to a file instead (-o, seed corpus) and
 * spoil it in named ways (-B KIND) for bad-input tests. */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX 1500

struct args {
	const char *mode;	/* pi, pi-old, pxe, ipxe, plain */
	uint8_t mac[6];
	uint32_t serial, revision;
	int arch;
	int type;		/* 1 DISCOVER, 3 REQUEST */
	const char *dest;
	int dport, lport;
	const char *giaddr, *ciaddr, *server_id, *iface, *out, *bad;
	double wait;
	int count;
	int no_broadcast;
	uint32_t xid;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pi-dhcp [-U] [-m pi|pi-old|pxe|ipxe|plain] [-M MAC] "
	    "[-s SERIAL] [-r REV]\n"
	    "    [-A ARCH] [-T discover|request] [-d ADDR] [-p PORT] "
	    "[-L PORT] [-g GIADDR]\n"
	    "    [-c CIADDR] [-S SERVER-ID] [-i IFACE] [-w SECS] [-n COUNT] "
	    "[-x XID]\n"
	    "    [-B short|op|htype|hlen|cookie|overrun|overload|noend|"
	    "long43|long97|dup53|dup97]\n"
	    "    [-o FILE]\n");
	exit(2);
}

static void
put(uint8_t *p, size_t *n, int code, const void *v, size_t len)
{
	p[(*n)++] = (uint8_t)code;
	p[(*n)++] = (uint8_t)len;
	memcpy(p + *n, v, len);
	*n += len;
}

static void
le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
addr_arg(const char *s)
{
	struct in_addr a;

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "pi-dhcp: %s: not an IPv4 address\n", s);
		exit(2);
	}
	return a.s_addr;
}

/* The packet, as pi-netboot.md describes the Pi's DISCOVER. */
static size_t
build(const struct args *a, uint8_t *p)
{
	static const uint8_t params[] = { 1, 3, 43, 60, 66, 67, 128, 129,
	    130, 131, 132, 133, 134, 135 };
	static const uint8_t plain_params[] = { 1, 3, 6, 15, 28, 51, 54 };
	static const uint8_t ndi[] = { 1, 2, 1 };	/* UNDI 2.1 */
	uint8_t v[256], type = (uint8_t)a->type;
	uint32_t ci = addr_arg(a->ciaddr), gi = addr_arg(a->giaddr);
	char class[64];
	size_t n;
	int pxe = strcmp(a->mode, "plain") != 0;

	memset(p, 0, PKT_MAX);
	p[0] = 1;
	p[1] = 1;
	p[2] = 6;
	p[3] = gi ? 1 : 0;
	p[4] = (uint8_t)(a->xid >> 24);
	p[5] = (uint8_t)(a->xid >> 16);
	p[6] = (uint8_t)(a->xid >> 8);
	p[7] = (uint8_t)a->xid;
	/* The broadcast flag: our socket has no address to receive a
	 * unicast offer on, so the LAN's server must broadcast too. */
	if (!a->no_broadcast)
		p[10] = 0x80;
	memcpy(p + 12, &ci, 4);
	memcpy(p + 24, &gi, 4);
	memcpy(p + 28, a->mac, 6);
	p[236] = 0x63;
	p[237] = 0x82;
	p[238] = 0x53;
	p[239] = 0x63;
	n = 240;
	put(p, &n, 53, &type, 1);
	if (a->server_id) {
		uint32_t s = addr_arg(a->server_id);
		put(p, &n, 54, &s, 4);
	}
	if (!pxe) {
		uint8_t cid[7] = { 1 };
		memcpy(cid + 1, a->mac, 6);
		put(p, &n, 61, cid, sizeof(cid));
		put(p, &n, 55, plain_params, sizeof(plain_params));
		p[n++] = 255;
		return n < 300 ? 300 : n;
	}
	snprintf(class, sizeof(class), "PXEClient:Arch:%05d:UNDI:002001",
	    a->arch);
	put(p, &n, 60, class, strlen(class));
	v[0] = (uint8_t)(a->arch >> 8);
	v[1] = (uint8_t)a->arch;
	put(p, &n, 93, v, 2);
	put(p, &n, 94, ndi, sizeof(ndi));
	v[0] = 0;
	if (strcmp(a->mode, "pi-old") == 0) {
		for (int i = 0; i < 4; i++)
			le32(v + 1 + 4 * i, a->serial);
	} else if (strcmp(a->mode, "pi") == 0) {
		memcpy(v + 1, "RPi4", 4);
		le32(v + 5, a->revision);
		memcpy(v + 9, a->mac + 2, 4);
		le32(v + 13, a->serial);
	} else {
		/* A firmware GUID: not a Pi's pattern. */
		for (int i = 0; i < 16; i++)
			v[1 + i] = (uint8_t)(0x10 + i * 7 + a->mac[i % 6]);
	}
	if (a->bad && strcmp(a->bad, "dup97") == 0) {
		/* RFC 3396: a receiver joins the two halves. */
		put(p, &n, 97, v, 9);
		put(p, &n, 97, v + 9, 8);
	} else if (a->bad && strcmp(a->bad, "long97") == 0) {
		memset(v + 17, 0xaa, sizeof(v) - 17);
		put(p, &n, 97, v, 255);
	} else {
		put(p, &n, 97, v, 17);
	}
	put(p, &n, 55, params, sizeof(params));
	if (strcmp(a->mode, "ipxe") == 0)
		put(p, &n, 77, "iPXE", 4);
	p[n++] = 255;
	return n < 300 ? 300 : n;
}

/* Spoils a good packet in one named way. Returns the new length. */
static size_t
spoil(const char *kind, uint8_t *p, size_t n)
{
	size_t end;
	uint8_t big[255];

	/* Where the end option is (the first 255 after the cookie). */
	for (end = 240; end < n && p[end] != 255; end += 2 + p[end + 1])
		;
	if (strcmp(kind, "short") == 0)
		return 100;
	if (strcmp(kind, "op") == 0)
		p[0] = 3;
	else if (strcmp(kind, "htype") == 0)
		p[1] = 6;
	else if (strcmp(kind, "hlen") == 0)
		p[2] = 16;
	else if (strcmp(kind, "cookie") == 0)
		memset(p + 236, 0, 4);
	else if (strcmp(kind, "overrun") == 0) {
		/* An option 43 claiming 200 bytes where 10 are left. */
		p[end] = 43;
		p[end + 1] = 200;
		memset(p + end + 2, 0x41, 8);
		return end + 10;
	} else if (strcmp(kind, "overload") == 0) {
		/* Option 52 says the file field holds options; it holds an
		 * option longer than the field. */
		p[end] = 52;
		p[end + 1] = 1;
		p[end + 2] = 1;
		p[end + 3] = 255;
		memset(p + 108, 0, 128);
		p[108] = 43;
		p[109] = 250;
		memset(p + 110, 0x5a, 40);
	} else if (strcmp(kind, "noend") == 0) {
		return end;
	} else if (strcmp(kind, "long43") == 0) {
		memset(big, 0x42, sizeof(big));
		memmove(p + end + 257, p + end, 1);
		p[end] = 43;
		p[end + 1] = 255;
		memcpy(p + end + 2, big, sizeof(big));
		return end + 258 < 300 ? 300 : end + 258;
	} else if (strcmp(kind, "dup53") == 0) {
		memmove(p + 243, p + 240, end + 1 - 240);
		p[240] = 53;
		p[241] = 1;
		p[242] = 1;
		return end + 4 < 300 ? 300 : end + 4;
	} else if (strcmp(kind, "dup97") != 0 && strcmp(kind, "long97") != 0) {
		fprintf(stderr, "pi-dhcp: -B %s: unknown kind\n", kind);
		exit(2);
	}
	return n;
}

static const char *
type_name(int t)
{
	static const char *const names[] = { "NONE", "DISCOVER", "OFFER",
	    "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM" };

	return t >= 0 && t <= 8 ? names[t] : "UNKNOWN";
}

static void
print_str(const char *key, const uint8_t *v, size_t len)
{
	printf(" %s=\"", key);
	for (size_t i = 0; i < len; i++)
		putchar(v[i] >= 0x20 && v[i] < 0x7f && v[i] != '"' ? v[i] :
		    '?');
	putchar('"');
}

/* Option 43 in PXE form: its sub-options, each named. */
static void
print_pxe(const uint8_t *v, size_t len)
{
	size_t i = 0;

	while (i < len && v[i] != 255) {
		uint8_t code = v[i], l;

		if (code == 0) {
			i++;
			continue;
		}
		if (i + 1 >= len || (l = v[i + 1]) > len - i - 2) {
			printf(" pxe=malformed");
			return;
		}
		if (code == 6 && l == 1)
			printf(" ctl=%u", v[i + 2]);
		else if (code == 9 && l >= 3 && v[i + 4] <= l - 3) {
			printf(" menutype=%u", v[i + 2] << 8 | v[i + 3]);
			print_str("menu", v + i + 5, v[i + 4]);
		} else if (code == 10 && l >= 1) {
			printf(" timeout=%u", v[i + 2]);
			print_str("prompt", v + i + 3, l - 1u);
		} else
			printf(" pxe%u=len%u", code, l);
		i += 2 + (size_t)l;
	}
	printf(" pxeend=%s", i < len ? "yes" : "no");
}

static void
print_addr(const char *key, const uint8_t *p)
{
	printf(" %s=%u.%u.%u.%u", key, p[0], p[1], p[2], p[3]);
}

static void
print_reply(const uint8_t *p, size_t n, const struct sockaddr_in *from,
    const struct in_addr *to)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	char codes[1024] = "";
	size_t i, cl = 0;
	int type = 0;

	printf("REPLY from=%s:%u to=%s",
	    inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a)),
	    ntohs(from->sin_port), inet_ntop(AF_INET, to, b, sizeof(b)));
	if (n < 240 || p[0] != 2) {
		printf(" malformed len=%zu\n", n);
		return;
	}
	for (i = 240; i < n && p[i] != 255;) {
		if (p[i] == 0) {
			i++;
			continue;
		}
		if (i + 1 >= n || p[i + 1] > n - i - 2)
			break;
		if (p[i] == 53 && p[i + 1] == 1)
			type = p[i + 2];
		i += 2 + (size_t)p[i + 1];
	}
	printf(" type=%s len=%zu", type_name(type), n);
	print_addr("yiaddr", p + 16);
	print_addr("siaddr", p + 20);
	print_addr("ciaddr", p + 12);
	print_addr("giaddr", p + 24);
	print_str("file", p + 108, strnlen((const char *)p + 108, 128));
	for (i = 240; i < n && p[i] != 255;) {
		const uint8_t *v = p + i + 2;
		uint8_t code = p[i], l;

		if (code == 0) {
			i++;
			continue;
		}
		if (i + 1 >= n || (l = p[i + 1]) > n - i - 2) {
			printf(" options=malformed");
			break;
		}
		cl += (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%u",
		    cl ? "," : "", code);
		if (cl >= sizeof(codes))
			cl = sizeof(codes) - 1;
		if (code == 54 && l == 4)
			print_addr("server", v);
		else if (code == 1 && l == 4)
			print_addr("mask", v);
		else if (code == 60)
			print_str("class", v, l);
		else if (code == 66)
			print_str("opt66", v, l);
		else if (code == 67)
			print_str("opt67", v, l);
		else if (code == 43) {
			printf(" opt43=");
			for (size_t j = 0; j < l; j++)
				printf("%02x", v[j]);
			print_pxe(v, l);
		}
		else if (code == 97) {
			printf(" opt97=");
			for (size_t j = 0; j < l; j++)
				printf("%02x", v[j]);
		}
		i += 2 + (size_t)l;
	}
	printf(" opts=%s\n", codes);
	fflush(stdout);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x%*[:-]%x%*[:-]%x%*[:-]%x%*[:-]%x%*[:-]%x", &b[0],
	    &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int
main(int argc, char *argv[])
{
	struct args a = { .mode = "pi", .mac = { 0xdc, 0xa6, 0x32, 0x01, 0x36,
	    0xc2 }, .serial = 0xabcd1234, .revision = 0xc03111, .arch = 0,
	    .type = 1, .dest = "255.255.255.255", .dport = 67, .lport = 68,
	    .wait = 3, .count = 1, .xid = 0 };
	uint8_t pkt[PKT_MAX], buf[PKT_MAX];
	struct sockaddr_in sin, from;
	size_t len;
	int ch, fd, on = 1, replies = 0;
	double end;

	a.xid = (uint32_t)getpid() * 2654435761u;
	while ((ch = getopt(argc, argv, "A:B:c:d:g:i:L:m:M:n:o:p:r:s:S:T:Uw:x:"))
	    != -1) {
		switch (ch) {
		case 'A': a.arch = atoi(optarg); break;
		case 'B': a.bad = optarg; break;
		case 'c': a.ciaddr = optarg; break;
		case 'd': a.dest = optarg; break;
		case 'g': a.giaddr = optarg; break;
		case 'i': a.iface = optarg; break;
		case 'L': a.lport = atoi(optarg); break;
		case 'm': a.mode = optarg; break;
		case 'M':
			if (parse_mac(optarg, a.mac) == -1)
				usage();
			break;
		case 'n': a.count = atoi(optarg); break;
		case 'o': a.out = optarg; break;
		case 'p': a.dport = atoi(optarg); break;
		case 'r': a.revision = (uint32_t)strtoul(optarg, NULL, 16); break;
		case 's': a.serial = (uint32_t)strtoul(optarg, NULL, 16); break;
		case 'S': a.server_id = optarg; break;
		case 'T':
			if (strcmp(optarg, "discover") == 0)
				a.type = 1;
			else if (strcmp(optarg, "request") == 0)
				a.type = 3;
			else
				usage();
			break;
		case 'U': a.no_broadcast = 1; break;
		case 'w': a.wait = atof(optarg); break;
		case 'x': a.xid = (uint32_t)strtoul(optarg, NULL, 16); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (strcmp(a.mode, "pi") && strcmp(a.mode, "pi-old") &&
	    strcmp(a.mode, "pxe") && strcmp(a.mode, "ipxe") &&
	    strcmp(a.mode, "plain"))
		usage();
	len = build(&a, pkt);
	if (a.bad)
		len = spoil(a.bad, pkt, len);

	if (a.out) {
		FILE *f = fopen(a.out, "wb");

		if (f == NULL || fwrite(pkt, 1, len, f) != len ||
		    fclose(f) != 0) {
			fprintf(stderr, "pi-dhcp: %s: %s\n", a.out,
			    strerror(errno));
			return 1;
		}
		return 0;
	}

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		perror("pi-dhcp: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == -1) {
		perror("pi-dhcp: IP_PKTINFO");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) == -1) {
		perror("pi-dhcp: SO_BROADCAST");
		return 1;
	}
	/* With no address on the interface there is no route for the
	 * broadcast; binding to the device gives it one. */
	if (a.iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a.iface,
	    (socklen_t)strlen(a.iface)) == -1) {
		perror("pi-dhcp: SO_BINDTODEVICE");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)a.lport);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("pi-dhcp: bind");
		return 1;
	}
	sin.sin_port = htons((uint16_t)a.dport);
	sin.sin_addr.s_addr = addr_arg(a.dest);
	for (int i = 0; i < a.count; i++)
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1) {
			perror("pi-dhcp: send");
			return 1;
		}
	printf("SENT %d %s xid=%08x len=%zu\n", a.count, type_name(a.type),
	    a.xid, len);
	fflush(stdout);

	end = now() + a.wait;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		} cbuf;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg;
		struct cmsghdr *c;
		struct in_addr to = { 0 };
		double left = end - now();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.b;
		msg.msg_controllen = sizeof(cbuf.b);
		if ((n = recvmsg(fd, &msg, 0)) < 8)
			continue;
		/* The destination address: broadcast or unicast to us. */
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				to = pi.ipi_addr;
			}
		/* Only answers to our xid, not others' traffic on port
		 * 67 or 68 (nor our own broadcast, which is op 1). */
		if (buf[0] != 2 || memcmp(buf + 4, pkt + 4, 4) != 0)
			continue;
		print_reply(buf, (size_t)n, &from, &to);
		replies++;
	}
	printf("DONE replies=%d\n", replies);
	close(fd);
	return 0;
}
