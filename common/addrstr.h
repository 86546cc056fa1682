/* layer: pure */
/* Socket addresses as log lines show them: "192.0.2.7:69",
 * "[2001:db8::7]:69". An IPv4 client of a dual-stack socket arrives as an
 * IPv4-mapped IPv6 address; unmap shows it as the IPv4 address it is. */
#ifndef COMMON_ADDRSTR_H
#define COMMON_ADDRSTR_H

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

/* Room for "[" an IPv6 address with a scope "]:" and a port. */
#define ADDR_STR_LEN	(INET6_ADDRSTRLEN + IF_NAMESIZE + 10)

/* The address alone; "?" when it is not IPv4 or IPv6. */
void addr_host_str(const struct sockaddr *sa, socklen_t len, int unmap,
    char *out, size_t outlen);

/* The address and port, IPv6 in brackets. */
void addr_port_str(const struct sockaddr *sa, socklen_t len, int unmap,
    char *out, size_t outlen);

#endif
