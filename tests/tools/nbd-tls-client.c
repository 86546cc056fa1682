/* nbd-tls-client: an NBD client over TLS (GnuTLS) that does what libnbd
 * and qemu cannot be told to do: take records of at most N bytes (RFC
 * 8449's record_size_limit) and ask for a TLS 1.3 key update before each
 * READ, checking that the reply's first record already came under the
 * server's new key (RFC 8446, 4.6.3). Every byte read is compared with
 * the image. It shares no code with nbdd: it is an independent reading
 * of doc/proto.md (fixed newstyle, STARTTLS, GO, simple replies).
 *
 * usage: nbd-tls-client [-u] [-m MAX] [-p PRIORITY] -c CERTDIR
 *            HOST PORT EXPORT IMAGE OFFSET:LEN...
 *   -c CERTDIR  ca-cert.pem, and client-cert.pem and client-key.pem if
 *               there (libnbd's tls-certificates= layout)
 *   -m MAX      take records of at most MAX bytes of plaintext
 *   -p PRIORITY GnuTLS priority string (default NORMAL)
 *   -u          a key update (update_requested) before each READ
 * Exits 0 when every READ came back right, 1 otherwise, saying why. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define NBDMAGIC	0x4e42444d41474943ULL
#define IHAVEOPT	0x49484156454f5054ULL
#define REPLY_MAGIC	0x0003e889045565a9ULL
#define REQUEST_MAGIC	0x25609513U
#define SIMPLE_MAGIC	0x67446698U
#define FLAG_FIXED	1U
#define FLAG_NO_ZEROES	2U
#define OPT_GO		7U
#define OPT_STARTTLS	5U
#define REP_ACK		1U
#define REP_INFO	3U
#define CMD_READ	0U
#define CMD_DISC	2U

static gnutls_session_t sess;
static gnutls_certificate_credentials_t x509;
static int fd = -1;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nbd-tls-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Plaintext, before STARTTLS. */
static void
raw_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			die("reading: %s", n == 0 ? "connection closed" :
			    strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void
raw_write(const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		die("writing: %s", strerror(errno));
}

static void
tls_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = gnutls_record_recv(sess, p, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			die("reading over TLS: %s", n == 0 ?
			    "connection closed" : gnutls_strerror((int)n));
		p += n;
		len -= (size_t)n;
	}
}

static void
tls_write(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = gnutls_record_send(sess, p, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			die("writing over TLS: %s", gnutls_strerror((int)n));
		p += n;
		len -= (size_t)n;
	}
}

static void
option(int tls, uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[16];

	put64(h, IHAVEOPT);
	put32(h + 8, opt);
	put32(h + 12, len);
	(tls ? tls_write : raw_write)(h, sizeof(h));
	if (len > 0)
		(tls ? tls_write : raw_write)(data, len);
}

/* One option reply: its type, its data (up to cap bytes kept). */
static uint32_t
reply(int tls, uint32_t opt, uint8_t *data, size_t cap, uint32_t *len)
{
	uint8_t h[20], junk[256];
	uint32_t type, left;

	(tls ? tls_read : raw_read)(h, sizeof(h));
	if (get(h, 8) != REPLY_MAGIC || get(h + 8, 4) != opt)
		die("bad option reply");
	type = (uint32_t)get(h + 12, 4);
	*len = left = (uint32_t)get(h + 16, 4);
	while (left > 0) {
		size_t n = left;

		if (cap > 0) {
			n = n < cap ? n : cap;
			(tls ? tls_read : raw_read)(data, n);
			data += n;
			cap -= n;
		} else {
			n = n < sizeof(junk) ? n : sizeof(junk);
			(tls ? tls_read : raw_read)(junk, n);
		}
		left -= (uint32_t)n;
	}
	return type;
}

static void
connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int on = 1, r;

	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0)
		die("%s: %s", host, gai_strerror(r));
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		die("connecting to %s port %s: %s", host, port,
		    strerror(errno));
	freeaddrinfo(ai);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static void
start_tls(const char *certdir, const char *priority, size_t max_recv)
{
	char ca[4096], cert[4096], key[4096];
	const char *err = NULL;
	uint32_t len;
	int r;

	option(0, OPT_STARTTLS, NULL, 0);
	if (reply(0, OPT_STARTTLS, NULL, 0, &len) != REP_ACK)
		die("STARTTLS refused");
	if (gnutls_certificate_allocate_credentials(&x509) < 0)
		die("out of memory");
	snprintf(ca, sizeof(ca), "%s/ca-cert.pem", certdir);
	snprintf(cert, sizeof(cert), "%s/client-cert.pem", certdir);
	snprintf(key, sizeof(key), "%s/client-key.pem", certdir);
	if (gnutls_certificate_set_x509_trust_file(x509, ca,
	    GNUTLS_X509_FMT_PEM) <= 0)
		die("%s: no CA certificate", ca);
	if (access(cert, R_OK) == 0 &&
	    (r = gnutls_certificate_set_x509_key_file(x509, cert, key,
	    GNUTLS_X509_FMT_PEM)) < 0)
		die("%s: %s", cert, gnutls_strerror(r));
	if (gnutls_init(&sess, GNUTLS_CLIENT) < 0 ||
	    gnutls_priority_set_direct(sess, priority, &err) < 0 ||
	    gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, x509) < 0)
		die("TLS setup (priority at %s)", err ? err : "?");
	if (max_recv > 0 &&
	    (r = (int)gnutls_record_set_max_recv_size(sess, max_recv)) < 0)
		die("record size %zu: %s", max_recv, gnutls_strerror(r));
	gnutls_session_set_verify_cert(sess, NULL, 0);
	gnutls_transport_set_int(sess, fd);
	gnutls_handshake_set_timeout(sess, 10000);
	do
		r = gnutls_handshake(sess);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0)
		die("TLS handshake: %s", gnutls_strerror(r));
}

/* The read key's bytes, to see when the server's key changes. */
static size_t
read_key(uint8_t *out, size_t cap)
{
	gnutls_datum_t key;
	uint8_t seq[8];

	if (gnutls_record_get_state(sess, 1, NULL, NULL, &key, seq) < 0 ||
	    key.size > cap)
		die("no read state");
	memcpy(out, key.data, key.size);
	return key.size;
}

static uint64_t
go(const char *name)
{
	uint8_t buf[1024], info[64];
	uint32_t nlen = (uint32_t)strlen(name), len, type;
	uint64_t size = UINT64_MAX;

	put32(buf, nlen);
	memcpy(buf + 4, name, nlen);
	buf[4 + nlen] = buf[5 + nlen] = 0;
	option(1, OPT_GO, buf, nlen + 6);
	while ((type = reply(1, OPT_GO, info, sizeof(info), &len)) != REP_ACK) {
		if (type & 0x80000000U)
			die("GO %s refused (%#x): %.*s", name, type,
			    (int)(len < sizeof(info) ? len : sizeof(info)),
			    (char *)info);
		if (type == REP_INFO && len >= 12 && get(info, 2) == 0)
			size = get(info + 2, 8);
	}
	if (size == UINT64_MAX)
		die("GO %s: no size", name);
	return size;
}

static void
request(uint16_t type, uint64_t handle, uint64_t off, uint32_t len)
{
	uint8_t r[28];

	put32(r, REQUEST_MAGIC);
	r[4] = r[5] = 0;
	r[6] = (uint8_t)(type >> 8);
	r[7] = (uint8_t)type;
	put64(r + 8, handle);
	put64(r + 16, off);
	put32(r + 24, len);
	tls_write(r, sizeof(r));
}

int
main(int argc, char *argv[])
{
	const char *certdir = NULL, *priority = "NORMAL";
	size_t max_recv = 0;
	int ask_update = 0, c, img;
	uint8_t greet[18], flags[4];
	uint64_t size;

	while ((c = getopt(argc, argv, "c:m:p:u")) != -1) {
		switch (c) {
		case 'c': certdir = optarg; break;
		case 'm': max_recv = strtoul(optarg, NULL, 10); break;
		case 'p': priority = optarg; break;
		case 'u': ask_update = 1; break;
		default: die("usage: see the source");
		}
	}
	if (certdir == NULL || argc - optind < 5)
		die("usage: nbd-tls-client [-u] [-m MAX] [-p PRIORITY] -c "
		    "CERTDIR HOST PORT EXPORT IMAGE OFFSET:LEN...");
	if ((img = open(argv[optind + 3], O_RDONLY)) == -1)
		die("%s: %s", argv[optind + 3], strerror(errno));
	connect_to(argv[optind], argv[optind + 1]);
	raw_read(greet, sizeof(greet));
	if (get(greet, 8) != NBDMAGIC || get(greet + 8, 8) != IHAVEOPT)
		die("not a fixed newstyle server");
	put32(flags, FLAG_FIXED | FLAG_NO_ZEROES);
	raw_write(flags, sizeof(flags));
	start_tls(certdir, priority, max_recv);
	size = go(argv[optind + 2]);
	for (int i = optind + 4; i < argc; i++) {
		uint8_t before[64], after[64], hdr[16], *got, *want;
		size_t bl = 0, al;
		unsigned long long off, len;
		char *end;

		off = strtoull(argv[i], &end, 0);
		if (*end != ':' || (len = strtoull(end + 1, &end, 0)) == 0 ||
		    *end != '\0' || len > (32U << 20) || off + len > size)
			die("%s: not OFFSET:LEN within the export", argv[i]);
		if ((got = malloc(len)) == NULL || (want = malloc(len)) == NULL)
			die("out of memory");
		if (pread(img, want, len, (off_t)off) != (ssize_t)len)
			die("image: short read");
		if (ask_update) {
			bl = read_key(before, sizeof(before));
			if ((c = gnutls_session_key_update(sess,
			    GNUTLS_KU_PEER)) < 0)
				die("key update: %s", gnutls_strerror(c));
		}
		request(CMD_READ, (uint64_t)i, off, (uint32_t)len);
		/* The reply's header is in its first record. */
		tls_read(hdr, sizeof(hdr));
		if (ask_update) {
			al = read_key(after, sizeof(after));
			if (al == bl && memcmp(before, after, al) == 0)
				die("READ %llu at %llu: the reply came under the "
				    "server's old key, after a key update that "
				    "asked for its new one", len, off);
		}
		if (get(hdr, 4) != SIMPLE_MAGIC || get(hdr + 4, 4) != 0 ||
		    get(hdr + 8, 8) != (uint64_t)i)
			die("READ %llu at %llu: bad reply (error %u)", len, off,
			    (unsigned)get(hdr + 4, 4));
		tls_read(got, len);
		if (memcmp(got, want, len) != 0)
			die("READ %llu at %llu: other bytes than the image's",
			    len, off);
		printf("READ %llu at %llu: ok%s\n", len, off, ask_update ?
		    ", under the server's new key" : "");
		free(got);
		free(want);
	}
	request(CMD_DISC, 0, 0, 0);
	(void)gnutls_bye(sess, GNUTLS_SHUT_WR);
	gnutls_deinit(sess);
	gnutls_certificate_free_credentials(x509);
	close(fd);
	close(img);
	return 0;
}
