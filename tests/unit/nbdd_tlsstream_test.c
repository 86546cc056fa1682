/* Records through GnuTLS (nbdd/tlsstream.c): reads under a deadline
 * or an idle limit, what is read ahead, discards, writes gathered into
 * full records, and key updates before a key sealed too many records
 * (whoever sealed them: tlsseal.c's records count). */
#include <sys/uio.h>
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

static Suite *
tlsstream_suite(void)
{
	Suite *s = suite_create("nbdd_tlsstream");
	TCase *rec = tls_tcase(s, "records");

	tcase_add_test(rec, read_deadline_and_end);
	tcase_add_test(rec, idle_limit_is_on_silence);
	tcase_add_test(rec, pending_plaintext_counts_as_readable);
	tcase_add_test(rec, discard_takes_exactly);
	tcase_add_test(rec, small_records_read_ahead);
	tcase_add_test(rec, writev_in_full_records);
	tcase_add_test(rec, key_updated_before_the_limit);
	tcase_add_test(rec, large_write_in);
	return s;
}

CHECK_MAIN(tlsstream_suite)
