#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addrstr.h"

/* An IPv4-mapped IPv6 address becomes the IPv4 address it maps. */
static const struct sockaddr *
unmapped(const struct sockaddr *sa, socklen_t *len, struct sockaddr_in *v4)
{
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (sa->sa_family != AF_INET6 || *len < sizeof(*s6) ||
	    !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return sa;
	memset(v4, 0, sizeof(*v4));
	v4->sin_family = AF_INET;
	v4->sin_port = s6->sin6_port;
	memcpy(&v4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	*len = sizeof(*v4);
	return (const struct sockaddr *)v4;
}

/* Numeric host and port, or -1 for anything but IPv4 and IPv6. */
static int
numeric(const struct sockaddr *sa, socklen_t len, int unmap, char *host,
    size_t hostlen, char *serv, size_t servlen)
{
	struct sockaddr_in v4;

	if (unmap)
		sa = unmapped(sa, &len, &v4);
	if ((sa->sa_family != AF_INET || len < sizeof(struct sockaddr_in)) &&
	    (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)))
		return -1;
	if (getnameinfo(sa, len, host, (socklen_t)hostlen, serv,
	    (socklen_t)servlen, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	return sa->sa_family;
}

void
addr_host_str(const struct sockaddr *sa, socklen_t len, int unmap, char *out,
    size_t outlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE], serv[8];

	if (numeric(sa, len, unmap, host, sizeof(host), serv,
	    sizeof(serv)) == -1)
		strlcpy(out, "?", outlen);
	else
		strlcpy(out, host, outlen);
}

void
addr_port_str(const struct sockaddr *sa, socklen_t len, int unmap, char *out,
    size_t outlen)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE], serv[8];

	switch (numeric(sa, len, unmap, host, sizeof(host), serv,
	    sizeof(serv))) {
	case AF_INET:
		snprintf(out, outlen, "%s:%s", host, serv);
		break;
	case AF_INET6:
		snprintf(out, outlen, "[%s]:%s", host, serv);
		break;
	default:
		strlcpy(out, "?", outlen);
		break;
	}
}
