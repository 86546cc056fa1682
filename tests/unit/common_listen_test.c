#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/listen.h"
#include "common/log.h"
#include "tests/unit/check_main.h"

static uint16_t
bound_port(int fd, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*family = ss.ss_family;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A port that was free a moment ago, found by binding to port 0. */
static uint16_t
some_free_port(int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

START_TEST(udp_loopback_with_pktinfo)
{
	int fds[LISTEN_MAX_FDS], family, n;
	uint16_t port = some_free_port(SOCK_DGRAM);
	int on = 0;
	socklen_t len = sizeof(on);

	n = listen_udp("127.0.0.1", port, LISTEN_PKTINFO, fds, LISTEN_MAX_FDS);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(bound_port(fds[0], &family), port);
	ck_assert_int_eq(family, AF_INET);
	ck_assert_int_eq(getsockopt(fds[0], IPPROTO_IP, IP_PKTINFO, &on,
	    &len), 0);
	ck_assert_int_eq(on, 1);
	close(fds[0]);
}
END_TEST

START_TEST(udp_all_addresses)
{
	int fds[LISTEN_MAX_FDS], family, n, v4 = 0, v6 = 0;
	uint16_t port = some_free_port(SOCK_DGRAM);

	n = listen_udp(NULL, port, 0, fds, LISTEN_MAX_FDS);
	ck_assert_int_ge(n, 1);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(bound_port(fds[i], &family), port);
		v4 += family == AF_INET;
		v6 += family == AF_INET6;
		close(fds[i]);
	}
	ck_assert_int_eq(v4, 1);
	ck_assert_int_le(v6, 1);
}
END_TEST

START_TEST(udp_ipv4_only)
{
	int fds[LISTEN_MAX_FDS], family, n;
	uint16_t port = some_free_port(SOCK_DGRAM);

	n = listen_udp(NULL, port, LISTEN_IPV4_ONLY, fds, LISTEN_MAX_FDS);
	ck_assert_int_eq(n, 1);
	bound_port(fds[0], &family);
	ck_assert_int_eq(family, AF_INET);
	close(fds[0]);
}
END_TEST

START_TEST(tcp_ipv6_loopback)
{
	int fds[LISTEN_MAX_FDS], family, n, acc = 0;
	uint16_t port = some_free_port(SOCK_STREAM);
	socklen_t len = sizeof(acc);

	n = listen_tcp("::1", port, fds, LISTEN_MAX_FDS);
	if (n == -1)
		return;		/* no IPv6 on this host */
	ck_assert_int_eq(n, 1);
	bound_port(fds[0], &family);
	ck_assert_int_eq(family, AF_INET6);
	ck_assert_int_eq(getsockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &acc,
	    &len), 0);
	ck_assert_int_eq(acc, 1);
	close(fds[0]);
}
END_TEST

START_TEST(local_address_of_a_datagram)
{
	int fds[LISTEN_MAX_FDS], ifindex = -1;
	uint16_t port = some_free_port(SOCK_DGRAM);
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct sockaddr_storage local;
	socklen_t llen;
	union {
		struct cmsghdr h;
		char b[256];
	} cbuf;
	char data[16];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b) };
	int out = socket(AF_INET, SOCK_DGRAM, 0);

	/* Bound to every address: only packet info can say which one. */
	ck_assert_int_eq(listen_udp(NULL, port, LISTEN_PKTINFO |
	    LISTEN_IPV4_ONLY, fds, 1), 1);
	to.sin_port = htons(port);
	to.sin_addr.s_addr = inet_addr("127.0.0.3");
	ck_assert_int_eq(sendto(out, "x", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)), 1);
	for (int i = 0; i < 100 && recvmsg(fds[0], &mh, 0) == -1; i++)
		usleep(10000);
	datagram_local_addr(fds[0], &mh, &local, &llen, &ifindex);
	ck_assert_int_eq(local.ss_family, AF_INET);
	ck_assert_uint_eq(((struct sockaddr_in *)&local)->sin_addr.s_addr,
	    inet_addr("127.0.0.3"));
	ck_assert_uint_eq(((struct sockaddr_in *)&local)->sin_port, 0);
	ck_assert_int_eq(ifindex, (int)if_nametoindex("lo"));

	/* No packet info: the socket's own address, interface unknown. */
	mh.msg_controllen = 0;
	datagram_local_addr(fds[0], &mh, &local, &llen, &ifindex);
	ck_assert_uint_eq(((struct sockaddr_in *)&local)->sin_addr.s_addr,
	    htonl(INADDR_ANY));
	ck_assert_int_eq(ifindex, 0);
	close(out);
	close(fds[0]);
}
END_TEST

START_TEST(port_in_use)
{
	int fds[LISTEN_MAX_FDS], more[LISTEN_MAX_FDS];
	uint16_t port = some_free_port(SOCK_DGRAM);

	ck_assert_int_eq(listen_udp("127.0.0.1", port, 0, fds, 1), 1);
	ck_assert_int_eq(listen_udp("127.0.0.1", port, 0, more, 1), -1);
	close(fds[0]);
}
END_TEST

/* dhcpproxyd's port: shared with a server that allows it (dnsmasq
 * --bind-interfaces sets SO_REUSEADDR), never taken from one that does
 * not, and open to one that allows it after us. */
static int
udp_socket_on(uint16_t port, int reuse)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd, -1);
	if (reuse)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)), 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

START_TEST(shared_port)
{
	int fds[LISTEN_MAX_FDS], other, later;
	uint16_t port = some_free_port(SOCK_DGRAM);

	/* Held by one that does not share: refused. */
	other = udp_socket_on(port, 0);
	ck_assert_int_ne(other, -1);
	ck_assert_int_eq(listen_udp("127.0.0.1", port, LISTEN_SHARED, fds, 1),
	    -1);
	close(other);
	/* Held by one that shares: both hold it. */
	other = udp_socket_on(port, 1);
	ck_assert_int_ne(other, -1);
	ck_assert_int_eq(listen_udp("127.0.0.1", port, LISTEN_SHARED, fds, 1),
	    1);
	close(fds[0]);
	close(other);
	/* Ours first: one that shares may come after, one that does not
	 * may not. */
	ck_assert_int_eq(listen_udp("127.0.0.1", port, LISTEN_SHARED, fds, 1),
	    1);
	ck_assert_int_eq(udp_socket_on(port, 0), -1);
	later = udp_socket_on(port, 1);
	ck_assert_int_ne(later, -1);
	close(later);
	close(fds[0]);
	/* Without the flag, a UDP port is never shared. */
	other = udp_socket_on(port, 1);
	ck_assert_int_eq(listen_udp("127.0.0.1", port, 0, fds, 1), -1);
	close(other);
}
END_TEST

START_TEST(described)
{
	int fds[LISTEN_MAX_FDS], n, pipefd[2];
	uint16_t port = some_free_port(SOCK_STREAM);
	char want[64], buf[128];

	n = listen_tcp("127.0.0.1", port, fds, LISTEN_MAX_FDS);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(pipe(pipefd), 0);
	fds[1] = pipefd[0];
	listen_describe(fds, 2, buf, sizeof(buf));
	snprintf(want, sizeof(want), "127.0.0.1:%u, fd %d", port, pipefd[0]);
	ck_assert_str_eq(buf, want);
	listen_describe(fds, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* Cut short, never overrun. */
	buf[6] = 'z';
	listen_describe(fds, 2, buf, 6);
	ck_assert_str_eq(buf, "127.0");
	ck_assert_int_eq(buf[6], 'z');
	close(fds[0]);
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

START_TEST(bad_address)
{
	int fds[LISTEN_MAX_FDS];

	ck_assert_int_eq(listen_udp("not-an-address", 6969, 0, fds, 1), -1);
	ck_assert_int_eq(listen_tcp("192.0.2.300", 6969, fds, 1), -1);
}
END_TEST

START_TEST(inherited)
{
	int fds[LISTEN_MAX_FDS];
	char pid[16];

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	ck_assert_int_eq(listen_inherited(0, fds, LISTEN_MAX_FDS), 0);
	ck_assert_int_eq(listen_inherited(1, fds, LISTEN_MAX_FDS), 1);
	ck_assert_int_eq(fds[0], 0);

	/* Meant for another process: ignored. */
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	ck_assert_int_eq(listen_inherited(0, fds, LISTEN_MAX_FDS), 0);

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "99", 1);
	ck_assert_int_eq(listen_inherited(0, fds, LISTEN_MAX_FDS), -1);

	/* Descriptors 3 and 4 belong to Check in this process; claim them in
	 * a child of our own. */
	pid_t child = fork();
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "2", 1);
		int r = dup2(1, 3) == 3 && dup2(1, 4) == 4 &&
		    listen_inherited(0, fds, LISTEN_MAX_FDS) == 2 &&
		    fds[0] == 3 && fds[1] == 4 && getenv("LISTEN_FDS") == NULL;
		_exit(r ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *
listen_suite(void)
{
	Suite *s = suite_create("common/listen");
	TCase *tc = tcase_create("core");

	log_init("listen-test", 0, -1);
	tcase_add_test(tc, udp_loopback_with_pktinfo);
	tcase_add_test(tc, udp_all_addresses);
	tcase_add_test(tc, udp_ipv4_only);
	tcase_add_test(tc, tcp_ipv6_loopback);
	tcase_add_test(tc, local_address_of_a_datagram);
	tcase_add_test(tc, port_in_use);
	tcase_add_test(tc, shared_port);
	tcase_add_test(tc, described);
	tcase_add_test(tc, bad_address);
	tcase_add_test(tc, inherited);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(listen_suite)
