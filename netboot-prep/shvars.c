#include <stdio.h>
#include <string.h>

#include "shvars.h"
#include "textbuf.h"

/* Whether the line assigns var: "VAR=", "export VAR=", or commented out
 * ("#VAR=", "# VAR="); *live says it is not commented out. */
static int
assigns(const char *line, size_t ll, const char *var, int *live)
{
	size_t j = 0, vl = strlen(var);

	while (j < ll && (line[j] == ' ' || line[j] == '\t'))
		j++;
	*live = 1;
	if (j < ll && line[j] == '#') {
		*live = 0;
		j++;
		while (j < ll && line[j] == ' ')
			j++;
	}
	if (ll - j > 7 && memcmp(line + j, "export ", 7) == 0)
		j += 7;
	return ll - j > vl && memcmp(line + j, var, vl) == 0 &&
	    line[j + vl] == '=';
}

int
shvar_set(const char *in, size_t len, const char *var, const char *value,
    char *out, size_t outlen)
{
	char mine[512];
	size_t i = 0, pos = 0;
	int done = 0, live, n;

	if (memchr(in, '\0', len) != NULL)
		return -1;
	n = snprintf(mine, sizeof(mine), "%s=\"%s\"", var, value);
	if (n < 0 || (size_t)n >= sizeof(mine))
		return -1;
	if (outlen)
		out[0] = '\0';
	/* The first live assignment wins over a commented-out one. */
	for (size_t k = 0; k < len;) {
		const char *l = in + k, *nl = memchr(l, '\n', len - k);
		size_t ll = nl ? (size_t)(nl - l) : len - k;

		if (assigns(l, ll, var, &live) && live)
			done = -1;	/* a live one exists */
		k += ll + (nl ? 1 : 0);
	}
	while (i < len) {
		const char *l = in + i, *nl = memchr(l, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - l) : len - i;

		i += ll + (nl ? 1 : 0);
		if (done != 1 && assigns(l, ll, var, &live) &&
		    (live || done == 0)) {
			if (text_append(out, outlen, &pos, mine, (size_t)n) == -1)
				return -1;
			done = 1;
		} else if (done == 1 && assigns(l, ll, var, &live) && live) {
			if (text_append(out, outlen, &pos, "#", 1) == -1 ||
			    text_append(out, outlen, &pos, l, ll) == -1)
				return -1;
		} else if (text_append(out, outlen, &pos, l, ll) == -1) {
			return -1;
		}
		if ((nl || i < len) && text_append(out, outlen, &pos, "\n", 1) == -1)
			return -1;
	}
	if (done != 1) {
		if (pos > 0 && out[pos - 1] != '\n' &&
		    text_append(out, outlen, &pos, "\n", 1) == -1)
			return -1;
		if (text_append(out, outlen, &pos, mine, (size_t)n) == -1 ||
		    text_append(out, outlen, &pos, "\n", 1) == -1)
			return -1;
	} else if (len > 0 && in[len - 1] == '\n' && (pos == 0 ||
	    out[pos - 1] != '\n')) {
		if (text_append(out, outlen, &pos, "\n", 1) == -1)
			return -1;
	}
	return 0;
}
