/* The TLS layer (nbdd/tls.c) and the transport over it, with no NBD: a
 * TCP pair on loopback, nbdd's side driven by the test and a GnuTLS
 * client in a thread. Certificates are made at setup (tls_fixture.h):
 * a CA, the server's certificate, clients of each kind (good, another
 * CA, expired, not yet valid, revoked, with no, two or an odd common
 * name, a server's, one with no purpose, one with both), a CRL and a
 * PSK file. */
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
#include "nbdd/transport.h"
#include "tests/unit/check_main.h"
#include "tests/unit/tls_fixture.h"

static char dir[64];
static char x509dir[96], pskfile[96], ca2file[96];

static const uint8_t psk_pi[32] = { 0x61, 0xc3, 0xf6, 0x0e, 0xca, 0xe7,
	0x5a, 0x68, 0xc0, 0xec, 0xec, 0x58, 0xf4, 0x56, 0x36, 0xd1, 0x0e,
	0xfe, 0x88, 0x63, 0x98, 0xad, 0x1e, 0x49, 0x7a, 0x9b, 0xcd, 0x2b,
	0x0d, 0x62, 0x4a, 0x4e };

static void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
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

static void
write_client(const char *name, const char *dn, gnutls_x509_crt_t ca,
    gnutls_x509_privkey_t cakey, time_t from, time_t until, unsigned serial,
    gnutls_x509_crt_t *out)
{
	write_cert(name, dn, TF_CLIENT, ca, cakey, from, until, serial, out);
}

static void
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

static void
remove_all(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* --- a connected TCP pair on loopback ------------------------------- */

static void
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

static void *
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

static void
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

static int
handshake(struct server *sv, int ms)
{
	return tls_handshake(sv->t, sock_now_ms() + ms, sv->why,
	    sizeof(sv->why));
}

static void
finish(struct server *sv, struct client *c)
{
	tls_conn_free(sv->t);
	/* A failed handshake leaves the client to learn it from the close. */
	shutdown(sv->fd, SHUT_RDWR);
	ck_assert_int_eq(pthread_join(c->tid, NULL), 0);
	close(sv->fd);
	tls_creds_free(sv->cr);
}

static const struct tls_config x509_anon = { .x509_dir = x509dir };
static const struct tls_config x509_verify = { .x509_dir = x509dir,
	.verify_peer = 1 };
static const struct tls_config psk_only = { .psk_file = pskfile };
static const struct tls_config both = { .x509_dir = x509dir,
	.psk_file = pskfile, .verify_peer = 1 };

/* Refused with errno e and why holding text. */
static void
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

/* --- handshakes and identities --------------------------------------- */

static void
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

static void
talk(struct server *sv)
{
	char buf[8];

	ck_assert_int_eq(tls_write_full(sv->t, "hello", 5, 0), 0);
	ck_assert_int_eq(tls_read_full(sv->t, buf, 6, sock_now_ms() + 5000),
	    6);
	ck_assert(memcmp(buf, "world!", 6) == 0);
}

START_TEST(anonymous_x509)
{
	struct client c = { .then = client_echo };
	struct server sv;
	const char *name;
	char desc[64];

	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_NONE);
	ck_assert_ptr_null(name);
	tls_describe(sv.t, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "TLS1.3") != NULL, "%s", desc);
	ck_assert_msg(strstr(desc, "AES-128-GCM") != NULL, "%s", desc);
	talk(&sv);
	finish(&sv, &c);
	ck_assert_int_eq(c.hs, 0);
}
END_TEST

START_TEST(verified_certificate_names_the_client)
{
	struct client c = { .cert = "good", .then = client_echo };
	struct server sv;
	const char *name;

	start(&sv, &x509_verify, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_X509);
	ck_assert_str_eq(name, "abcd1234");
	talk(&sv);
	finish(&sv, &c);
}
END_TEST

START_TEST(tls12_client_as_nbd_client)
{
	/* nbd-client 3.24's own priority string. */
	struct client c = { .cert = "good", .then = client_echo,
	    .priority = "NORMAL:-VERS-TLS-ALL:+VERS-TLS1.2" };
	struct server sv;
	const char *name;
	char desc[64];

	start(&sv, &x509_verify, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	tls_describe(sv.t, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "TLS1.2") != NULL, "%s", desc);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_X509);
	ck_assert_str_eq(name, "abcd1234");
	talk(&sv);
	finish(&sv, &c);
}
END_TEST

START_TEST(chacha_for_a_client_without_aes)
{
	/* A client that puts ChaCha20 first (as one without AES
	 * instructions does) gets it, despite the server's order. */
	struct client c = { .then = client_echo, .priority = "NORMAL:"
	    "-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-GCM:+AES-256-GCM" };
	struct server sv;
	char desc[64];

	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	tls_describe(sv.t, desc, sizeof(desc));
	ck_assert_msg(strstr(desc, "CHACHA20") != NULL, "%s", desc);
	talk(&sv);
	finish(&sv, &c);
}
END_TEST

START_TEST(wrong_ca)
{
	struct client c = { .cert = "otherca" };

	refused(&x509_verify, &c, EACCES, "issuer is unknown");
}
END_TEST

START_TEST(expired)
{
	struct client c = { .cert = "expired" };

	refused(&x509_verify, &c, EACCES, "expired");
}
END_TEST

START_TEST(not_yet_valid)
{
	struct client c = { .cert = "notyet" };

	refused(&x509_verify, &c, EACCES, "not yet valid");
}
END_TEST

START_TEST(revoked)
{
	struct client c = { .cert = "revoked" };

	refused(&x509_verify, &c, EACCES, "revoked");
}
END_TEST

START_TEST(no_certificate_when_required)
{
	struct client c = { .cert = NULL };

	refused(&x509_verify, &c, EACCES, "sent no certificate");
}
END_TEST

START_TEST(common_names)
{
	struct client two = { .cert = "twocn" }, slash = { .cert = "slashcn" },
	    none = { .cert = "nocn" };

	refused(&x509_verify, &two, EACCES, "more than one common name");
	refused(&x509_verify, &slash, EACCES, "not a plain name");
	refused(&x509_verify, &none, EACCES, "no common name");
}
END_TEST

/* Only client certificates are identities: a server's certificate from
 * the same CA is refused, and so is one that says for nothing that it
 * is a client's; one for both purposes is a client's. */
START_TEST(client_certificates_only)
{
	struct client server = { .cert = "server" },
	    none = { .cert = "nopurpose" },
	    both = { .cert = "both", .then = client_echo };
	struct server sv;
	const char *name;

	refused(&x509_verify, &server, EACCES, "TLS client authentication");
	refused(&x509_verify, &none, EACCES, "no extended key usage");
	start(&sv, &x509_verify, &both);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_X509);
	ck_assert_str_eq(name, "abcd1234");
	talk(&sv);
	finish(&sv, &both);
	/* Without -y there are no identities to check. */
	server = (struct client){ .cert = "server", .then = client_echo };
	start(&sv, &x509_anon, &server);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_NONE);
	talk(&sv);
	finish(&sv, &server);
}
END_TEST

START_TEST(client_refuses_the_server)
{
	/* The client trusts another CA: it is the one to end it. */
	struct client c = { .trust = ca2file };

	refused(&x509_anon, &c, EPROTO, "client ended the TLS handshake");
}
END_TEST

START_TEST(psk_right)
{
	struct client c = { .psk_user = "abcd1234", .psk_key = psk_pi,
	    .psk_len = sizeof(psk_pi), .then = client_echo };
	struct server sv;
	const char *name;

	start(&sv, &psk_only, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_PSK);
	ck_assert_str_eq(name, "abcd1234");
	talk(&sv);
	finish(&sv, &c);
}
END_TEST

START_TEST(psk_beside_certificates)
{
	/* With -y too: a PSK client needs no certificate. */
	static const uint8_t k[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	struct client c = { .psk_user = "dc-a6-32-01-36-c2", .psk_key = k,
	    .psk_len = sizeof(k), .then = client_echo };
	struct server sv;
	const char *name;

	start(&sv, &both, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_PSK);
	ck_assert_str_eq(name, "dc-a6-32-01-36-c2");
	talk(&sv);
	finish(&sv, &c);
}
END_TEST

START_TEST(psk_wrong_key)
{
	uint8_t k[32];
	struct client c = { .psk_user = "abcd1234", .psk_key = k,
	    .psk_len = sizeof(k) };

	memcpy(k, psk_pi, sizeof(k));
	k[31] ^= 1;
	refused(&psk_only, &c, EACCES, "PSK user abcd1234");
}
END_TEST

START_TEST(psk_unknown_user)
{
	struct client c = { .psk_user = "deadbeef", .psk_key = psk_pi,
	    .psk_len = sizeof(psk_pi) };

	refused(&psk_only, &c, EACCES, "PSK user deadbeef is not in the");
}
END_TEST

/* --- clients that are not TLS clients ------------------------------- */

struct raw {
	int fd;
	const void *bytes;
	size_t len;
	int then_close;		/* else wait for the server to close */
};

static void *
raw_main(void *arg)
{
	struct raw *r = arg;
	char buf[4096];

	if (r->len > 0)
		ck_assert_int_eq(write(r->fd, r->bytes, r->len),
		    (ssize_t)r->len);
	if (!r->then_close)
		while (read(r->fd, buf, sizeof(buf)) > 0)
			;
	close(r->fd);
	return NULL;
}

/* The server's handshake against a client that sends bytes and stops. */
static int
raw_handshake(const struct raw *spec, int ms, char *why, size_t whylen,
    int64_t *took)
{
	struct tls_creds *cr;
	struct tls_conn *t;
	struct raw r = *spec;
	pthread_t tid;
	int fd[2], rc, e;
	int64_t t0;

	ck_assert_ptr_nonnull(cr = tls_creds_load(&x509_anon, why, whylen));
	tcp_pair(fd);
	r.fd = fd[1];
	ck_assert_ptr_nonnull(t = tls_conn_new(cr, fd[0], why, whylen));
	ck_assert_int_eq(pthread_create(&tid, NULL, raw_main, &r), 0);
	t0 = sock_now_ms();
	rc = tls_handshake(t, t0 + ms, why, whylen);
	e = errno;
	*took = sock_now_ms() - t0;
	tls_conn_free(t);
	shutdown(fd[0], SHUT_RDWR);
	ck_assert_int_eq(pthread_join(tid, NULL), 0);
	close(fd[0]);
	tls_creds_free(cr);
	errno = e;
	return rc;
}

START_TEST(stalled_before_hello)
{
	struct raw r = { .len = 0 };
	char why[256];
	int64_t took;

	ck_assert_int_eq(raw_handshake(&r, 300, why, sizeof(why), &took), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(took >= 290 && took < 1500, "took %lld ms",
	    (long long)took);
	ck_assert_ptr_nonnull(strstr(why, "deadline"));
}
END_TEST

START_TEST(stalled_inside_hello)
{
	/* A record header promising a 512-byte handshake message, and a
	 * few bytes of it. */
	static const uint8_t part[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
	    0x00, 0x01, 0xfc, 0x03, 0x03 };
	struct raw r = { .bytes = part, .len = sizeof(part) };
	char why[256];
	int64_t took;

	ck_assert_int_eq(raw_handshake(&r, 300, why, sizeof(why), &took), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_msg(took >= 290 && took < 1500, "took %lld ms",
	    (long long)took);
}
END_TEST

START_TEST(gone_inside_hello)
{
	static const uint8_t part[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };
	struct raw r = { .bytes = part, .len = sizeof(part), .then_close = 1 };
	char why[256];
	int64_t took;

	ck_assert_int_eq(raw_handshake(&r, 5000, why, sizeof(why), &took),
	    -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert_msg(took < 1000, "took %lld ms", (long long)took);
}
END_TEST

START_TEST(plaintext_is_not_a_handshake)
{
	/* What a confused plaintext NBD client would send next: an
	 * option (NBD_OPT_LIST) where the ClientHello should be. */
	static const uint8_t opt[] = { 'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
	    0, 0, 0, 3, 0, 0, 0, 0 };
	struct raw r = { .bytes = opt, .len = sizeof(opt) };
	char why[256];
	int64_t took;

	ck_assert_int_eq(raw_handshake(&r, 5000, why, sizeof(why), &took),
	    -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_msg(strstr(why, "TLS handshake failed") != NULL, "%s", why);
	ck_assert_msg(took < 1000, "took %lld ms", (long long)took);
}
END_TEST

/* Plaintext that came after STARTTLS, ahead of a genuine ClientHello:
 * it is read as TLS, so the handshake fails, and not one byte of it
 * reaches the caller as data. */
static void *
inject_main(void *arg)
{
	struct client *c = arg;
	static const uint8_t opt[] = { 'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
	    0, 0, 0, 1, 0, 0, 0, 3, 'p', 'w', 'n' };

	ck_assert_int_eq(write(c->fd, opt, sizeof(opt)), (ssize_t)sizeof(opt));
	return client_main(c);
}

START_TEST(plaintext_before_hello_is_never_data)
{
	struct client c = { 0 };
	struct server sv;
	int fd[2];

	memset(&sv, 0, sizeof(sv));
	ck_assert_ptr_nonnull(sv.cr = tls_creds_load(&x509_anon, sv.why,
	    sizeof(sv.why)));
	tcp_pair(fd);
	sv.fd = fd[0];
	c.fd = fd[1];
	ck_assert_ptr_nonnull(sv.t = tls_conn_new(sv.cr, sv.fd, sv.why,
	    sizeof(sv.why)));
	ck_assert_int_eq(pthread_create(&c.tid, NULL, inject_main, &c), 0);
	ck_assert_int_eq(handshake(&sv, 5000), -1);
	ck_assert_int_eq(errno, EPROTO);
	finish(&sv, &c);
	ck_assert_int_ne(c.hs, 0);
}
END_TEST

/* --- the record layer -------------------------------------------------- */

/* The client sends what arg says, one gnutls_record_send per piece. */
struct script {
	const char *pieces[8];
	int pause_ms[8];
	int bye;		/* end with close_notify, else just close */
	int hold_ms;		/* then keep the connection this long */
};

static void
client_script(gnutls_session_t s, struct client *c)
{
	struct script *sc = c->arg;

	for (int i = 0; sc->pieces[i] != NULL; i++) {
		if (sc->pause_ms[i] > 0)
			usleep((useconds_t)sc->pause_ms[i] * 1000);
		ck_assert_int_eq(gnutls_record_send(s, sc->pieces[i],
		    strlen(sc->pieces[i])), (ssize_t)strlen(sc->pieces[i]));
	}
	if (sc->hold_ms > 0)
		usleep((useconds_t)sc->hold_ms * 1000);
	if (sc->bye)
		gnutls_bye(s, GNUTLS_SHUT_WR);
}

static void
scripted(struct server *sv, struct client *c, struct script *sc)
{
	*c = (struct client){ .then = client_script, .arg = sc };
	start(sv, &x509_anon, c);
	ck_assert_msg(handshake(sv, 5000) == 0, "%s", sv->why);
}

START_TEST(read_deadline_and_end)
{
	struct script sc = { .pieces = { "0123456789" }, .hold_ms = 600 };
	struct client c;
	struct server sv;
	char buf[32];
	int64_t t0;

	scripted(&sv, &c, &sc);
	/* 10 bytes of the 16 asked for, then silence. */
	t0 = sock_now_ms();
	ck_assert_int_eq(tls_read_full(sv.t, buf, 16, t0 + 300), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_ge(sock_now_ms() - t0, 290);
	finish(&sv, &c);

	/* close_notify, or a plain close, is the end of the stream. */
	sc = (struct script){ .pieces = { "abc" }, .bye = 1 };
	scripted(&sv, &c, &sc);
	ck_assert_int_eq(tls_read_full(sv.t, buf, 3, SOCK_NO_DEADLINE), 3);
	ck_assert_int_eq(tls_recv(sv.t, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(tls_read_full(sv.t, buf, 3, SOCK_NO_DEADLINE), 0);
	finish(&sv, &c);
	sc = (struct script){ .pieces = { "abc" } };
	scripted(&sv, &c, &sc);
	/* The end part way through is a peer gone, as sockio says it. */
	ck_assert_int_eq(tls_read_full(sv.t, buf, 4, SOCK_NO_DEADLINE), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	finish(&sv, &c);
}
END_TEST

START_TEST(idle_limit_is_on_silence)
{
	/* 4 pieces 150 ms apart: 450 ms in all, never 300 ms silent. */
	struct script sc = { .pieces = { "aaaa", "bbbb", "cccc", "dddd" },
	    .pause_ms = { 0, 150, 150, 150 }, .hold_ms = 800 };
	struct client c;
	struct server sv;
	char buf[32];
	int64_t t0;

	scripted(&sv, &c, &sc);
	ck_assert_int_eq(tls_read_idle(sv.t, buf, 16, 300), 16);
	ck_assert(memcmp(buf, "aaaabbbbccccdddd", 16) == 0);
	t0 = sock_now_ms();
	ck_assert_int_eq(tls_discard_idle(sv.t, 4, 300), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(sock_now_ms() - t0, 700);
	finish(&sv, &c);
}
END_TEST

START_TEST(pending_plaintext_counts_as_readable)
{
	struct script sc = { .pieces = { "0123456789abcdef" },
	    .hold_ms = 500 };
	struct client c;
	struct server sv;
	char buf[32];

	scripted(&sv, &c, &sc);
	ck_assert_int_eq(tls_wait(sv.t, sock_now_ms() + 2000), 1);
	ck_assert_int_eq(tls_read_full(sv.t, buf, 4, SOCK_NO_DEADLINE), 4);
	/* The socket is empty, but GnuTLS holds the rest of the record. */
	ck_assert_int_eq(sock_wait(sv.fd, sock_now_ms()), 0);
	ck_assert_int_eq(tls_wait(sv.t, sock_now_ms()), 1);
	ck_assert_int_eq(tls_recv(sv.t, buf, sizeof(buf), 1), 12);
	ck_assert(memcmp(buf, "456789abcdef", 12) == 0);
	/* Nothing more: EAGAIN, not a wait. */
	ck_assert_int_eq(tls_recv(sv.t, buf, sizeof(buf), 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(tls_wait(sv.t, sock_now_ms() + 50), 0);
	finish(&sv, &c);
}
END_TEST

/* Requests come one per record: a burst of small records is taken in
 * with one recv(), not two per record; a large record still goes
 * straight into GnuTLS's buffer. */
START_TEST(small_records_read_ahead)
{
	/* Sent after the handshake is over on both sides. */
	struct script sc = { .pieces = { "req1", "req2", "req3", "req4",
	    "req5", "req6", "req7" }, .pause_ms = { 200 }, .hold_ms = 800 };
	struct client c;
	struct server sv;
	char buf[64];
	uint64_t recvs0;

	scripted(&sv, &c, &sc);
	recvs0 = tls_stats(sv.t)->recvs;
	usleep(500 * 1000);	/* all eight are in the socket */
	ck_assert_int_eq(tls_read_full(sv.t, buf, 28, sock_now_ms() + 2000),
	    28);
	ck_assert(memcmp(buf, "req1req2req3req4req5req6req7", 28) == 0);
	ck_assert_uint_le(tls_stats(sv.t)->recvs - recvs0, 2);
	/* Nothing is left behind in the read-ahead: the next wait waits. */
	ck_assert_int_eq(tls_wait(sv.t, sock_now_ms() + 50), 0);
	finish(&sv, &c);
}
END_TEST

START_TEST(discard_takes_exactly)
{
	struct script sc = { .pieces = { "xxxxxxxxxx", "KEEP" },
	    .hold_ms = 300 };
	struct client c;
	struct server sv;
	char buf[8];

	scripted(&sv, &c, &sc);
	ck_assert_int_eq(tls_discard(sv.t, 10, sock_now_ms() + 2000), 0);
	ck_assert_int_eq(tls_read_full(sv.t, buf, 4, sock_now_ms() + 2000),
	    4);
	ck_assert(memcmp(buf, "KEEP", 4) == 0);
	finish(&sv, &c);
}
END_TEST

/* The client reads want bytes (or until the end) into a buffer. */
struct sink {
	uint8_t *buf;
	size_t want, got;
};

static void
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

static void
fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

START_TEST(writev_in_full_records)
{
	static uint8_t big[100000];
	uint8_t hdr[16], tail[5], *want;
	struct iovec iov[3] = { { hdr, 16 }, { big, sizeof(big) },
	    { tail, 5 } };
	size_t total = 16 + sizeof(big) + 5;
	struct sink k = { .want = total };
	struct client c = { .then = client_sink, .arg = &k };
	struct server sv;
	const struct tls_stats *st;

	fill_pattern(hdr, 16, 1);
	fill_pattern(big, sizeof(big), 2);
	fill_pattern(tail, 5, 3);
	ck_assert_ptr_nonnull(k.buf = malloc(total));
	ck_assert_ptr_nonnull(want = malloc(total));
	memcpy(want, hdr, 16);
	memcpy(want + 16, big, sizeof(big));
	memcpy(want + 16 + sizeof(big), tail, 5);
	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	st = tls_stats(sv.t);
	ck_assert_int_eq(tls_writev_full(sv.t, iov, 3, 0), 0);
	/* As few records as the bytes need; at most a record's worth
	 * gathered at each boundary between pieces. */
	ck_assert_uint_eq(st->records_out, (total + 16383) / 16384);
	ck_assert_uint_le(st->copied, 2 * 16384);
	finish(&sv, &c);
	ck_assert_uint_eq(k.got, total);
	ck_assert(memcmp(k.buf, want, total) == 0);
	free(k.buf);
	free(want);
}
END_TEST

static int
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

START_TEST(large_read_straight_from_the_image)
{
	const size_t flen = 2 << 20, off = 4096, len = 1 << 20;
	uint8_t hdr[16], *content;
	int fd = image_file(flen, &content), started;
	struct sink k = { .want = 16 + len };
	struct client c = { .then = client_sink, .arg = &k };
	struct server sv;
	const struct tls_stats *st;
	uint64_t sends0;

	fill_pattern(hdr, sizeof(hdr), 5);
	ck_assert_ptr_nonnull(k.buf = malloc(k.want));
	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	st = tls_stats(sv.t);
	sends0 = st->sends;
	ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, off, len, &started),
	    0);
	ck_assert_int_eq(started, 1);
	/* Per 1 MiB READ: 4 preads of 256 KiB into the record buffer,
	 * 65 records (the header shares the first) sealed in place, one
	 * sendmsg per pread, and no copy but the 16-byte header. */
	ck_assert_uint_eq(st->preads, 4);
	ck_assert_uint_eq(st->records_out, 65);
	ck_assert_uint_eq(st->sends - sends0, 4);
	ck_assert_uint_eq(st->copied, 16);
	finish(&sv, &c);
	ck_assert_uint_eq(k.got, k.want);
	ck_assert(memcmp(k.buf, hdr, 16) == 0);
	ck_assert(memcmp(k.buf + 16, content + off, len) == 0);
	free(k.buf);
	free(content);
	close(fd);
}
END_TEST

/* The client for sealed records: reads the first large read, asks for a
 * TLS 1.3 key update if told to, says so with a byte, reads the rest. */
struct sealed {
	struct sink k;
	size_t first;
	int key_update;
};

static void
client_sealed(gnutls_session_t s, struct client *c)
{
	struct sealed *u = c->arg;
	ssize_t n;

	while (u->k.got < u->first) {
		n = gnutls_record_recv(s, u->k.buf + u->k.got,
		    u->first - u->k.got);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		ck_assert_int_gt(n, 0);
		u->k.got += (size_t)n;
	}
	if (u->key_update)
		ck_assert_int_eq(gnutls_session_key_update(s, GNUTLS_KU_PEER),
		    0);
	ck_assert_int_eq(gnutls_record_send(s, "k", 1), 1);
	c->arg = &u->k;
	client_sink(s, c);
	c->arg = u;
}

/* Large reads' records are sealed by nbdd, not GnuTLS, in every version
 * and cipher it offers: the client reads them, and GnuTLS's own records
 * between them (its sequence numbers follow ours), across a key update
 * (GnuTLS sends it with its next record; the next sealed read then takes
 * the new key). */
START_TEST(sealed_records_every_cipher)
{
	static const struct {
		const char *prio, *want;
		int ku;
	} cases[] = {
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
		    "TLS1.3 AES-128-GCM", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM",
		    "TLS1.3 AES-256-GCM", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
		    "+CHACHA20-POLY1305", "TLS1.3 CHACHA20-POLY1305", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM",
		    "TLS1.2 AES-128-GCM", 0 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM",
		    "TLS1.2 AES-256-GCM", 0 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:"
		    "+CHACHA20-POLY1305", "TLS1.2 CHACHA20-POLY1305", 0 },
	};
	const size_t flen = 1 << 20, a = 300000, b = 70001;
	uint8_t hdr[16], *content, *want;
	int fd = image_file(flen, &content), started;

	fill_pattern(hdr, sizeof(hdr), 3);
	ck_assert_ptr_nonnull(want = malloc(2 * 16 + a + b + 8));
	memcpy(want, hdr, 16);
	memcpy(want + 16, content + 1, a);
	memcpy(want + 16 + a, "mid", 3);
	memcpy(want + 19 + a, hdr, 16);
	memcpy(want + 35 + a, content + 5000, b);
	memcpy(want + 35 + a + b, "tail!", 5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sealed u = { .k.want = 32 + a + b + 8, .first = 16 + a,
		    .key_update = cases[i].ku };
		struct client c = { .then = client_sealed, .arg = &u,
		    .priority = cases[i].prio };
		struct server sv;
		char desc[64], k;
		uint64_t sends0;

		ck_assert_ptr_nonnull(u.k.buf = malloc(u.k.want));
		start(&sv, &x509_anon, &c);
		ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
		tls_describe(sv.t, desc, sizeof(desc));
		ck_assert_str_eq(desc, cases[i].want);
		sends0 = tls_stats(sv.t)->sends;
		ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 1, a,
		    &started), 0);
		/* Sealed: a sendmsg per chunk, not per record. */
		ck_assert_uint_le(tls_stats(sv.t)->sends - sends0, 2);
		{
			ssize_t r = tls_read_full(sv.t, &k, 1,
			    sock_now_ms() + 5000);

			ck_assert_msg(r == 1, "%s: %zd %s %s", cases[i].want,
			    r, strerror(errno), tls_error(sv.t));
		}
		ck_assert_int_eq(tls_write_full(sv.t, "mid", 3, 0), 0);
		ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 5000, b,
		    &started), 0);
		ck_assert_int_eq(tls_write_full(sv.t, "tail!", 5, 0), 0);
		finish(&sv, &c);
		ck_assert_msg(u.k.got == u.k.want, "%s: got %zu of %zu",
		    cases[i].want, u.k.got, u.k.want);
		ck_assert_msg(memcmp(u.k.buf, want, u.k.want) == 0, "%s",
		    cases[i].want);
		free(u.k.buf);
	}
	free(want);
	free(content);
	close(fd);
}
END_TEST

/* A buffer the caller lets go of (transmit.c's batched replies): its
 * records sealed in place, in one sendmsg per 256 KiB. */
START_TEST(buffer_sealed_in_place)
{
	const size_t len = 300000;
	uint8_t *buf, *want;
	struct sink k = { .want = 300000 + 2 };
	struct client c = { .then = client_sink, .arg = &k };
	struct server sv;
	uint64_t sends0;

	ck_assert_ptr_nonnull(buf = malloc(len));
	ck_assert_ptr_nonnull(want = malloc(len));
	ck_assert_ptr_nonnull(k.buf = malloc(k.want));
	fill_pattern(want, len, 11);
	memcpy(buf, want, len);
	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	sends0 = tls_stats(sv.t)->sends;
	ck_assert_int_eq(tls_write_buffer(sv.t, buf, len, 0), 0);
	ck_assert_uint_eq(tls_stats(sv.t)->sends - sends0, 2);
	ck_assert_uint_eq(tls_stats(sv.t)->records_out, (len + 16383) / 16384);
	/* GnuTLS's records follow. */
	ck_assert_int_eq(tls_write_full(sv.t, "ok", 2, 0), 0);
	finish(&sv, &c);
	ck_assert_uint_eq(k.got, k.want);
	ck_assert(memcmp(k.buf, want, len) == 0);
	ck_assert(memcmp(k.buf + len, "ok", 2) == 0);
	free(k.buf);
	free(buf);
	free(want);
}
END_TEST

/* The read key and the sequence number of the next record, as the
 * client sees them: how it tells when nbdd's key changed. */
struct rkey {
	uint8_t key[32];
	unsigned size;
	uint64_t seq;
};

static void
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

static int
same_key(const struct rkey *a, const struct rkey *b)
{
	return a->size == b->size && memcmp(a->key, b->key, a->size) == 0;
}

/* The client asks for a TLS 1.3 key update (GNUTLS_KU_PEER), says so
 * with a byte, then reads a reply of round bytes; rounds times. */
#define ASK_ROUNDS	3
struct asked {
	struct sink k;
	size_t round;
	/* Whether the reply's first record came under nbdd's new key, and
	 * the records read under that key by then. */
	int new_key[ASK_ROUNDS];
	uint64_t seq[ASK_ROUNDS];
};

static void
client_asks_key_update(gnutls_session_t s, struct client *c)
{
	struct asked *a = c->arg;
	struct rkey before, after;
	ssize_t n;

	for (int i = 0; i < ASK_ROUNDS; i++) {
		size_t end = a->k.got + a->round;
		int first = 1;

		read_key(s, &before);
		ck_assert_int_eq(gnutls_session_key_update(s, GNUTLS_KU_PEER),
		    0);
		ck_assert_int_eq(gnutls_record_send(s, "k", 1), 1);
		while (a->k.got < end) {
			n = gnutls_record_recv(s, a->k.buf + a->k.got,
			    end - a->k.got);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			ck_assert_msg(n > 0, "round %d: %s", i,
			    gnutls_strerror((int)n));
			if (first) {
				read_key(s, &after);
				a->new_key[i] = !same_key(&before, &after);
				a->seq[i] = after.seq;
				first = 0;
			}
			a->k.got += (size_t)n;
		}
	}
}

/* RFC 8446, 4.6.3: a KeyUpdate with update_requested is answered with
 * one of nbdd's own before it sends any more application data: the
 * first record of the reply that follows (sealed by nbdd, or by GnuTLS)
 * already comes under the new key. */
START_TEST(key_update_answered_before_sealed_data)
{
	static const char *prio[] = {
		"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
		"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305",
	};
	const size_t round = 200000;
	uint8_t hdr[16], *content, *want, *buf;
	int fd = image_file(1 << 20, &content), started;

	fill_pattern(hdr, sizeof(hdr), 6);
	ck_assert_ptr_nonnull(want = malloc(ASK_ROUNDS * round));
	ck_assert_ptr_nonnull(buf = malloc(round));
	fill_pattern(want, round, 12);
	memcpy(want + round, hdr, 16);
	memcpy(want + round + 16, content + 777, round - 16);
	fill_pattern(want + 2 * round, round, 13);
	for (size_t i = 0; i < sizeof(prio) / sizeof(prio[0]); i++) {
		struct asked a = { .k.want = ASK_ROUNDS * round,
		    .round = round };
		struct client c = { .then = client_asks_key_update, .arg = &a,
		    .priority = prio[i] };
		struct server sv;
		char k;

		ck_assert_ptr_nonnull(a.k.buf = malloc(a.k.want));
		start(&sv, &x509_anon, &c);
		ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
		/* A batch of replies, sealed in place. */
		ck_assert_int_eq(tls_read_full(sv.t, &k, 1,
		    sock_now_ms() + 5000), 1);
		memcpy(buf, want, round);
		ck_assert_int_eq(tls_write_buffer(sv.t, buf, round, 0), 0);
		/* A large read. */
		ck_assert_int_eq(tls_read_full(sv.t, &k, 1,
		    sock_now_ms() + 5000), 1);
		ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 777,
		    round - 16, &started), 0);
		/* Through GnuTLS's record layer. */
		ck_assert_int_eq(tls_read_full(sv.t, &k, 1,
		    sock_now_ms() + 5000), 1);
		ck_assert_int_eq(tls_write_full(sv.t, want + 2 * round, round,
		    0), 0);
		finish(&sv, &c);
		ck_assert_uint_eq(a.k.got, a.k.want);
		ck_assert_msg(memcmp(a.k.buf, want, a.k.want) == 0, "%s",
		    prio[i]);
		for (int r = 0; r < ASK_ROUNDS; r++) {
			ck_assert_msg(a.new_key[r], "%s, round %d: the reply "
			    "came under the old key", prio[i], r);
			ck_assert_msg(a.seq[r] == 1, "%s, round %d: %llu "
			    "records under the new key by the first", prio[i],
			    r, (unsigned long long)a.seq[r]);
		}
		free(a.k.buf);
	}
	free(buf);
	free(want);
	free(content);
	close(fd);
}
END_TEST

/* The client reads want bytes, watching its read key: how often nbdd
 * changed its key, and the most records it sent under one. */
struct watch {
	struct sink k;
	int changes;
	uint64_t max_seq;
};

static void
client_watch(gnutls_session_t s, struct client *c)
{
	struct watch *w = c->arg;
	struct rkey prev, now;
	ssize_t n;

	read_key(s, &prev);
	while (w->k.got < w->k.want) {
		n = gnutls_record_recv(s, w->k.buf + w->k.got,
		    w->k.want - w->k.got);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		ck_assert_msg(n > 0, "%s", gnutls_strerror((int)n));
		w->k.got += (size_t)n;
		read_key(s, &now);
		if (!same_key(&prev, &now))
			w->changes++;
		if (now.seq > w->max_seq)
			w->max_seq = now.seq;
		prev = now;
	}
}

/* RFC 8446, 5.5: one key seals a bounded number of records. The limit
 * is set low here: nbdd updates its key (TLS 1.3) whenever that many
 * records went under it, whoever sealed them, and the client reads
 * every byte right across the changes. TLS 1.2 has no key update. (A
 * GnuTLS peer takes at most 8 key updates a second: the limit is low,
 * but not so low as to make more.) */
START_TEST(key_updated_before_the_limit)
{
	static const struct {
		const char *prio;
		int tls13;
	} cases[] = {
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
		    "+CHACHA20-POLY1305", 1 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM", 0 },
	};
	const uint64_t limit = 20;
	const struct tls_config cf = { .x509_dir = x509dir,
	    .rekey_records = limit };
	const size_t flen = 1 << 20, big = 300000, small = 100, nsmall = 40;
	const size_t total = 16 + flen - 16 + big + nsmall * small;
	uint8_t hdr[16], *content, *want, *buf;
	int fd = image_file(flen, &content), started;

	fill_pattern(hdr, sizeof(hdr), 7);
	ck_assert_ptr_nonnull(want = malloc(total));
	ck_assert_ptr_nonnull(buf = malloc(big));
	memcpy(want, hdr, 16);
	memcpy(want + 16, content, flen - 16);
	fill_pattern(want + flen, big + nsmall * small, 14);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct watch w = { .k.want = total };
		struct client c = { .then = client_watch, .arg = &w,
		    .priority = cases[i].prio };
		struct server sv;
		uint64_t records, updates;

		ck_assert_ptr_nonnull(w.k.buf = malloc(total));
		start(&sv, &cf, &c);
		ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
		ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 0, flen - 16,
		    &started), 0);
		memcpy(buf, want + flen, big);
		ck_assert_int_eq(tls_write_buffer(sv.t, buf, big, 0), 0);
		for (size_t j = 0; j < nsmall; j++)
			ck_assert_int_eq(tls_write_full(sv.t, want + flen +
			    big + j * small, small, 0), 0);
		records = tls_stats(sv.t)->records_out;
		updates = tls_stats(sv.t)->key_updates;
		finish(&sv, &c);
		ck_assert_uint_eq(w.k.got, total);
		ck_assert_msg(memcmp(w.k.buf, want, total) == 0, "%s",
		    cases[i].prio);
		if (cases[i].tls13) {
			/* A key update itself is a record under the old
			 * key, after limit records of data. */
			ck_assert_msg(updates >= records / (limit + 1) &&
			    updates <= records / limit, "%s: %llu key "
			    "updates for %llu records", cases[i].prio,
			    (unsigned long long)updates,
			    (unsigned long long)records);
			ck_assert_int_eq(w.changes, (int)updates);
			ck_assert_uint_le(w.max_seq, limit);
		} else {
			ck_assert_uint_eq(updates, 0);
			ck_assert_int_eq(w.changes, 0);
		}
		free(w.k.buf);
	}
	free(buf);
	free(want);
	free(content);
	close(fd);
}
END_TEST

/* RFC 8449: a client that takes records of at most N bytes gets none
 * larger, sealed by nbdd or by GnuTLS, in TLS 1.3 (where N counts the
 * inner content type) and 1.2. */
START_TEST(peer_record_size_limit)
{
	static const struct {
		const char *prio;
		size_t max;
	} cases[] = {
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
		    4096 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
		    "+CHACHA20-POLY1305", 512 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM",
		    4096 },
		{ "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:"
		    "+CHACHA20-POLY1305", 1000 },
	};
	const size_t flen = 1 << 20, a = 300000, b = 200000, d = 50000;
	const size_t total = 16 + a + b + d;
	uint8_t hdr[16], *content, *want, *buf;
	int fd = image_file(flen, &content), started;

	fill_pattern(hdr, sizeof(hdr), 8);
	ck_assert_ptr_nonnull(want = malloc(total));
	ck_assert_ptr_nonnull(buf = malloc(b));
	memcpy(want, hdr, 16);
	memcpy(want + 16, content + 3, a);
	fill_pattern(want + 16 + a, b + d, 15);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sink k = { .want = total };
		struct client c = { .then = client_sink, .arg = &k,
		    .priority = cases[i].prio, .max_recv = cases[i].max };
		struct server sv;

		ck_assert_ptr_nonnull(k.buf = malloc(total));
		start(&sv, &x509_anon, &c);
		ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
		ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 3, a,
		    &started), 0);
		memcpy(buf, want + 16 + a, b);
		ck_assert_int_eq(tls_write_buffer(sv.t, buf, b, 0), 0);
		ck_assert_int_eq(tls_write_full(sv.t, want + 16 + a + b, d, 0),
		    0);
		ck_assert_uint_ge(tls_stats(sv.t)->records_out,
		    total / cases[i].max);
		finish(&sv, &c);
		ck_assert_msg(k.got == total, "%s, limit %zu: got %zu of %zu",
		    cases[i].prio, cases[i].max, k.got, total);
		ck_assert_msg(memcmp(k.buf, want, total) == 0, "%s",
		    cases[i].prio);
		free(k.buf);
	}
	free(buf);
	free(want);
	free(content);
	close(fd);
}
END_TEST

START_TEST(large_read_past_the_end)
{
	uint8_t hdr[16] = { 0 }, *content;
	int fd = image_file(1 << 20, &content), started;
	struct sink k = { .want = 16 + 262144 - 16 };
	struct client c = { .then = client_sink, .arg = &k };
	struct server sv;

	ck_assert_ptr_nonnull(k.buf = malloc(k.want));
	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	/* Nothing of it there: nothing sent, an error reply can follow. */
	ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, 1 << 20, 65536,
	    &started), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(started, 0);
	ck_assert_uint_eq(tls_stats(sv.t)->records_out, 0);
	/* The first chunk there, the rest not: the stream is broken. */
	ck_assert_int_eq(tls_send_file(sv.t, hdr, 16, fd, (1 << 20) - 300000,
	    400000, &started), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(started, 1);
	finish(&sv, &c);
	free(k.buf);
	free(content);
	close(fd);
}
END_TEST

/* The client writes a 1 MiB payload; how many recv() calls it takes. */
static void
client_write_mib(gnutls_session_t s, struct client *c)
{
	uint8_t *p = c->arg;
	size_t left = 1 << 20;

	while (left > 0) {
		ssize_t n = gnutls_record_send(s, p, left);

		ck_assert_int_gt(n, 0);
		p += n;
		left -= (size_t)n;
	}
	usleep(200 * 1000);
}

START_TEST(large_write_in)
{
	uint8_t *src, *dst;
	struct client c = { .then = client_write_mib };
	struct server sv;
	uint64_t recvs0;

	ck_assert_ptr_nonnull(src = malloc(1 << 20));
	ck_assert_ptr_nonnull(dst = malloc(1 << 20));
	fill_pattern(src, 1 << 20, 4);
	c.arg = src;
	start(&sv, &x509_anon, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	recvs0 = tls_stats(sv.t)->recvs;
	ck_assert_int_eq(tls_read_idle(sv.t, dst, 1 << 20, 5000), 1 << 20);
	ck_assert(memcmp(src, dst, 1 << 20) == 0);
	/* GnuTLS reads a record's header, then its body: two recv() per
	 * 16 KiB record, and more only when the reader catches up with the
	 * writer mid-record (a busy machine); reading in small pieces would
	 * take thousands. */
	ck_assert_uint_le(tls_stats(sv.t)->recvs - recvs0, 4 * 64 + 8);
	finish(&sv, &c);
	free(src);
	free(dst);
}
END_TEST

/* --- the transport over both --------------------------------------- */

START_TEST(transport_plain_and_tls)
{
	struct client c = { .then = client_echo };
	struct server sv;
	struct transport tp;
	char buf[8], why[256];
	int fd[2];

	/* Plain: the calls go to the socket. */
	tcp_pair(fd);
	tp_init(&tp, fd[0]);
	ck_assert(!tp_is_tls(&tp));
	ck_assert_ptr_null(tp_identity(&tp));
	ck_assert_int_eq(write(fd[1], "ping", 4), 4);
	ck_assert_int_eq(tp_read_full(&tp, buf, 4, sock_now_ms() + 1000), 4);
	ck_assert(memcmp(buf, "ping", 4) == 0);
	ck_assert_int_eq(tp_recv(&tp, buf, 4, TP_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(tp_write_full(&tp, "pong", 4, 0), 0);
	ck_assert_int_eq(read(fd[1], buf, 4), 4);
	ck_assert_str_eq(tp_strerror(&tp, EPROTO), strerror(EPROTO));
	tp_close(&tp);
	close(fd[0]);
	close(fd[1]);

	/* TLS: STARTTLS upgrades the same socket. */
	memset(&sv, 0, sizeof(sv));
	ck_assert_ptr_nonnull(sv.cr = tls_creds_load(&x509_verify, why,
	    sizeof(why)));
	tcp_pair(fd);
	sv.fd = fd[0];
	c.fd = fd[1];
	c.cert = "good";
	tp_init(&tp, fd[0]);
	ck_assert_int_eq(pthread_create(&c.tid, NULL, client_main, &c), 0);
	ck_assert_msg(tp_starttls(&tp, sv.cr, sock_now_ms() + 5000, why,
	    sizeof(why)) == 0, "%s", why);
	ck_assert(tp_is_tls(&tp));
	ck_assert_str_eq(tp_identity(&tp), "abcd1234");
	ck_assert_int_eq(tp_starttls(&tp, sv.cr, sock_now_ms() + 5000, why,
	    sizeof(why)), -1);		/* never twice */
	ck_assert_int_eq(tp_write_full(&tp, "hello", 5, 0), 0);
	ck_assert_int_eq(tp_wait(&tp, sock_now_ms() + 5000), 1);
	ck_assert_int_eq(tp_read_full(&tp, buf, 6, sock_now_ms() + 5000), 6);
	ck_assert(memcmp(buf, "world!", 6) == 0);
	tp_close(&tp);
	ck_assert(!tp_is_tls(&tp));
	shutdown(fd[0], SHUT_RDWR);
	ck_assert_int_eq(pthread_join(c.tid, NULL), 0);
	close(fd[0]);
	tls_creds_free(sv.cr);
}
END_TEST

START_TEST(transport_failed_starttls)
{
	struct client c = { .cert = "expired" };
	struct transport tp;
	struct tls_creds *cr;
	char why[256];
	int fd[2];

	ck_assert_ptr_nonnull(cr = tls_creds_load(&x509_verify, why,
	    sizeof(why)));
	tcp_pair(fd);
	c.fd = fd[1];
	tp_init(&tp, fd[0]);
	ck_assert_int_eq(pthread_create(&c.tid, NULL, client_main, &c), 0);
	ck_assert_int_eq(tp_starttls(&tp, cr, sock_now_ms() + 5000, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert(!tp_is_tls(&tp));
	shutdown(fd[0], SHUT_RDWR);
	ck_assert_int_eq(pthread_join(c.tid, NULL), 0);
	close(fd[0]);
	tls_creds_free(cr);
}
END_TEST

/* --- loading credentials ------------------------------------------- */

static void
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

static void
put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	path(p, sizeof(p), name);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
copy(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp %s/%s %s/%s", dir, from, dir, to);
	ck_assert_int_eq(system(cmd), 0);
}

static void
cat2(const char *a, const char *b, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cat %s/%s %s/%s > %s/%s", dir, a, dir, b,
	    dir, to);
	ck_assert_int_eq(system(cmd), 0);
}

/* A certificate named default is one (tlsauth.h refuses it every
 * export); a PSK user of that name stops nbdd at start. */
START_TEST(named_default)
{
	struct client c = { .cert = "default", .then = client_echo };
	struct server sv;
	const char *name;
	char f[128];
	struct tls_config cf = { .psk_file = f };

	start(&sv, &x509_verify, &c);
	ck_assert_msg(handshake(&sv, 5000) == 0, "%s", sv.why);
	ck_assert_int_eq(tls_peer(sv.t, &name), TLS_ID_X509);
	ck_assert_str_eq(name, "default");
	talk(&sv);
	finish(&sv, &c);
	path(f, sizeof(f), "default.psk");
	put("default.psk", "abcd1234:00112233445566778899aabbccddeeff\n"
	    "default:00112233445566778899aabbccddeeff\n");
	ck_assert_int_eq(chmod(f, 0600), 0);
	load_fails(&cf, "default.psk line 2: user default", "never a client");
}
END_TEST

START_TEST(load_errors_name_the_file)
{
	char d[128], f[128];
	struct tls_config cf = { .x509_dir = d };
	struct tls_creds *cr;
	char why[256];

	path(d, sizeof(d), "nosuch");
	load_fails(&cf, "nosuch", "No such file");
	path(d, sizeof(d), "partial");
	ck_assert_int_eq(mkdir(d, 0700), 0);
	copy("x509/server-cert.pem", "partial/server-cert.pem");
	load_fails(&cf, "partial/server-key.pem", "No such file");
	put("partial/server-key.pem", "not a key\n");
	load_fails(&cf, "partial/server-key.pem", NULL);
	/* A key that is not the certificate's. */
	copy("good-key.pem", "partial/server-key.pem");
	load_fails(&cf, "server-cert.pem", "server-key.pem");
	copy("x509/server-key.pem", "partial/server-key.pem");
	ck_assert_ptr_nonnull(cr = tls_creds_load(&cf, why, sizeof(why)));
	tls_creds_free(cr);
	/* Verifying clients needs the CA, and a CRL that parses. */
	cf.verify_peer = 1;
	load_fails(&cf, "partial/ca-cert.pem", "No such file");
	put("partial/ca-cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	load_fails(&cf, "partial/ca-cert.pem", NULL);
	/* A certificate that is not a CA (the server's) in the CA file,
	 * alone or after the CA: every client would be refused. */
	copy("x509/server-cert.pem", "partial/ca-cert.pem");
	load_fails(&cf, "partial/ca-cert.pem: certificate 1 of 1",
	    "is not a CA (basic constraints CA:FALSE)");
	cat2("x509/ca-cert.pem", "x509/server-cert.pem",
	    "partial/ca-cert.pem");
	load_fails(&cf, "partial/ca-cert.pem: certificate 2 of 2",
	    "cert_signing_key");
	copy("x509/ca-cert.pem", "partial/ca-cert.pem");
	ck_assert_ptr_nonnull(cr = tls_creds_load(&cf, why, sizeof(why)));
	tls_creds_free(cr);
	put("partial/ca-crl.pem", "garbage\n");
	load_fails(&cf, "partial/ca-crl.pem", NULL);
	/* A file, not a directory. */
	path(f, sizeof(f), "keys.psk");
	cf.x509_dir = f;
	load_fails(&cf, "keys.psk", NULL);
}
END_TEST

START_TEST(psk_file_errors)
{
	char f[128];
	struct tls_config cf = { .psk_file = f };
	struct tls_creds *cr;
	char why[256], desc[128];

	path(f, sizeof(f), "nosuch.psk");
	load_fails(&cf, "nosuch.psk", "No such file");
	path(f, sizeof(f), "bad.psk");
	put("bad.psk", "pi:00112233445566778899aabbccddeeff\npi2:zz\n");
	load_fails(&cf, "bad.psk line 2", "hex");
	put("bad.psk", "pi:00112233445566778899aabbccddeeff\n\n"
	    "pi:00112233445566778899aabbccddeeff\n");
	load_fails(&cf, "bad.psk line 3", "twice");
	put("bad.psk", "\n");
	load_fails(&cf, "bad.psk", "no USER:HEXKEY");
	put("bad.psk", "pi:0011\n");
	load_fails(&cf, "bad.psk line 1", "shorter than 16 bytes");
	/* Readable by others: loaded, with a warning in the log. */
	put("bad.psk", "pi:00112233445566778899aabbccddeeff\n"
	    "pi2:00112233445566778899aabbccddeeff");
	ck_assert_int_eq(chmod(f, 0644), 0);
	ck_assert_ptr_nonnull(cr = tls_creds_load(&cf, why, sizeof(why)));
	tls_creds_describe(cr, desc, sizeof(desc));
	ck_assert_str_eq(desc, "PSK for 2 users");
	tls_creds_free(cr);
	/* -y means certificates. */
	cf.verify_peer = 1;
	load_fails(&cf, "only with a certificate directory", NULL);
	memset(&cf, 0, sizeof(cf));
	load_fails(&cf, "no certificate directory and no PSK file", NULL);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("nbdd_tls");
	TCase *hs = tcase_create("handshake");
	TCase *raw = tcase_create("not TLS");
	TCase *rec = tcase_create("records");
	TCase *load = tcase_create("loading");
	TCase *all[] = { hs, raw, rec, load };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_unchecked_fixture(all[i], make_all, remove_all);
		tcase_set_timeout(all[i], 30);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(hs, anonymous_x509);
	tcase_add_test(hs, verified_certificate_names_the_client);
	tcase_add_test(hs, tls12_client_as_nbd_client);
	tcase_add_test(hs, chacha_for_a_client_without_aes);
	tcase_add_test(hs, wrong_ca);
	tcase_add_test(hs, expired);
	tcase_add_test(hs, not_yet_valid);
	tcase_add_test(hs, revoked);
	tcase_add_test(hs, no_certificate_when_required);
	tcase_add_test(hs, common_names);
	tcase_add_test(hs, client_refuses_the_server);
	tcase_add_test(hs, client_certificates_only);
	tcase_add_test(hs, named_default);
	tcase_add_test(hs, psk_right);
	tcase_add_test(hs, psk_beside_certificates);
	tcase_add_test(hs, psk_wrong_key);
	tcase_add_test(hs, psk_unknown_user);
	tcase_add_test(raw, stalled_before_hello);
	tcase_add_test(raw, stalled_inside_hello);
	tcase_add_test(raw, gone_inside_hello);
	tcase_add_test(raw, plaintext_is_not_a_handshake);
	tcase_add_test(raw, plaintext_before_hello_is_never_data);
	tcase_add_test(rec, read_deadline_and_end);
	tcase_add_test(rec, idle_limit_is_on_silence);
	tcase_add_test(rec, pending_plaintext_counts_as_readable);
	tcase_add_test(rec, discard_takes_exactly);
	tcase_add_test(rec, small_records_read_ahead);
	tcase_add_test(rec, sealed_records_every_cipher);
	tcase_add_test(rec, buffer_sealed_in_place);
	tcase_add_test(rec, writev_in_full_records);
	tcase_add_test(rec, large_read_straight_from_the_image);
	tcase_add_test(rec, large_read_past_the_end);
	tcase_add_test(rec, key_update_answered_before_sealed_data);
	tcase_add_test(rec, key_updated_before_the_limit);
	tcase_add_test(rec, peer_record_size_limit);
	tcase_add_test(rec, large_write_in);
	tcase_add_test(rec, transport_plain_and_tls);
	tcase_add_test(rec, transport_failed_starttls);
	tcase_add_test(load, load_errors_name_the_file);
	tcase_add_test(load, psk_file_errors);
	return s;
}

CHECK_MAIN(tls_suite)
