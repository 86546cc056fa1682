/* A host's address as allow.h takes it, from its text: "10.9.0.5",
 * "fd00::5". */
#ifndef TESTS_NETADDR_FIXTURE_H
#define TESTS_NETADDR_FIXTURE_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "common/allow.h"

static struct netaddr
host(const char *s)
{
	struct sockaddr_storage ss;
	struct netaddr n;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, s, &s6->sin6_addr), 1);
		ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)s6,
		    sizeof(*s6), &n), 0);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, s, &s4->sin_addr), 1);
		ck_assert_int_eq(netaddr_from_sockaddr((struct sockaddr *)s4,
		    sizeof(*s4), &n), 0);
	}
	return n;
}

#endif
