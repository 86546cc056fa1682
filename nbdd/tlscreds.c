/* TLS credentials: the X.509 directory (certificates, key, CA, CRL),
 * the PSK file and the cipher priorities, loaded and checked once at
 * start. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/log.h"
#include "nbdd/pskfile.h"
#include "nbdd/tls.h"
#include "nbdd/tlsauth.h"
#include "nbdd/tlspriv.h"

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
