#include <stdio.h>
#include <string.h>

#include "fstab.h"
#include "textbuf.h"
#include "kcmdline.h"

static int
field_eq(const char *f, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(f, s, n) == 0;
}

enum fstab_result
fstab_rewrite(const char *in, size_t len, int root_part, int boot_part,
    char *out, size_t outlen, struct fstab_report *rep)
{
	size_t i = 0, pos = 0;
	int lineno = 0;

	memset(rep, 0, sizeof(*rep));
	if (outlen)
		out[0] = '\0';
	if (memchr(in, '\0', len) != NULL)
		return FSTAB_BAD;
	while (i < len) {
		const char *line = in + i, *nl = memchr(line, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - line) : len - i;
		const char *f[3] = { NULL, NULL, NULL };
		size_t fl[3] = { 0, 0, 0 }, j = 0;
		int nf = 0, part = 0;
		char dev[NBD_DEV_MAX];

		lineno++;
		i += ll + (nl ? 1 : 0);
		while (j < ll && nf < 3) {
			while (j < ll && (line[j] == ' ' || line[j] == '\t'))
				j++;
			if (j == ll || (nf == 0 && line[j] == '#'))
				break;
			f[nf] = line + j;
			while (j < ll && line[j] != ' ' && line[j] != '\t')
				j++;
			fl[nf] = (size_t)(line + j - f[nf]);
			nf++;
		}
		if (nf >= 2 && field_eq(f[1], fl[1], "/")) {
			if (rep->root_line == 0)
				rep->root_line = lineno;
			part = root_part;
		} else if (nf >= 3 && boot_part > 0 &&
		    (field_eq(f[1], fl[1], "/boot/firmware") ||
		    (field_eq(f[1], fl[1], "/boot") &&
		    field_eq(f[2], fl[2], "vfat")))) {
			if (rep->boot_line == 0) {
				rep->boot_line = lineno;
				snprintf(rep->boot_dir, sizeof(rep->boot_dir),
				    "%.*s", (int)fl[1], f[1]);
			}
			part = boot_part;
		}
		if (part > 0) {
			nbd_partition(part, dev);
			if (!field_eq(f[0], fl[0], dev))
				rep->changed++;
			if (text_append(out, outlen, &pos, line,
			    (size_t)(f[0] - line)) == -1 ||
			    text_append(out, outlen, &pos, dev, strlen(dev)) == -1 ||
			    text_append(out, outlen, &pos, f[0] + fl[0],
			    ll - (size_t)(f[0] + fl[0] - line)) == -1)
				return FSTAB_TOO_LONG;
		} else if (text_append(out, outlen, &pos, line, ll) == -1) {
			return FSTAB_TOO_LONG;
		}
		if (nl && text_append(out, outlen, &pos, "\n", 1) == -1)
			return FSTAB_TOO_LONG;
	}
	return rep->root_line ? FSTAB_OK : FSTAB_NO_ROOT;
}
