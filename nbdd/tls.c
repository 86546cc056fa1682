#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/bootdir.h"
#include "common/byteorder.h"
#include "common/log.h"
#include "nbdd/pskfile.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/tlsauth.h"
#include "nbdd/tlshello.h"
#include "nbdd/tlsrec.h"

/* TLS 1.2 (nbd-client 3.24 speaks no other) and 1.3. AES-128-GCM first,
 * in the server's order: the cheapest of the standard AEAD ciphers on a
 * CPU with AES instructions, which a server has. A client that lists
 * ChaCha20-Poly1305 first gets it instead (tlshello.h). No CBC: every
 * NBD client we know of has GCM. */
#define PRIORITY_COMMON	"NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:" \
	"+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"
#define PRIORITY_AES	PRIORITY_COMMON \
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
#define PRIORITY_CHACHA	PRIORITY_COMMON \
	"+CHACHA20-POLY1305:+AES-128-GCM:+AES-256-GCM"
/* PSK only with a fresh (EC)DH exchange, for forward secrecy. */
#define PRIORITY_PSK	":+ECDHE-PSK:+DHE-PSK"

#define PSK_FILE_MAX	(1024 * 1024)
#define RECORD_MAX	16384		/* TLS's largest plaintext record */
#define FILE_CHUNK	(256 * 1024)	/* a large read's pread size */
/* The buffer has room for a record more, so that a last piece smaller
 * than that rides with the chunk before it: no pread for a few bytes. */
#define FILE_BUF	(FILE_CHUNK + RECORD_MAX)
#define IDLE_STEP	(256 * 1024)
/* A large read's chunk, sealed and sent at once: FILE_BUF in full
 * records, and one more for a short last record. */
#define SEAL_RECORDS	(FILE_BUF / RECORD_MAX + 1)
/* What one recv() takes in when GnuTLS asks for a record's header or a
 * small record: a client's requests come one per record, so a batch of
 * them costs one system call, not two per request. Larger asks go
 * straight into GnuTLS's buffer. */
#define READ_AHEAD	1024

struct tls_creds {
	gnutls_certificate_credentials_t x509;	/* NULL without -X */
	gnutls_psk_server_credentials_t psk;	/* NULL without -k */
	gnutls_priority_t prio;		/* AES-128-GCM first */
	gnutls_priority_t prio_chacha;	/* for clients that ask for it */
	int verify_peer;
	uint64_t rekey_records;		/* TLS 1.3: records per sending key */
	struct psk_entry *users;
	size_t nusers;
	char x509_dir[PATH_MAX];
};

struct tls_conn {
	gnutls_session_t s;
	const struct tls_creds *cr;
	int fd;
	/* How the pull function waits: no deadline and not dontwait means
	 * block. idle_ms, when set, is a fresh limit for each recv(). */
	int64_t deadline_ms;
	int idle_ms;
	int dontwait;
	int more;		/* MSG_MORE on the next sendmsg() */
	int established;	/* the handshake succeeded */
	int tls13;
	/* The most plaintext in one record we send: 16 KiB, or what the
	 * peer asked for (RFC 8449, RFC 6066); 0 when unknown, and then
	 * every record goes through GnuTLS's record layer. */
	size_t rec_max;
	/* The peer asked for a key update (TLS 1.3 KeyUpdate with
	 * update_requested): GnuTLS sends ours with its next record, and no
	 * record of ours may go out before it. */
	int ku_owed;
	int timed_out;
	int peer_closed;	/* recv() saw the end of the stream */
	int io_errno;		/* what the socket last said */
	int last_error;		/* the last GnuTLS error */
	char psk_user[PSK_USER_MAX + 1];	/* asked for; found or not */
	int psk_found;
	enum tls_identity kind;
	char identity[TLS_IDENTITY_MAX + 1];
	uint8_t rbuf[READ_AHEAD];	/* read from the socket, not yet
					 * handed to GnuTLS */
	size_t rstart, rend;
	uint8_t *stage;		/* gathers small pieces into a record */
	uint8_t *filebuf;	/* large reads: pread into, encrypt from */
	/* Large reads' records are sealed here with the session's write
	 * key (tlsrec.h): the cipher, for as long as the key holds. */
	gnutls_aead_cipher_hd_t seal;
	gnutls_cipher_algorithm_t seal_cipher;
	uint8_t seal_key[32];
	size_t seal_keylen;
	struct tls_stats st;
};

/* --- credentials ---------------------------------------------------- */

static int
path_in(char *buf, size_t len, const char *dir, const char *file,
    char *why, size_t whylen)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, file) >= len) {
		snprintf(why, whylen, "%s/%s: path too long", dir, file);
		return -1;
	}
	return 0;
}

/* Names the file and errno's reason when it cannot be read, before
 * GnuTLS gets to say something vaguer. */
static int
readable(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static void
when(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void
warn_validity(const char *path, gnutls_certificate_credentials_t x509)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0;
	time_t now = time(NULL), from, until;
	char date[40];

	if (gnutls_certificate_get_x509_crt(x509, 0, &crts, &n) < 0 || n == 0)
		return;
	from = gnutls_x509_crt_get_activation_time(crts[0]);
	until = gnutls_x509_crt_get_expiration_time(crts[0]);
	if (until != (time_t)-1 && until < now) {
		when(until, date, sizeof(date));
		log_warn("%s expired on %s: clients will refuse it", path,
		    date);
	} else if (from != (time_t)-1 && from > now) {
		when(from, date, sizeof(date));
		log_warn("%s is valid only from %s: clients will refuse it "
		    "until then", path, date);
	}
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

/* Every certificate of the CA file must be able to sign clients'
 * certificates: one that cannot lets nbdd start and then refuses every
 * client, which is the mistake to catch here (tlsauth_ca_check). */
static int
check_ca_file(const char *path, char *why, size_t whylen)
{
	gnutls_datum_t data = { NULL, 0 };
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0, i;
	int r, rc = 0;

	if ((r = gnutls_load_file(path, &data)) < 0) {
		snprintf(why, whylen, "%s: %s", path, gnutls_strerror(r));
		return -1;
	}
	r = gnutls_x509_crt_list_import2(&crts, &n, &data,
	    GNUTLS_X509_FMT_PEM, 0);
	gnutls_free(data.data);
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", path, gnutls_strerror(r));
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		unsigned int critical, usage = 0;
		int ca, sign, v;
		enum tlsauth_ca verdict;
		char dn[256];
		size_t dnlen = sizeof(dn);

		v = gnutls_x509_crt_get_basic_constraints(crts[i], &critical,
		    NULL, NULL);
		ca = v < 0 ? -1 : v != 0;
		v = gnutls_x509_crt_get_key_usage(crts[i], &usage, &critical);
		sign = v < 0 ? -1 : (usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0;
		verdict = tlsauth_ca_check(gnutls_x509_crt_get_version(crts[i]),
		    ca, sign);
		if (verdict == TLSAUTH_CA_OK)
			continue;
		if (gnutls_x509_crt_get_dn(crts[i], dn, &dnlen) < 0)
			strlcpy(dn, "?", sizeof(dn));
		snprintf(why, whylen, "%s: certificate %u of %u (%s) is %s",
		    path, i + 1, n, dn, tlsauth_ca_describe(verdict));
		rc = -1;
	}
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return rc;
}

static int
load_x509(struct tls_creds *cr, const char *dir, char *why, size_t whylen)
{
	char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], crl[PATH_MAX];
	struct stat st;
	int r;

	if (path_in(cert, sizeof(cert), dir, TLS_SERVER_CERT, why,
	    whylen) == -1 || path_in(key, sizeof(key), dir, TLS_SERVER_KEY,
	    why, whylen) == -1 || path_in(ca, sizeof(ca), dir, TLS_CA_CERT,
	    why, whylen) == -1 || path_in(crl, sizeof(crl), dir, TLS_CA_CRL,
	    why, whylen) == -1)
		return -1;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s: %s", dir, errno ? strerror(errno) :
		    "not a directory");
		return -1;
	}
	if (readable(cert, why, whylen) == -1 ||
	    readable(key, why, whylen) == -1)
		return -1;
	if ((r = gnutls_certificate_allocate_credentials(&cr->x509)) < 0) {
		snprintf(why, whylen, "%s", gnutls_strerror(r));
		return -1;
	}
	if ((r = gnutls_certificate_set_x509_key_file(cr->x509, cert, key,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(why, whylen, "%s with %s: %s", cert, key,
		    gnutls_strerror(r));
		return -1;
	}
	warn_validity(cert, cr->x509);
	/* For TLS 1.2 clients that pick a DHE key exchange. */
	(void)gnutls_certificate_set_known_dh_params(cr->x509,
	    GNUTLS_SEC_PARAM_MEDIUM);
	if (!cr->verify_peer)
		return 0;
	if (readable(ca, why, whylen) == -1)
		return -1;
	if ((r = gnutls_certificate_set_x509_trust_file(cr->x509, ca,
	    GNUTLS_X509_FMT_PEM)) <= 0) {
		snprintf(why, whylen, "%s: %s", ca, r == 0 ?
		    "no certificate in it" : gnutls_strerror(r));
		return -1;
	}
	if (check_ca_file(ca, why, whylen) == -1)
		return -1;
	if (access(crl, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (readable(crl, why, whylen) == -1)
		return -1;
	if ((r = gnutls_certificate_set_x509_crl_file(cr->x509, crl,
	    GNUTLS_X509_FMT_PEM)) <= 0) {
		snprintf(why, whylen, "%s: %s", crl, r == 0 ?
		    "no revocation list in it" : gnutls_strerror(r));
		return -1;
	}
	return 0;
}

static const struct psk_entry *
find_user(const struct tls_creds *cr, const char *user, size_t len)
{
	for (size_t i = 0; i < cr->nusers; i++)
		if (strlen(cr->users[i].user) == len &&
		    memcmp(cr->users[i].user, user, len) == 0)
			return &cr->users[i];
	return NULL;
}

static int
add_user(struct tls_creds *cr, const struct psk_entry *e, size_t *cap)
{
	if (cr->nusers == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct psk_entry *n = calloc(ncap, sizeof(*n));

		if (n == NULL)
			return -1;
		/* Copied by hand, so no key is left in freed memory. */
		if (cr->users != NULL) {
			memcpy(n, cr->users, cr->nusers * sizeof(*n));
			explicit_bzero(cr->users, *cap * sizeof(*n));
			free(cr->users);
		}
		cr->users = n;
		*cap = ncap;
	}
	cr->users[cr->nusers++] = *e;
	return 0;
}

static int
parse_psk_text(struct tls_creds *cr, const char *path, const char *text,
    size_t len, char *why, size_t whylen)
{
	struct psk_entry e;
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len, *nl;
	enum psk_line r;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		r = psk_parse_line(p, (size_t)(nl - p), &e);
		p = nl + 1;
		if (r == PSK_LINE_EMPTY)
			continue;
		if (r != PSK_LINE_OK) {
			snprintf(why, whylen, "%s line %zu: %s", path, lineno,
			    psk_line_error(r));
			return -1;
		}
		if (tlsauth_name_reserved(e.user)) {
			snprintf(why, whylen, "%s line %zu: user %s: that is "
			    "the boot entry of every Pi without one of its own, "
			    "never a client's name: name each Pi's user after "
			    "its serial or MAC entry", path, lineno, e.user);
			explicit_bzero(&e, sizeof(e));
			return -1;
		}
		if (find_user(cr, e.user, strlen(e.user)) != NULL) {
			snprintf(why, whylen, "%s line %zu: user %s is listed "
			    "twice", path, lineno, e.user);
			explicit_bzero(&e, sizeof(e));
			return -1;
		}
		if (add_user(cr, &e, &cap) == -1) {
			explicit_bzero(&e, sizeof(e));
			snprintf(why, whylen, "%s: out of memory", path);
			return -1;
		}
		explicit_bzero(&e, sizeof(e));
	}
	if (cr->nusers == 0) {
		snprintf(why, whylen, "%s: no USER:HEXKEY line in it", path);
		return -1;
	}
	return 0;
}

static int
psk_key(gnutls_session_t s, const gnutls_datum_t *user, gnutls_datum_t *key)
{
	struct tls_conn *t = gnutls_session_get_ptr(s);
	const struct psk_entry *e;
	size_t n = user->size < PSK_USER_MAX ? user->size : PSK_USER_MAX;

	memcpy(t->psk_user, user->data, n);
	t->psk_user[n] = '\0';
	t->psk_found = 0;
	if ((e = find_user(t->cr, (const char *)user->data, user->size)) ==
	    NULL)
		return -1;
	if ((key->data = gnutls_malloc(e->keylen)) == NULL)
		return -1;
	memcpy(key->data, e->key, e->keylen);
	key->size = (unsigned int)e->keylen;
	t->psk_found = 1;
	return 0;
}

static int
load_psk(struct tls_creds *cr, const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PSK_FILE_MAX) {
		snprintf(why, whylen, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than 1 MiB" : "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_mode & 077)
		log_warn("%s can be read by others (mode %04o): its keys are "
		    "the clients' passwords; chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, whylen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	n = read(fd, text, (size_t)st.st_size + 1);
	close(fd);
	if (n < 0 || n > st.st_size) {
		snprintf(why, whylen, "%s: %s", path, n < 0 ? strerror(errno) :
		    "changed while read");
		free(text);
		return -1;
	}
	r = parse_psk_text(cr, path, text, (size_t)n, why, whylen);
	explicit_bzero(text, (size_t)n);
	free(text);
	if (r == -1)
		return -1;
	if ((r = gnutls_psk_allocate_server_credentials(&cr->psk)) < 0) {
		snprintf(why, whylen, "%s", gnutls_strerror(r));
		return -1;
	}
	gnutls_psk_set_server_credentials_function2(cr->psk, psk_key);
	(void)gnutls_psk_set_server_known_dh_params(cr->psk,
	    GNUTLS_SEC_PARAM_MEDIUM);
	return 0;
}

static int
init_priority(gnutls_priority_t *prio, const char *base, int psk, char *why,
    size_t whylen)
{
	char text[512];
	const char *err = NULL;
	int r;

	snprintf(text, sizeof(text), "%s%s", base, psk ? PRIORITY_PSK : "");
	if ((r = gnutls_priority_init(prio, text, &err)) < 0) {
		snprintf(why, whylen, "TLS priorities at \"%s\": %s",
		    err ? err : "?", gnutls_strerror(r));
		return -1;
	}
	return 0;
}

struct tls_creds *
tls_creds_load(const struct tls_config *cf, char *why, size_t whylen)
{
	struct tls_creds *cr;

	if (cf->x509_dir == NULL && cf->psk_file == NULL) {
		snprintf(why, whylen, "no certificate directory and no PSK "
		    "file");
		return NULL;
	}
	if (cf->verify_peer && cf->x509_dir == NULL) {
		snprintf(why, whylen, "client certificates can be verified "
		    "only with a certificate directory");
		return NULL;
	}
	if ((cr = calloc(1, sizeof(*cr))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	cr->verify_peer = cf->verify_peer;
	cr->rekey_records = cf->rekey_records > 0 &&
	    cf->rekey_records < TLS_REKEY_RECORDS ? cf->rekey_records :
	    TLS_REKEY_RECORDS;
	if (cf->x509_dir != NULL) {
		strlcpy(cr->x509_dir, cf->x509_dir, sizeof(cr->x509_dir));
		if (load_x509(cr, cf->x509_dir, why, whylen) == -1)
			goto fail;
	}
	if (cf->psk_file != NULL && load_psk(cr, cf->psk_file, why,
	    whylen) == -1)
		goto fail;
	if (init_priority(&cr->prio, PRIORITY_AES, cr->psk != NULL, why,
	    whylen) == -1 || init_priority(&cr->prio_chacha, PRIORITY_CHACHA,
	    cr->psk != NULL, why, whylen) == -1)
		goto fail;
	return cr;
fail:
	tls_creds_free(cr);
	return NULL;
}

void
tls_creds_free(struct tls_creds *cr)
{
	if (cr == NULL)
		return;
	if (cr->x509 != NULL)
		gnutls_certificate_free_credentials(cr->x509);
	if (cr->psk != NULL)
		gnutls_psk_free_server_credentials(cr->psk);
	if (cr->prio != NULL)
		gnutls_priority_deinit(cr->prio);
	if (cr->prio_chacha != NULL)
		gnutls_priority_deinit(cr->prio_chacha);
	if (cr->users != NULL) {
		explicit_bzero(cr->users, cr->nusers * sizeof(*cr->users));
		free(cr->users);
	}
	free(cr);
}

void
tls_creds_describe(const struct tls_creds *cr, char *buf, size_t len)
{
	char x[PATH_MAX + 64] = "", p[64] = "";

	if (cr->x509 != NULL)
		snprintf(x, sizeof(x), "X.509 from %s (%s)", cr->x509_dir,
		    cr->verify_peer ? "client certificates required and "
		    "verified" : "clients anonymous");
	if (cr->psk != NULL)
		snprintf(p, sizeof(p), "PSK for %zu user%s", cr->nusers,
		    cr->nusers == 1 ? "" : "s");
	snprintf(buf, len, "%s%s%s", x, *x && *p ? ", " : "", p);
}

/* --- the socket under the session ------------------------------------ */

/* Waits for the socket as the record call in progress allows: 0, or -1
 * with GnuTLS told why. */
static int
pull_wait(struct tls_conn *t)
{
	int64_t deadline = t->deadline_ms;
	int w;

	if (t->dontwait)
		return 0;
	if (t->idle_ms > 0)
		deadline = sock_now_ms() + t->idle_ms;
	if (deadline == SOCK_NO_DEADLINE)
		return 0;
	if ((w = sock_wait(t->fd, deadline)) > 0)
		return 0;
	if (w == 0)
		t->timed_out = 1;
	t->io_errno = w == 0 ? ETIMEDOUT : errno;
	gnutls_transport_set_errno(t->s, t->io_errno);
	return -1;
}

static ssize_t
pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct tls_conn *t = ptr;
	uint8_t *into = buf;
	size_t cap = len;
	ssize_t n;

	if (t->rend > t->rstart) {
		n = (ssize_t)(t->rend - t->rstart < len ? t->rend - t->rstart :
		    len);
		memcpy(buf, t->rbuf + t->rstart, (size_t)n);
		t->rstart += (size_t)n;
		return n;
	}
	if (pull_wait(t) == -1)
		return -1;
	if (len < READ_AHEAD) {
		into = t->rbuf;
		cap = READ_AHEAD;
	}
	do
		n = recv(t->fd, into, cap, t->dontwait ? MSG_DONTWAIT : 0);
	while (n == -1 && errno == EINTR);
	t->st.recvs++;
	if (n == 0)
		t->peer_closed = 1;
	if (n == -1) {
		t->io_errno = errno;
		gnutls_transport_set_errno(t->s, errno);
	}
	if (n <= 0 || into == buf)
		return n;
	t->rstart = 0;
	t->rend = (size_t)n;
	return pull(ptr, buf, len);
}

/* Asked by GnuTLS whether data comes within ms: 1, 0, or -1. */
static int
pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct tls_conn *t = ptr;
	int64_t deadline = t->deadline_ms;
	int w;

	if (t->rend > t->rstart)
		return 1;
	if (ms != GNUTLS_INDEFINITE_TIMEOUT) {
		int64_t mine = sock_now_ms() + ms;

		if (deadline == SOCK_NO_DEADLINE || mine < deadline)
			deadline = mine;
	}
	w = sock_wait(t->fd, deadline);
	if (w == 0 && t->deadline_ms != SOCK_NO_DEADLINE &&
	    sock_now_ms() >= t->deadline_ms)
		t->timed_out = 1;
	return w;
}

static ssize_t
vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct tls_conn *t = ptr;
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = (size_t)iovcnt;
	do
		n = sendmsg(t->fd, &mh, MSG_NOSIGNAL |
		    (t->more ? MSG_MORE : 0));
	while (n == -1 && errno == EINTR);
	t->st.sends++;
	if (n == -1) {
		t->io_errno = errno;
		gnutls_transport_set_errno(t->s, errno);
	}
	return n;
}

/* GnuTLS has one hook for handshake messages. Before the ClientHello is
 * processed, the client's first choice of cipher decides which of our
 * two orders applies. After a TLS 1.3 KeyUpdate that asks for ours has
 * been taken in, GnuTLS sends ours with its next record: until then no
 * record of our own may go out (RFC 8446, 4.6.3). */
static int
handshake_hook(gnutls_session_t s, unsigned int htype, unsigned int when,
    unsigned int incoming, const gnutls_datum_t *msg)
{
	struct tls_conn *t = gnutls_session_get_ptr(s);

	if (!incoming)
		return 0;
	if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && when == GNUTLS_HOOK_PRE &&
	    tls_hello_prefers_chacha(msg->data, msg->size))
		return gnutls_priority_set(s, t->cr->prio_chacha);
	if (htype == GNUTLS_HANDSHAKE_KEY_UPDATE && when == GNUTLS_HOOK_POST &&
	    msg->size == 1 && msg->data[0] == 1)
		t->ku_owed = 1;
	return 0;
}

struct tls_conn *
tls_conn_new(const struct tls_creds *cr, int fd, char *why, size_t whylen)
{
	struct tls_conn *t;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	t->cr = cr;
	t->fd = fd;
	t->deadline_ms = SOCK_NO_DEADLINE;
	if ((r = gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL |
	    GNUTLS_NO_TICKETS)) < 0) {
		snprintf(why, whylen, "%s", gnutls_strerror(r));
		free(t);
		return NULL;
	}
	gnutls_session_set_ptr(t->s, t);
	if ((r = gnutls_priority_set(t->s, cr->prio)) < 0 ||
	    (cr->x509 != NULL && (r = gnutls_credentials_set(t->s,
	    GNUTLS_CRD_CERTIFICATE, cr->x509)) < 0) ||
	    (cr->psk != NULL && (r = gnutls_credentials_set(t->s,
	    GNUTLS_CRD_PSK, cr->psk)) < 0)) {
		snprintf(why, whylen, "%s", gnutls_strerror(r));
		gnutls_deinit(t->s);
		free(t);
		return NULL;
	}
	if (cr->x509 != NULL && cr->verify_peer) {
		/* Only client certificates are identities: the chain must
		 * allow TLS client authentication (a leaf that lists no
		 * purpose is refused after the handshake, tlsauth.h). */
		static gnutls_typed_vdata_st client_purpose = {
			.type = GNUTLS_DT_KEY_PURPOSE_OID,
			.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
		};

		gnutls_certificate_server_set_request(t->s,
		    GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert2(t->s, &client_purpose, 1, 0);
		/* Naming our CA in the request would make a client whose
		 * certificate another CA signed send none at all; sent, it
		 * is refused with the reason in the log. */
		gnutls_certificate_send_x509_rdn_sequence(t->s, 1);
	} else
		gnutls_certificate_server_set_request(t->s,
		    GNUTLS_CERT_IGNORE);
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
	gnutls_transport_set_vec_push_function(t->s, vec_push);
	gnutls_handshake_set_hook_function(t->s, GNUTLS_HANDSHAKE_ANY,
	    GNUTLS_HOOK_BOTH, handshake_hook);
	/* Our deadline, in pull(), bounds the handshake. */
	gnutls_handshake_set_timeout(t->s, 0);
	return t;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	/* close_notify only if the socket takes it at once: a client that
	 * reads nothing must not hold the thread. */
	if (t->established) {
		int flags = fcntl(t->fd, F_GETFL);

		if (flags != -1 && fcntl(t->fd, F_SETFL,
		    flags | O_NONBLOCK) == 0) {
			(void)gnutls_bye(t->s, GNUTLS_SHUT_WR);
			(void)fcntl(t->fd, F_SETFL, flags);
		}
	}
	gnutls_deinit(t->s);
	if (t->seal != NULL)
		gnutls_aead_cipher_deinit(t->seal);
	free(t->stage);
	free(t->filebuf);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* --- the handshake ---------------------------------------------------- */

static int
fail(int e, char *why, size_t whylen, const char *fmt, const char *detail)
{
	snprintf(why, whylen, fmt, detail);
	errno = e;
	return -1;
}

/* A name the client chose, fit for a log line. */
static void
printable(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] > 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* Why the client's certificate was refused, in GnuTLS's words. */
static int
refused_cert(struct tls_conn *t, char *why, size_t whylen)
{
	unsigned int status = gnutls_session_get_verify_cert_status(t->s);
	gnutls_datum_t out = { NULL, 0 };
	char text[512];

	if (status == 0)
		return fail(EACCES, why, whylen, "client certificate "
		    "refused: %s", gnutls_strerror(t->last_error));
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) < 0)
		return fail(EACCES, why, whylen, "client certificate "
		    "refused (status %s)", "unknown");
	/* GnuTLS ends its sentences with a space. */
	while (out.size > 0 && out.data[out.size - 1] == ' ')
		out.data[--out.size] = '\0';
	snprintf(text, sizeof(text), "%s%s", (const char *)out.data,
	    status & GNUTLS_CERT_PURPOSE_MISMATCH ? " (it, or a CA above it, "
	    "is not for TLS client authentication: clientAuth, certtool's "
	    "tls_www_client)" : "");
	gnutls_free(out.data);
	return fail(EACCES, why, whylen, "client certificate refused: %s",
	    text);
}

static int
handshake_failed(struct tls_conn *t, int r, char *why, size_t whylen)
{
	char detail[PSK_USER_MAX + 1];

	t->last_error = r;
	if (t->timed_out)
		return fail(ETIMEDOUT, why, whylen, "%s",
		    "no TLS handshake by the deadline");
	if (t->psk_user[0] != '\0' && !t->psk_found) {
		printable(detail, t->psk_user, sizeof(detail));
		return fail(EACCES, why, whylen, "PSK user %s is not in the "
		    "PSK file", detail);
	}
	if (t->peer_closed)
		r = GNUTLS_E_PREMATURE_TERMINATION;
	switch (r) {
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return fail(ECONNRESET, why, whylen, "the client went in the "
		    "middle of the TLS handshake (%s)", t->io_errno ?
		    strerror(t->io_errno) : "connection closed");
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
	case GNUTLS_E_CERTIFICATE_ERROR:
		return refused_cert(t, why, whylen);
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		return fail(EACCES, why, whylen, "%s", "the client sent no "
		    "certificate, and client certificates are required");
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return fail(EPROTO, why, whylen, "the client ended the TLS "
		    "handshake: %s",
		    gnutls_alert_get_name(gnutls_alert_get(t->s)));
	}
	if (t->psk_found) {
		printable(detail, t->psk_user, sizeof(detail));
		snprintf(why, whylen, "PSK user %s: %s (a wrong key?)", detail,
		    gnutls_strerror(r));
		errno = EACCES;
		return -1;
	}
	return fail(EPROTO, why, whylen, "TLS handshake failed: %s",
	    gnutls_strerror(r));
}

/* What the certificate's extended key usage makes of it (tlsauth.h). */
static enum tlsauth_cert
cert_purpose(gnutls_x509_crt_t crt)
{
	char oid[128];
	size_t n, len;
	int client = 0;

	for (n = 0;; n++) {
		len = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, (unsigned)n, oid,
		    &len, NULL) < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			client = 1;
	}
	return tlsauth_cert_purpose(n, client);
}

/* The identity a verified client certificate carries: its one common
 * name. */
static int
cert_identity(struct tls_conn *t, char *why, size_t whylen)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;
	char cn[TLS_IDENTITY_MAX + 1], other[TLS_IDENTITY_MAX + 1];
	size_t len = sizeof(cn), olen = sizeof(other);
	enum tlsauth_cert purpose;
	int r;

	if ((certs = gnutls_certificate_get_peers(t->s, &n)) == NULL ||
	    n == 0)
		return fail(EACCES, why, whylen, "%s", "the client sent no "
		    "certificate");
	if (gnutls_x509_crt_init(&crt) < 0)
		return fail(ENOMEM, why, whylen, "%s", "out of memory");
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return fail(EACCES, why, whylen, "%s", "the client's "
		    "certificate cannot be parsed");
	}
	if ((purpose = cert_purpose(crt)) != TLSAUTH_CERT_CLIENT) {
		gnutls_x509_crt_deinit(crt);
		return fail(EACCES, why, whylen, "client certificate refused: "
		    "%s", tlsauth_cert_describe(purpose));
	}
	r = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, cn, &len);
	if (r == 0 && gnutls_x509_crt_get_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 1, 0, other, &olen) !=
	    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		r = 1;
	gnutls_x509_crt_deinit(crt);
	if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return fail(EACCES, why, whylen, "%s", "the client's "
		    "certificate has no common name (CN) to name it by");
	if (r == 1)
		return fail(EACCES, why, whylen, "%s", "the client's "
		    "certificate has more than one common name (CN)");
	if (r < 0 || len != strlen(cn) || !plain_name_valid(cn, len))
		return fail(EACCES, why, whylen, "%s", "the common name "
		    "of the client's certificate is not a plain name (no "
		    "'/', no control characters, at most 255 bytes)");
	memcpy(t->identity, cn, len + 1);
	t->kind = TLS_ID_X509;
	return 0;
}

static int
peer_identity(struct tls_conn *t, char *why, size_t whylen)
{
	gnutls_datum_t user;

	switch (gnutls_auth_get_type(t->s)) {
	case GNUTLS_CRD_PSK:
		/* Only a user of the file gets this far: psk_key refused
		 * the rest. */
		if (gnutls_psk_server_get_username2(t->s, &user) < 0 ||
		    user.size > PSK_USER_MAX ||
		    !plain_name_valid((const char *)user.data, user.size))
			return fail(EACCES, why, whylen, "%s", "PSK user "
			    "name unusable");
		memcpy(t->identity, user.data, user.size);
		t->identity[user.size] = '\0';
		t->kind = TLS_ID_PSK;
		return 0;
	case GNUTLS_CRD_CERTIFICATE:
		if (!t->cr->verify_peer) {
			t->kind = TLS_ID_NONE;
			return 0;
		}
		return cert_identity(t, why, whylen);
	default:
		return fail(EPROTO, why, whylen, "%s", "the handshake "
		    "authenticated neither by certificate nor by PSK");
	}
}

/* The most plaintext GnuTLS puts in a record it sends: what the peer's
 * record_size_limit (RFC 8449) or max_fragment_length (RFC 6066) left
 * of 16 KiB, the content type of TLS 1.3 already taken off. GnuTLS has
 * no getter for it; splitting a range into records answers with it. 0
 * when even that fails. */
static size_t
record_max(gnutls_session_t s)
{
	gnutls_range_st want = { RECORD_MAX, RECORD_MAX }, next, rest;

	if (gnutls_range_split(s, &want, &next, &rest) != 0 ||
	    next.high == 0 || next.high > RECORD_MAX)
		return 0;
	return next.high;
}

int
tls_handshake(struct tls_conn *t, int64_t deadline_ms, char *why,
    size_t whylen)
{
	int r;

	t->deadline_ms = deadline_ms;
	t->timed_out = 0;
	do
		r = gnutls_handshake(t->s);
	while (r < 0 && !gnutls_error_is_fatal(r) && !t->timed_out);
	t->deadline_ms = SOCK_NO_DEADLINE;
	if (r < 0)
		return handshake_failed(t, r, why, whylen);
	t->established = 1;
	t->tls13 = gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3;
	t->rec_max = record_max(t->s);
	if (peer_identity(t, why, whylen) == -1) {
		/* Tell the client, rather than leave it to guess. */
		(void)gnutls_alert_send(t->s, GNUTLS_AL_FATAL,
		    GNUTLS_A_ACCESS_DENIED);
		return -1;
	}
	return 0;
}

enum tls_identity
tls_peer(const struct tls_conn *t, const char **name)
{
	*name = t->kind == TLS_ID_NONE ? NULL : t->identity;
	return t->kind;
}

void
tls_describe(const struct tls_conn *t, char *buf, size_t len)
{
	const char *v = gnutls_protocol_get_name(
	    gnutls_protocol_get_version(t->s));
	const char *c = gnutls_cipher_get_name(gnutls_cipher_get(t->s));

	snprintf(buf, len, "%s %s", v ? v : "?", c ? c : "?");
}

/* --- the record layer ----------------------------------------------- */

/* A failed record call as errno: EAGAIN, ETIMEDOUT, ECONNRESET for a
 * socket error, EPROTO for TLS's own. */
static int
record_failed(struct tls_conn *t, ssize_t r)
{
	t->last_error = (int)r;
	if (r == GNUTLS_E_AGAIN)
		errno = t->timed_out ? ETIMEDOUT : EAGAIN;
	else if (t->timed_out)
		errno = ETIMEDOUT;
	else if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		errno = t->io_errno ? t->io_errno : ECONNRESET;
	else
		errno = EPROTO;
	return -1;
}

/* One gnutls_record_recv as the pull function is set up now. */
static ssize_t
recv_record(struct tls_conn *t, void *buf, size_t len)
{
	ssize_t r;

	for (;;) {
		r = gnutls_record_recv(t->s, buf, len);
		if (r >= 0)
			return r;
		switch (r) {
		case GNUTLS_E_INTERRUPTED:
		case GNUTLS_E_WARNING_ALERT_RECEIVED:
			continue;
		case GNUTLS_E_AGAIN:
			/* Also after a TLS 1.3 post-handshake message (a key
			 * update) was dealt with: nothing wrong, no data yet.
			 * Only a read that must not wait, or whose deadline
			 * passed, stops here. */
			if (!t->dontwait && !t->timed_out)
				continue;
			return record_failed(t, r);
		case GNUTLS_E_PREMATURE_TERMINATION:
			/* TCP closed without close_notify: the end, as a
			 * plain socket's; whether in the middle of a
			 * request is the driver's to say. */
			return 0;
		case GNUTLS_E_REHANDSHAKE:
			/* No renegotiation: no NBD client needs one. */
			t->last_error = (int)r;
			errno = EPROTO;
			return -1;
		default:
			return record_failed(t, r);
		}
	}
}

int
tls_wait(struct tls_conn *t, int64_t deadline_ms)
{
	if (gnutls_record_check_pending(t->s) > 0 || t->rend > t->rstart)
		return 1;
	return sock_wait(t->fd, deadline_ms);
}

ssize_t
tls_recv(struct tls_conn *t, void *buf, size_t len, int dontwait)
{
	ssize_t r;

	t->dontwait = dontwait;
	t->timed_out = 0;
	r = recv_record(t, buf, len);
	t->dontwait = 0;
	return r;
}

ssize_t
tls_recv_by(struct tls_conn *t, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t r;

	t->deadline_ms = deadline_ms;
	t->timed_out = 0;
	r = recv_record(t, buf, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

/* Reads exactly len with the pull function's limits as set: len, 0 when
 * the stream ended before the first byte, or -1 (ECONNRESET when it
 * ended part way). */
static ssize_t
read_exact(struct tls_conn *t, uint8_t *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	t->timed_out = 0;
	while (got < len) {
		if ((n = recv_record(t, p + got, len - got)) <= 0) {
			if (n == 0 && got == 0)
				return 0;
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* In the middle of a message, where the stream ending is the peer gone
 * part way. */
static int
discard_exact(struct tls_conn *t, uint64_t len)
{
	uint8_t junk[RECORD_MAX];

	while (len > 0) {
		size_t n = len < sizeof(junk) ? (size_t)len : sizeof(junk);
		ssize_t r = read_exact(t, junk, n);

		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		len -= n;
	}
	return 0;
}

ssize_t
tls_read_full(struct tls_conn *t, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t r;

	t->deadline_ms = deadline_ms;
	r = read_exact(t, buf, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

int
tls_discard(struct tls_conn *t, uint64_t len, int64_t deadline_ms)
{
	int r;

	t->deadline_ms = deadline_ms;
	r = discard_exact(t, len);
	t->deadline_ms = SOCK_NO_DEADLINE;
	return r;
}

ssize_t
tls_read_idle(struct tls_conn *t, void *buf, size_t len, int idle_ms)
{
	ssize_t r;

	t->idle_ms = idle_ms;
	r = read_exact(t, buf, len);
	t->idle_ms = 0;
	return r;
}

int
tls_discard_idle(struct tls_conn *t, uint64_t len, int idle_ms)
{
	int r;

	t->idle_ms = idle_ms;
	r = discard_exact(t, len);
	t->idle_ms = 0;
	return r;
}

/* A TLS 1.3 key update of our own, now: 0, or -1 (the stream is
 * broken). */
static int
update_key(struct tls_conn *t)
{
	int r;

	do
		r = gnutls_session_key_update(t->s, 0);
	while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r < 0)
		return record_failed(t, r);
	t->st.key_updates++;
	return 0;
}

/* Before a record goes out through GnuTLS: under TLS 1.3, a key update
 * once rekey_records records went under this key (the write sequence
 * number starts again at 0 with each key), sealed by GnuTLS or by us.
 * GnuTLS's own update counts only the records it seals, and misses the
 * moment when ours jump over it. A key update the peer asked for is
 * GnuTLS's to send. 0, or -1. */
static int
rekey_if_due(struct tls_conn *t)
{
	unsigned char sq[8];

	if (!t->tls13 || t->ku_owed)
		return 0;
	if (gnutls_record_get_state(t->s, 0, NULL, NULL, NULL, sq) < 0) {
		errno = EPROTO;
		return -1;
	}
	return get64(sq) < t->cr->rekey_records ? 0 : update_key(t);
}

/* Sends len bytes through GnuTLS's record layer, in records as large as
 * the peer takes; the last carries MSG_MORE only when more is set. */
static int
send_records(struct tls_conn *t, const uint8_t *p, size_t len, int more)
{
	ssize_t r;

	while (len > 0) {
		size_t n = len < RECORD_MAX ? len : RECORD_MAX;

		if (rekey_if_due(t) == -1)
			return -1;
		t->more = more || n < len;
		/* On EINTR or EAGAIN GnuTLS keeps the record and wants to
		 * be called again with the same arguments. */
		do
			r = gnutls_record_send(t->s, p, n);
		while (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN);
		if (r < 0) {
			t->more = 0;
			return record_failed(t, r);
		}
		/* A key update the peer asked for went out before it. */
		t->ku_owed = 0;
		t->st.records_out++;
		p += r;
		len -= (size_t)r;
	}
	t->more = 0;
	return 0;
}

int
tls_writev_full(struct tls_conn *t, const struct iovec *iov, int iovcnt,
    int flags)
{
	int more = (flags & MSG_MORE) != 0;
	size_t staged = 0, left = 0;

	for (int i = 0; i < iovcnt; i++)
		left += iov[i].iov_len;
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;

		while (n > 0) {
			size_t take;

			/* A piece that fills records by itself, or the
			 * last one, goes out from where it is. */
			if (staged == 0 && (n >= RECORD_MAX || n == left)) {
				take = n == left ? n :
				    n - n % RECORD_MAX;
				if (send_records(t, p, take,
				    more || take < left) == -1)
					return -1;
				p += take;
				n -= take;
				left -= take;
				continue;
			}
			if (t->stage == NULL &&
			    (t->stage = malloc(RECORD_MAX)) == NULL)
				return -1;
			take = RECORD_MAX - staged;
			if (take > n)
				take = n;
			memcpy(t->stage + staged, p, take);
			t->st.copied += take;
			staged += take;
			p += take;
			n -= take;
			left -= take;
			if (staged == RECORD_MAX || left == 0) {
				if (send_records(t, t->stage, staged,
				    more || left > 0) == -1)
					return -1;
				staged = 0;
			}
		}
	}
	return 0;
}

int
tls_write_full(struct tls_conn *t, const void *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };

	return tls_writev_full(t, &iov, 1, flags);
}

/* The session's write state, for sealing records ourselves: 0 with k
 * and *seq set and t->seal keyed, or 1 when this session's cipher or
 * version is not one we seal, or the peer's record size is not known
 * (GnuTLS's record layer sends then). */
static int
seal_state(struct tls_conn *t, struct tlsrec_keys *k, uint64_t *seq)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(t->s);
	gnutls_cipher_algorithm_t c = gnutls_cipher_get(t->s);
	int gcm = c == GNUTLS_CIPHER_AES_128_GCM ||
	    c == GNUTLS_CIPHER_AES_256_GCM;
	gnutls_datum_t mac, iv, key;
	unsigned char sq[8];

	if ((v != GNUTLS_TLS1_2 && v != GNUTLS_TLS1_3) || t->rec_max == 0 ||
	    (!gcm && c != GNUTLS_CIPHER_CHACHA20_POLY1305) ||
	    gnutls_record_get_state(t->s, 0, &mac, &iv, &key, sq) < 0)
		return 1;
	*seq = get64(sq);
	if (key.size > sizeof(t->seal_key) ||
	    tlsrec_keys(k, v == GNUTLS_TLS1_3, gcm, iv.data, iv.size) == -1)
		return 1;
	/* A TLS 1.3 key update gives the session a new key. */
	if (t->seal != NULL && t->seal_cipher == c &&
	    t->seal_keylen == key.size &&
	    memcmp(t->seal_key, key.data, key.size) == 0)
		return 0;
	if (t->seal != NULL)
		gnutls_aead_cipher_deinit(t->seal);
	t->seal = NULL;
	if (gnutls_aead_cipher_init(&t->seal, c, &key) < 0) {
		t->seal = NULL;
		return 1;
	}
	t->seal_cipher = c;
	t->seal_keylen = key.size;
	memcpy(t->seal_key, key.data, key.size);
	return 0;
}

/* Sends the first of the len bytes at p, which it overwrites, as
 * application-data records sealed in place, all in one sendmsg() (with
 * MSG_MORE when more follows): no copy besides the encryption and the
 * kernel's, and a system call per SEAL_RECORDS records rather than per
 * record. Under TLS 1.3 the key is updated first if it sealed
 * rekey_records records, and no more are sealed under it than that. 0
 * with *done set; -1 with errno (the stream is broken); or 1 when these
 * records are not ours to seal: nothing was sent or changed. */
static int
seal_batch(struct tls_conn *t, uint8_t *p, size_t len, int more,
    size_t *done)
{
	uint8_t prefix[SEAL_RECORDS][TLSREC_PREFIX_MAX];
	uint8_t tag[SEAL_RECORDS][TLSREC_TAG], inner[SEAL_RECORDS];
	uint8_t nonce[TLSREC_NONCE], aad[TLSREC_AAD_MAX], sq[8];
	struct iovec out[4 * SEAL_RECORDS];
	size_t max = t->rec_max, nrec, i, off, tl;
	struct tlsrec_keys k;
	uint64_t seq;
	int nout = 0;

	if (seal_state(t, &k, &seq) != 0)
		return 1;
	if (k.tls13 && seq >= t->cr->rekey_records) {
		if (update_key(t) == -1)
			return -1;
		if (seal_state(t, &k, &seq) != 0)
			return 1;
	}
	if ((nrec = (len + max - 1) / max) > SEAL_RECORDS)
		nrec = SEAL_RECORDS;
	if (k.tls13 && nrec > t->cr->rekey_records - seq)
		nrec = (size_t)(t->cr->rekey_records - seq);
	for (i = 0, off = 0; i < nrec; i++) {
		size_t n = len - off < max ? len - off : max;
		giovec_t auth, data[2] = { { p + off, n }, { &inner[i], 1 } };

		inner[i] = TLSREC_APP_DATA;
		tlsrec_nonce(&k, seq + i, nonce);
		auth.iov_base = aad;
		auth.iov_len = tlsrec_aad(&k, seq + i, n, aad);
		tl = TLSREC_TAG;
		if (gnutls_aead_cipher_encryptv2(t->seal, nonce, sizeof(nonce),
		    &auth, 1, data, k.tls13 ? 2 : 1, tag[i], &tl) < 0 ||
		    tl != TLSREC_TAG) {
			errno = EPROTO;
			return -1;
		}
		out[nout++] = (struct iovec){ prefix[i],
		    tlsrec_prefix(&k, seq + i, n, prefix[i]) };
		out[nout++] = (struct iovec){ p + off, n };
		if (k.tls13)
			out[nout++] = (struct iovec){ &inner[i], 1 };
		out[nout++] = (struct iovec){ tag[i], TLSREC_TAG };
		off += n;
	}
	/* GnuTLS numbers its next record after ours, sent or not: a stream
	 * cut in the middle is broken either way. */
	put64(sq, seq + nrec);
	if (gnutls_record_set_state(t->s, 0, sq) < 0) {
		errno = EPROTO;
		return -1;
	}
	t->st.records_out += nrec;
	t->st.sends++;
	*done = off;
	return sock_writev_full(t->fd, out, nout,
	    more || off < len ? MSG_MORE : 0);
}

/* Records of p, sealed here when the session allows, else through
 * GnuTLS; p may be overwritten. A key update the peer asked for goes
 * first: GnuTLS sends it with its next record, so that record is
 * GnuTLS's to seal. */
static int
send_bulk(struct tls_conn *t, uint8_t *p, size_t len, int more)
{
	size_t n;
	int r;

	while (len > 0) {
		if (t->ku_owed) {
			n = len < RECORD_MAX ? len : RECORD_MAX;
			if (t->rec_max > 0 && n > t->rec_max)
				n = t->rec_max;
			r = send_records(t, p, n, more || n < len);
		} else if ((r = seal_batch(t, p, len, more, &n)) == 1)
			return send_records(t, p, len, more);
		if (r == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
tls_write_buffer(struct tls_conn *t, void *buf, size_t len, int flags)
{
	const size_t chunk = (SEAL_RECORDS - 1) * RECORD_MAX;
	uint8_t *p = buf;
	int more = (flags & MSG_MORE) != 0;

	while (len > 0) {
		size_t n = len < chunk ? len : chunk;

		if (send_bulk(t, p, n, more || n < len) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads len bytes of fd at off into buf: 0, or -1 (ENODATA when the
 * image ends first). */
static int
pread_full(struct tls_conn *t, int fd, uint8_t *buf, size_t len,
    uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		t->st.preads++;
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENODATA;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
tls_send_file(struct tls_conn *t, const void *hdr, size_t hdrlen, int fd,
    uint64_t off, size_t len, int *started)
{
	size_t first;

	*started = 0;
	if (hdrlen > RECORD_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (t->filebuf == NULL && (t->filebuf = malloc(FILE_BUF)) == NULL)
		return -1;
	/* The header leads the first record, so no record is spent on it
	 * alone; the image data follows it in the same buffer. */
	memcpy(t->filebuf, hdr, hdrlen);
	t->st.copied += hdrlen;
	first = len <= FILE_BUF - hdrlen ? len : FILE_CHUNK - hdrlen;
	if (pread_full(t, fd, t->filebuf + hdrlen, first, off) == -1)
		return -1;
	*started = 1;
	if (send_bulk(t, t->filebuf, hdrlen + first, first < len) == -1)
		return -1;
	off += first;
	len -= first;
	while (len > 0) {
		size_t n = len <= FILE_BUF ? len : FILE_CHUNK;

		if (pread_full(t, fd, t->filebuf, n, off) == -1 ||
		    send_bulk(t, t->filebuf, n, n < len) == -1)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

const char *
tls_error(const struct tls_conn *t)
{
	return t->last_error != 0 ? gnutls_strerror(t->last_error) :
	    "no TLS error";
}

const struct tls_stats *
tls_stats(const struct tls_conn *t)
{
	return &t->st;
}
