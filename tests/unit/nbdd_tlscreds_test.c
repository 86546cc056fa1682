/* TLS credentials (nbdd/tlscreds.c): what tls_creds_load refuses, with
 * the file and the reason named, and what it loads with a warning. */
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
tlscreds_suite(void)
{
	Suite *s = suite_create("nbdd_tlscreds");
	TCase *load = tls_tcase(s, "loading");

	tcase_add_test(load, load_errors_name_the_file);
	tcase_add_test(load, psk_file_errors);
	return s;
}

CHECK_MAIN(tlscreds_suite)
