/* libFuzzer harness over -A's parser and matcher: the input's first part
 * is a -A argument (any bytes up to a NUL), the rest a peer's socket
 * address of any length. Checks: an accepted network prints back as text
 * that parses to the same network; a network always contains its own
 * address; matching never reads past the address given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/allow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist al, again;
	struct sockaddr_storage ss;
	struct netaddr host, net;
	char arg[128], text[NETADDR_STR_LEN], hint[80];
	size_t n = strnlen((const char *)data, size);
	socklen_t sl;

	if (n >= sizeof(arg))
		return 0;
	memcpy(arg, data, n);
	arg[n] = '\0';
	allow_init(&al);
	if (allow_add(&al, arg) == NULL && al.n == 1) {
		net = al.nets[0];
		netaddr_str(&net, text);
		allow_init(&again);
		if (allow_add(&again, text) != NULL || again.n != 1 ||
		    memcmp(&again.nets[0], &net, sizeof(net)) != 0)
			abort();
		host = net;
		host.prefix = net.family == AF_INET ? 32 : 128;
		if (!netaddr_contains(&net, &host) ||
		    !allow_match(&al, &host, NULL, 0))
			abort();
	}
	/* The rest is a socket address exactly as long as it is. */
	if (n < size) {
		data += n + 1;
		size -= n + 1;
		sl = size > sizeof(ss) ? sizeof(ss) : (socklen_t)size;
		uint8_t *copy = malloc(sl ? sl : 1);
		if (copy == NULL)
			return 0;
		memcpy(copy, data, sl);
		if (sl >= sizeof(sa_family_t) &&
		    netaddr_from_sockaddr((struct sockaddr *)(void *)copy, sl,
		    &host) == 0) {
			(void)allow_match(&al, &host, al.nets, al.n);
			allow_hint(&al, &host, hint, sizeof(hint));
		}
		free(copy);
	}
	return 0;
}
