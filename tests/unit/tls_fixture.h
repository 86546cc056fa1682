/* Certificates, CRLs and PSK files for the TLS unit tests, made with
 * GnuTLS's own API at test setup (ECDSA P-256: quick), written as PEM
 * into a scratch directory in the layout nbdd reads. */
#ifndef TESTS_UNIT_TLS_FIXTURE_H
#define TESTS_UNIT_TLS_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define TF_MAYBE __attribute__((unused))

/* A server's or a client's certificate by its extended key usage; or
 * one with both purposes, or with no extended key usage at all. */
enum tf_kind { TF_CA, TF_SERVER, TF_CLIENT, TF_BOTH, TF_NO_PURPOSE };

static TF_MAYBE gnutls_x509_privkey_t
tf_key(void)
{
	gnutls_x509_privkey_t k;

	ck_assert_int_eq(gnutls_x509_privkey_init(&k), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	return k;
}

/* A certificate with subject dn ("CN=abcd1234"), valid from..until,
 * signed by issuer (NULL: self-signed). */
static TF_MAYBE gnutls_x509_crt_t
tf_cert(const char *dn, gnutls_x509_privkey_t key, enum tf_kind kind,
    gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
    time_t from, time_t until, unsigned serial)
{
	gnutls_x509_crt_t c;
	const char *err = NULL;
	unsigned char ser[4] = { serial >> 24, serial >> 16, serial >> 8,
	    serial };
	unsigned char ip[4] = { 127, 0, 0, 1 };

	ck_assert_int_eq(gnutls_x509_crt_init(&c), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(c, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(c, ser, sizeof(ser)), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(c, from), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(c, until), 0);
	if (*dn != '\0')
		ck_assert_msg(gnutls_x509_crt_set_dn(c, dn, &err) == 0,
		    "dn %s at %s", dn, err ? err : "?");
	ck_assert_int_eq(gnutls_x509_crt_set_key(c, key), 0);
	switch (kind) {
	case TF_CA:
		ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(c, 1,
		    -1), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
		break;
	case TF_SERVER:
	case TF_CLIENT:
	case TF_BOTH:
	case TF_NO_PURPOSE:
		ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(c, 0,
		    -1), 0);
		ck_assert_int_eq(gnutls_x509_crt_set_key_usage(c,
		    GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
		if (kind == TF_SERVER || kind == TF_BOTH)
			ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(c,
			    GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
		if (kind == TF_CLIENT || kind == TF_BOTH)
			ck_assert_int_eq(gnutls_x509_crt_set_key_purpose_oid(c,
			    GNUTLS_KP_TLS_WWW_CLIENT, 0), 0);
		if (kind == TF_SERVER) {
			ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(
			    c, GNUTLS_SAN_DNSNAME, "nbdd.test", 9,
			    GNUTLS_FSAN_APPEND), 0);
			ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(
			    c, GNUTLS_SAN_IPADDRESS, ip, 4,
			    GNUTLS_FSAN_APPEND), 0);
		}
		break;
	}
	if (issuer == NULL)
		ck_assert_int_eq(gnutls_x509_crt_sign2(c, c, key,
		    GNUTLS_DIG_SHA256, 0), 0);
	else
		ck_assert_int_eq(gnutls_x509_crt_sign2(c, issuer, issuer_key,
		    GNUTLS_DIG_SHA256, 0), 0);
	return c;
}

static TF_MAYBE void
tf_write(const char *path, const gnutls_datum_t *d)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_uint_eq(fwrite(d->data, 1, d->size, f), d->size);
	ck_assert_int_eq(fclose(f), 0);
}

static TF_MAYBE void
tf_write_cert(const char *path, gnutls_x509_crt_t c)
{
	gnutls_datum_t d;

	ck_assert_int_eq(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d),
	    0);
	tf_write(path, &d);
	gnutls_free(d.data);
}

static TF_MAYBE void
tf_write_key(const char *path, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d;

	ck_assert_int_eq(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM,
	    &d), 0);
	tf_write(path, &d);
	gnutls_free(d.data);
}

/* A CRL from ca revoking one certificate. */
static TF_MAYBE void
tf_write_crl(const char *path, gnutls_x509_crt_t ca, gnutls_x509_privkey_t
    ca_key, gnutls_x509_crt_t revoked)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d;
	time_t now = time(NULL);

	ck_assert_int_eq(gnutls_x509_crl_init(&crl), 0);
	ck_assert_int_eq(gnutls_x509_crl_set_version(crl, 2), 0);
	ck_assert_int_eq(gnutls_x509_crl_set_this_update(crl, now - 60), 0);
	ck_assert_int_eq(gnutls_x509_crl_set_next_update(crl, now + 86400),
	    0);
	ck_assert_int_eq(gnutls_x509_crl_set_crt(crl, revoked, now - 60), 0);
	ck_assert_int_eq(gnutls_x509_crl_sign2(crl, ca, ca_key,
	    GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_eq(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM,
	    &d), 0);
	tf_write(path, &d);
	gnutls_free(d.data);
	gnutls_x509_crl_deinit(crl);
}

#endif
