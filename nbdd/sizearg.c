#include <stddef.h>

#include "nbdd/sizearg.h"

#define SIZE_MAX_BYTES	((uint64_t)INT64_MAX)

static int
shift_of(char c)
{
	switch (c) {
	case 'K': case 'k':
		return 10;
	case 'M': case 'm':
		return 20;
	case 'G': case 'g':
		return 30;
	case 'T': case 't':
		return 40;
	default:
		return -1;
	}
}

int
size_parse(const char *s, uint64_t *bytes)
{
	uint64_t n = 0;
	const char *p;
	int shift = 0;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (n > (SIZE_MAX_BYTES - (uint64_t)(*p - '0')) / 10)
			return 0;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return 0;
	if (*p != '\0') {
		if ((shift = shift_of(*p)) == -1 || p[1] != '\0')
			return 0;
		if (n > SIZE_MAX_BYTES >> shift)
			return 0;
	}
	*bytes = n << shift;
	return 1;
}

const char *
size_flag(const char *arg, uint64_t *bytes)
{
	uint64_t n;

	if (!size_parse(arg, &n) || n == SIZE_UNSET)
		return "not a size (bytes, or a number with K, M, G or T)";
	*bytes = n;
	return NULL;
}
