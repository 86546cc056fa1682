/* One stream, plain TCP or TLS (nbdd/transport.c): the same calls
 * before and after STARTTLS, and a STARTTLS that fails. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/sockio.h"
#include "nbdd/tls.h"
#include "nbdd/transport.h"
#include "tests/unit/check_main.h"
#include "tests/unit/tls_conn_fixture.h"

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

static Suite *
transport_suite(void)
{
	Suite *s = suite_create("nbdd_transport");
	TCase *tp = tls_tcase(s, "plain and TLS");

	tcase_add_test(tp, transport_plain_and_tls);
	tcase_add_test(tp, transport_failed_starttls);
	return s;
}

CHECK_MAIN(transport_suite)
