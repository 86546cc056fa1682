/* layer: I/O */
/* The insides of a TLS session and of the credentials, shared by the
 * four parts of nbdd's TLS: tlscreds.c (loading them), tlssession.c
 * (a session, its handshake and its peer), tlsstream.c (records through
 * GnuTLS) and tlsseal.c (records nbdd seals itself); nothing else
 * includes this. tls.h is the interface. */
#ifndef NBDD_TLSPRIV_H
#define NBDD_TLSPRIV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "nbdd/pskfile.h"
#include "nbdd/tls.h"

#define RECORD_MAX	16384		/* TLS's largest plaintext record */
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

/* The record calls the two ways of sending share (tlsstream.c). */

/* A TLS 1.3 key update of our own, now: 0, or -1 (the stream is
 * broken). */
int tls_update_key(struct tls_conn *t);
/* Sends len bytes through GnuTLS's record layer, in records as large as
 * the peer takes; the last carries MSG_MORE only when more is set. 0, or
 * -1 with errno. */
int tls_send_records(struct tls_conn *t, const uint8_t *p, size_t len,
    int more);

#endif
