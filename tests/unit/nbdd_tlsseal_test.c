/* Records nbdd seals itself (nbdd/tlsseal.c): large reads straight
 * from the image and buffers sealed in place, in every cipher and
 * version, read by a GnuTLS client, across key updates it asks for and
 * within the record size it takes. */
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

static Suite *
tlsseal_suite(void)
{
	Suite *s = suite_create("nbdd_tlsseal");
	TCase *rec = tls_tcase(s, "records");

	tcase_add_test(rec, sealed_records_every_cipher);
	tcase_add_test(rec, buffer_sealed_in_place);
	tcase_add_test(rec, large_read_straight_from_the_image);
	tcase_add_test(rec, large_read_past_the_end);
	tcase_add_test(rec, key_update_answered_before_sealed_data);
	tcase_add_test(rec, peer_record_size_limit);
	return s;
}

CHECK_MAIN(tlsseal_suite)
