#include <stdlib.h>
#include <string.h>

#include "common/numarg.h"

const char *
cmdline_count(const char *arg, long long min, long long max,
    long long *value)
{
	const char *errstr;

	*value = strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		if (strcmp(errstr, "invalid") == 0)
			return "not a number";
		return strcmp(errstr, "too small") == 0 ? "too small" :
		    "too large";
	}
	return NULL;
}

const char *
cmdline_port(const char *arg, uint16_t *port)
{
	long long v;
	const char *why = cmdline_count(arg, 1, 65535, &v);

	if (why != NULL)
		return strcmp(why, "not a number") == 0 ? "not a number" :
		    "out of range 1-65535";
	*port = (uint16_t)v;
	return NULL;
}
