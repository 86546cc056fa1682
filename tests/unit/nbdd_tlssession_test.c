/* A TLS session (nbdd/tlssession.c): handshakes with each kind of
 * client and the identity each is given or refused with, and clients
 * that stall, leave or are not TLS clients at all. */
#include <sys/stat.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "tests/unit/check_main.h"
#include "tests/unit/tls_conn_fixture.h"

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

static Suite *
tlssession_suite(void)
{
	Suite *s = suite_create("nbdd_tlssession");
	TCase *hs = tls_tcase(s, "handshake");
	TCase *raw = tls_tcase(s, "not TLS");

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
	return s;
}

CHECK_MAIN(tlssession_suite)
