/* The TLS unit tests' shared scene, with no NBD: a TCP pair on
 * loopback, nbdd's side driven by the test and a GnuTLS client in a
 * thread. Certificates are made at setup (tls_fixture.h): a CA, the
 * server's certificate, clients of each kind (good, another CA,
 * expired, not yet valid, revoked, with no, two or an odd common name,
 * a server's, one with no purpose, one with both), a CRL and a PSK
 * file. Used by nbdd_tlscreds_test.c, nbdd_tlssession_test.c,
 * nbdd_tlsstream_test.c, nbdd_tlsseal_test.c and nbdd_transport_test.c;
 * what one file alone uses stays in it. */
#ifndef TESTS_UNIT_TLS_CONN_FIXTURE_H
#define TESTS_UNIT_TLS_CONN_FIXTURE_H

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "tests/unit/tls_fixture.h"

static TF_MAYBE char dir[64];
static TF_MAYBE char x509dir[96], pskfile[96], ca2file[96];

static TF_MAYBE const uint8_t psk_pi[32] = { 0x61, 0xc3, 0xf6, 0x0e, 0xca, 0xe7,
	0x5a, 0x68, 0xc0, 0xec, 0xec, 0x58, 0xf4, 0x56, 0x36, 0xd1, 0x0e,
	0xfe, 0x88, 0x63, 0x98, 0xad, 0x1e, 0x49, 0x7a, 0x9b, 0xcd, 0x2b,
	0x0d, 0x62, 0x4a, 0x4e };

static TF_MAYBE void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static TF_MAYBE void
write_cert(const char *name, const char *dn, enum tf_kind kind,
    gnutls_x509_crt_t ca, gnutls_x509_privkey_t cakey, time_t from,
    time_t until, unsigned serial, gnutls_x509_crt_t *out)
{
	gnutls_x509_privkey_t k = tf_key();
	gnutls_x509_crt_t c = tf_cert(dn, k, kind, ca, cakey, from, until,
	    serial);
	char p[128], f[160];

	path(p, sizeof(p), name);
	snprintf(f, sizeof(f), "%s-cert.pem", p);
	tf_write_cert(f, c);
	snprintf(f, sizeof(f), "%s-key.pem", p);
	tf_write_key(f, k);
	gnutls_x509_privkey_deinit(k);
	if (out != NULL)
		*out = c;
	else
		gnutls_x509_crt_deinit(c);
}

static TF_MAYBE void
write_client(const char *name, const char *dn, gnutls_x509_crt_t ca,
    gnutls_x509_privkey_t cakey, time_t from, time_t until, unsigned serial,
    gnutls_x509_crt_t *out)
{
	write_cert(name, dn, TF_CLIENT, ca, cakey, from, until, serial, out);
}

static TF_MAYBE void
make_all(void)
{
	time_t now = time(NULL), day = 86400;
	gnutls_x509_privkey_t cakey = tf_key(), ca2key = tf_key(),
	    skey = tf_key();
	gnutls_x509_crt_t ca, ca2, srv, revoked;
	char p[160];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	strlcpy(dir, "/tmp/nbdd-tls-XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path(x509dir, sizeof(x509dir), "x509");
	path(pskfile, sizeof(pskfile), "keys.psk");
	path(ca2file, sizeof(ca2file), "ca2-cert.pem");
	ck_assert_int_eq(mkdir(x509dir, 0700), 0);
	ca = tf_cert("CN=netboot test CA", cakey, TF_CA, NULL, NULL,
	    now - day, now + 365 * day, 1);
	ca2 = tf_cert("CN=another CA", ca2key, TF_CA, NULL, NULL, now - day,
	    now + 365 * day, 1);
	srv = tf_cert("CN=nbdd.test", skey, TF_SERVER, ca, cakey, now - day,
	    now + 365 * day, 2);
	snprintf(p, sizeof(p), "%s/ca-cert.pem", x509dir);
	tf_write_cert(p, ca);
	tf_write_cert(ca2file, ca2);
	snprintf(p, sizeof(p), "%s/server-cert.pem", x509dir);
	tf_write_cert(p, srv);
	snprintf(p, sizeof(p), "%s/server-key.pem", x509dir);
	tf_write_key(p, skey);

	write_client("good", "CN=abcd1234", ca, cakey, now - day,
	    now + 30 * day, 10, NULL);
	write_client("otherca", "CN=abcd1234", ca2, ca2key, now - day,
	    now + 30 * day, 11, NULL);
	write_client("expired", "CN=abcd1234", ca, cakey, now - 30 * day,
	    now - day, 12, NULL);
	write_client("notyet", "CN=abcd1234", ca, cakey, now + day,
	    now + 30 * day, 13, NULL);
	write_client("revoked", "CN=abcd1234", ca, cakey, now - day,
	    now + 30 * day, 14, &revoked);
	write_client("twocn", "CN=abcd1234,CN=jammy", ca, cakey, now - day,
	    now + 30 * day, 15, NULL);
	write_client("slashcn", "CN=a/b", ca, cakey, now - day,
	    now + 30 * day, 16, NULL);
	write_client("nocn", "O=netboot", ca, cakey, now - day,
	    now + 30 * day, 17, NULL);
	/* A server's certificate from the same CA, named like a Pi. */
	write_cert("server", "CN=abcd1234", TF_SERVER, ca, cakey, now - day,
	    now + 30 * day, 18, NULL);
	write_cert("nopurpose", "CN=abcd1234", TF_NO_PURPOSE, ca, cakey,
	    now - day, now + 30 * day, 19, NULL);
	write_cert("both", "CN=abcd1234", TF_BOTH, ca, cakey, now - day,
	    now + 30 * day, 20, NULL);
	write_client("default", "CN=default", ca, cakey, now - day,
	    now + 30 * day, 21, NULL);
	snprintf(p, sizeof(p), "%s/ca-crl.pem", x509dir);
	tf_write_crl(p, ca, cakey, revoked);

	ck_assert_ptr_nonnull(f = fopen(pskfile, "w"));
	fprintf(f, "abcd1234:");
	for (size_t i = 0; i < sizeof(psk_pi); i++)
		fprintf(f, "%02x", psk_pi[i]);
	fprintf(f, "\ndc-a6-32-01-36-c2:000102030405060708090a0b0c0d0e0f\n");
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(pskfile, 0600), 0);

	gnutls_x509_crt_deinit(revoked);
	gnutls_x509_crt_deinit(srv);
	gnutls_x509_crt_deinit(ca2);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(skey);
	gnutls_x509_privkey_deinit(ca2key);
	gnutls_x509_privkey_deinit(cakey);
}

static TF_MAYBE void
remove_all(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A test case of these files: the certificates made once before its
 * tests and removed after them. */
static TF_MAYBE TCase *
tls_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, make_all, remove_all);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
}

/* --- a connected TCP pair on loopback ------------------------------- */

static TF_MAYBE void
tcp_pair(int fd[2])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int l, on = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
	ck_assert_int_ge(fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0), 0);
	ck_assert_int_eq(connect(fd[1], (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_ge(fd[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC), 0);
	close(l);
	setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd[1], IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* --- the client, in a thread ------------------------------------------ */

struct client {
	const char *cert;	/* "good": DIR/good-cert.pem and -key.pem */
	const char *trust;	/* CA file for the server; NULL: x509dir's */
	const char *psk_user;
	const uint8_t *psk_key;
	size_t psk_len;
	const char *priority;	/* NULL: GnuTLS's default, with PSK */
	size_t max_recv;	/* a record size limit to ask for (RFC 8449) */
	/* After a successful handshake. */
	void (*then)(gnutls_session_t s, struct client *c);
	void *arg;
	/* Filled in by the thread. */
	int fd;
	int hs;
	pthread_t tid;
};

static TF_MAYBE void *
client_main(void *arg)
{
	struct client *c = arg;
	gnutls_certificate_credentials_t x509 = NULL;
	gnutls_psk_client_credentials_t psk = NULL;
	gnutls_session_t s;
	char ca[128], cert[160], key[160];
	const char *err;

	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL),
	    0);
	ck_assert_int_eq(gnutls_priority_set_direct(s, c->priority ?
	    c->priority : "NORMAL:+ECDHE-PSK:+DHE-PSK", &err), 0);
	if (c->max_recv > 0)
		ck_assert_int_ge(gnutls_record_set_max_recv_size(s,
		    c->max_recv), 0);
	if (c->psk_user != NULL) {
		gnutls_datum_t k = { (unsigned char *)c->psk_key,
		    (unsigned)c->psk_len };

		ck_assert_int_eq(gnutls_psk_allocate_client_credentials(&psk),
		    0);
		ck_assert_int_eq(gnutls_psk_set_client_credentials(psk,
		    c->psk_user, &k, GNUTLS_PSK_KEY_RAW), 0);
		ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_PSK,
		    psk), 0);
	} else {
		ck_assert_int_eq(gnutls_certificate_allocate_credentials(
		    &x509), 0);
		snprintf(ca, sizeof(ca), "%s/ca-cert.pem", x509dir);
		ck_assert_int_gt(gnutls_certificate_set_x509_trust_file(x509,
		    c->trust ? c->trust : ca, GNUTLS_X509_FMT_PEM), 0);
		if (c->cert != NULL) {
			path(cert, sizeof(cert), c->cert);
			strlcat(cert, "-cert.pem", sizeof(cert));
			path(key, sizeof(key), c->cert);
			strlcat(key, "-key.pem", sizeof(key));
			ck_assert_int_eq(gnutls_certificate_set_x509_key_file(
			    x509, cert, key, GNUTLS_X509_FMT_PEM), 0);
		}
		ck_assert_int_eq(gnutls_credentials_set(s,
		    GNUTLS_CRD_CERTIFICATE, x509), 0);
		gnutls_session_set_verify_cert(s, "nbdd.test", 0);
	}
	gnutls_transport_set_int(s, c->fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		c->hs = gnutls_handshake(s);
	while (c->hs < 0 && !gnutls_error_is_fatal(c->hs));
	if (c->hs < 0)
		(void)gnutls_alert_send_appropriate(s, c->hs);
	if (c->hs == 0 && c->then != NULL)
		c->then(s, c);
	gnutls_deinit(s);
	if (x509 != NULL)
		gnutls_certificate_free_credentials(x509);
	if (psk != NULL)
		gnutls_psk_free_client_credentials(psk);
	close(c->fd);
	return NULL;
}

/* The server's side of a test: creds from cf, a session on a fresh pair,
 * the client started. */
struct server {
	struct tls_creds *cr;
	struct tls_conn *t;
	int fd;
	char why[512];
};

static TF_MAYBE void
start(struct server *sv, const struct tls_config *cf, struct client *c)
{
	int fd[2];

	memset(sv, 0, sizeof(*sv));
	sv->cr = tls_creds_load(cf, sv->why, sizeof(sv->why));
	ck_assert_msg(sv->cr != NULL, "%s", sv->why);
	tcp_pair(fd);
	sv->fd = fd[0];
	c->fd = fd[1];
	ck_assert_ptr_nonnull(sv->t = tls_conn_new(sv->cr, sv->fd, sv->why,
	    sizeof(sv->why)));
	ck_assert_int_eq(pthread_create(&c->tid, NULL, client_main, c), 0);
}

static TF_MAYBE int
handshake(struct server *sv, int ms)
{
	return tls_handshake(sv->t, sock_now_ms() + ms, sv->why,
	    sizeof(sv->why));
}

static TF_MAYBE void
finish(struct server *sv, struct client *c)
{
	tls_conn_free(sv->t);
	/* A failed handshake leaves the client to learn it from the close. */
	shutdown(sv->fd, SHUT_RDWR);
	ck_assert_int_eq(pthread_join(c->tid, NULL), 0);
	close(sv->fd);
	tls_creds_free(sv->cr);
}

static TF_MAYBE const struct tls_config x509_anon = { .x509_dir = x509dir };
static TF_MAYBE const struct tls_config x509_verify = { .x509_dir = x509dir,
	.verify_peer = 1 };
static TF_MAYBE const struct tls_config psk_only = { .psk_file = pskfile };
static TF_MAYBE const struct tls_config both = { .x509_dir = x509dir,
	.psk_file = pskfile, .verify_peer = 1 };

/* Refused with errno e and why holding text. */
static TF_MAYBE void
refused(const struct tls_config *cf, struct client *c, int e,
    const char *text)
{
	struct server sv;
	int r;

	start(&sv, cf, c);
	r = handshake(&sv, 5000);
	ck_assert_msg(r == -1, "handshake succeeded");
	ck_assert_msg(errno == e, "errno %d (%s), want %d; why: %s", errno,
	    strerror(errno), e, sv.why);
	ck_assert_msg(strcasestr(sv.why, text) != NULL, "why \"%s\" lacks "
	    "\"%s\"", sv.why, text);
	finish(&sv, c);
}

/* --- a greeting each way, once the handshake is done --------------- */

static TF_MAYBE void
client_echo(gnutls_session_t s, struct client *c)
{
	char buf[64];
	ssize_t n;
	(void)c;

	/* Reads "hello", answers "world!", then waits for the end. */
	ck_assert_int_eq(gnutls_record_recv(s, buf, 5), 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert_int_eq(gnutls_record_send(s, "world!", 6), 6);
	n = gnutls_record_recv(s, buf, sizeof(buf));
	ck_assert_int_eq(n, 0);		/* close_notify from tls_conn_free */
}

static TF_MAYBE void
talk(struct server *sv)
{
	char buf[8];

	ck_assert_int_eq(tls_write_full(sv->t, "hello", 5, 0), 0);
	ck_assert_int_eq(tls_read_full(sv->t, buf, 6, sock_now_ms() + 5000),
	    6);
	ck_assert(memcmp(buf, "world!", 6) == 0);
}

/* --- what the clients read, and what they are sent --------------- */

/* The client reads want bytes (or until the end) into a buffer. */
struct sink {
	uint8_t *buf;
	size_t want, got;
};

static TF_MAYBE void
client_sink(gnutls_session_t s, struct client *c)
{
	struct sink *k = c->arg;
	ssize_t n;

	while (k->got < k->want) {
		n = gnutls_record_recv(s, k->buf + k->got, k->want - k->got);
		/* E_AGAIN follows a TLS 1.3 key update, blocking or not. */
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			break;
		k->got += (size_t)n;
	}
}

static TF_MAYBE void
fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static TF_MAYBE int
image_file(size_t len, uint8_t **content)
{
	char p[128];
	int fd;

	path(p, sizeof(p), "image-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(p), 0);
	unlink(p);
	ck_assert_ptr_nonnull(*content = malloc(len));
	fill_pattern(*content, len, 9);
	ck_assert_int_eq(write(fd, *content, len), (ssize_t)len);
	return fd;
}

/* The read key and the sequence number of the next record, as the
 * client sees them: how it tells when nbdd's key changed. */
struct rkey {
	uint8_t key[32];
	unsigned size;
	uint64_t seq;
};

static TF_MAYBE void
read_key(gnutls_session_t s, struct rkey *k)
{
	gnutls_datum_t key;
	unsigned char seq[8];

	ck_assert_int_eq(gnutls_record_get_state(s, 1, NULL, NULL, &key, seq),
	    0);
	ck_assert_uint_le(key.size, sizeof(k->key));
	memcpy(k->key, key.data, key.size);
	k->size = key.size;
	k->seq = 0;
	for (int i = 0; i < 8; i++)
		k->seq = k->seq << 8 | seq[i];
}

static TF_MAYBE int
same_key(const struct rkey *a, const struct rkey *b)
{
	return a->size == b->size && memcmp(a->key, b->key, a->size) == 0;
}

/* --- loading credentials ------------------------------------------ */

static TF_MAYBE void
load_fails(const struct tls_config *cf, const char *text1, const char *text2)
{
	struct tls_creds *cr;
	char why[512];

	cr = tls_creds_load(cf, why, sizeof(why));
	ck_assert_msg(cr == NULL, "loaded");
	ck_assert_msg(strstr(why, text1) != NULL, "\"%s\" lacks \"%s\"", why,
	    text1);
	if (text2 != NULL)
		ck_assert_msg(strstr(why, text2) != NULL, "\"%s\" lacks "
		    "\"%s\"", why, text2);
}

static TF_MAYBE void
put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	path(p, sizeof(p), name);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

#endif
