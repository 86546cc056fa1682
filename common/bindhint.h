/* layer: pure */
/* What to do about a listening socket that cannot be bound: the errno of
 * bind(2), the socket type and the port decide the advice that follows
 * the error in the log line, so that the administrator reads the fix, not
 * only "Address already in use". Pure: no sockets, no errno. */
#ifndef COMMON_BINDHINT_H
#define COMMON_BINDHINT_H

#include <stddef.h>
#include <stdint.h>

enum bind_hint_flags {
	/* The daemon shares its port with a server that lets it (SO_REUSEADDR
	 * on both): dhcpproxyd beside the LAN's DHCP server. */
	BIND_HINT_SHARED = 1 << 0,
};

/* Writes the advice for bind(2) failing with err on a socket of socktype
 * (SOCK_DGRAM, SOCK_STREAM) and port into buf: "" when there is none to
 * give. Returns what snprintf returns. */
int bind_hint(int err, int socktype, uint16_t port, int flags, char *buf,
    size_t len);

/* What to say when such a port turned out to be held already by a
 * program that shares it: who gets which datagrams. */
int bind_shared_note(int socktype, uint16_t port, char *buf, size_t len);

#endif
