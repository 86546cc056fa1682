#include <string.h>

#include "textbuf.h"

int
text_append(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
	if (*pos + n + 1 > outlen)
		return -1;
	memcpy(out + *pos, s, n);
	*pos += n;
	out[*pos] = '\0';
	return 0;
}
