/* A TLS session on a connection's socket: the transport GnuTLS reads
 * and writes through, the handshake under a deadline, the peer's
 * verified identity, and what the session says of itself. */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/bootdir.h"
#include "nbdd/pskfile.h"
#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/tlsauth.h"
#include "nbdd/tlshello.h"
#include "nbdd/tlspriv.h"

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
