/* layer: I/O */
/* Listening sockets: bound here, handed over by inetd (fd 0), or by
 * systemd socket activation (LISTEN_FDS). */
#ifndef COMMON_LISTEN_H
#define COMMON_LISTEN_H

#include <stdint.h>
#include <sys/socket.h>

#define LISTEN_MAX_FDS 8

enum listen_flags {
	LISTEN_PKTINFO = 1 << 0,	/* ask for the local address of each datagram */
	LISTEN_IPV4_ONLY = 1 << 1,	/* DHCP has no IPv6 */
	/* UDP: share the port with a server that allows it, as the LAN's
	 * DHCP server on the same host may (SO_REUSEADDR), and let one
	 * that allows it bind after us; the log says when it is shared. */
	LISTEN_SHARED = 1 << 2,
};

/* Binds UDP sockets on addr (NULL: every IPv4 and IPv6 address) and port.
 * Fills fds and returns how many, or -1 after logging why. */
int listen_udp(const char *addr, uint16_t port, int flags, int *fds, int max);

/* The same for TCP, listening with a backlog. */
int listen_tcp(const char *addr, uint16_t port, int *fds, int max);

/* The addresses of the sockets, for the start-up line: "0.0.0.0:10809,
 * [::]:10809"; "fd 3" for one that is not bound to an IP address. */
void listen_describe(const int *fds, int n, char *buf, size_t len);

/* Sockets handed to us: fd 0 when inetd is set, else systemd's LISTEN_FDS
 * for this pid. Returns how many (0 when none were handed over), or -1
 * after logging why (a bad LISTEN_FDS, a descriptor that is not open). */
int listen_inherited(int inetd, int *fds, int max);

struct msghdr;
struct sockaddr_storage;

/* The local address a datagram received with recvmsg() on fd was sent to,
 * from its packet info (IPv4, IPv6, or IPv4 on a dual-stack socket), as a
 * socket address with port 0: the address to answer from. Without packet
 * info, the socket's own address. The arrival interface goes to *ifindex
 * (0 when unknown) unless ifindex is NULL. */
void datagram_local_addr(int fd, struct msghdr *mh,
    struct sockaddr_storage *local, socklen_t *llen, int *ifindex);

/* Turns on IP_PKTINFO or IPV6_RECVPKTINFO, by the socket's family.
 * Returns 0, or -1 with errno. */
int socket_want_pktinfo(int fd);

#endif
