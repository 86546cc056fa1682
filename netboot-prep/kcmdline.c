#include <stdio.h>
#include <string.h>

#include "kcmdline.h"

/* Tokens that exist for the SD card's first boot only. */
static const char *const first_boot[] = {
	"init=/usr/lib/raspberrypi-sys-mods/firstboot",
	"init=/usr/lib/raspi-config/init_resize.sh",
	"resize",
	"sdhci.debug_quirks2=4",
};

/* Replaced: the root and how the initramfs reaches it. */
static const char *const replaced[] = {
	"root=", "nbdroot=", "nbddev=", "ip=",
};

void
nbd_partition(int part, char *buf)
{
	snprintf(buf, NBD_DEV_MAX, "/dev/nbd0p%d", part);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
starts(const char *tok, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(tok, prefix, n) == 0;
}

static int
equals(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

struct buf {
	char *p;
	size_t len, cap;
	int over;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->cap == 0)
		return;
	if (b->len + n + (b->len ? 1 : 0) >= b->cap) {
		b->over = 1;
		return;
	}
	if (b->len)
		b->p[b->len++] = ' ';
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
put_ours(struct buf *b, const struct kcmdline_edit *e)
{
	char t[KCMDLINE_MAX], dev[NBD_DEV_MAX];

	if (e->root_part > 0) {
		nbd_partition(e->root_part, dev);
		snprintf(t, sizeof(t), "root=%s", dev);
		put(b, t, strlen(t));
	}
	snprintf(t, sizeof(t), "nbdroot=%s/%s", e->server, e->export);
	put(b, t, strlen(t));
	put(b, "ip=dhcp", 7);
}

enum kcmdline_result
kcmdline_rewrite(const char *in, size_t len, const struct kcmdline_edit *e,
    char *out, size_t outlen, char *removed, size_t removedlen)
{
	struct buf o = { out, 0, outlen, 0 };
	struct buf r = { removed, 0, removedlen, 0 };
	size_t i = 0, start, n, ntok = 0;
	int placed = 0, drop;

	if (outlen)
		out[0] = '\0';
	if (removedlen)
		removed[0] = '\0';
	for (size_t k = 0; k < len; k++)
		if (((unsigned char)in[k] < 0x20 && !is_space(in[k])) ||
		    in[k] == 0x7f)
			return KCMDLINE_BAD;
	while (i < len) {
		while (i < len && is_space(in[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_space(in[i]))
			i++;
		n = i - start;
		ntok++;
		drop = 0;
		for (size_t k = 0; k < sizeof(replaced) / sizeof(*replaced); k++)
			if (starts(in + start, n, replaced[k]))
				drop = 1;
		if (drop) {
			if (!placed && starts(in + start, n, "root=")) {
				put_ours(&o, e);
				placed = 1;
			}
			continue;
		}
		for (size_t k = 0; k < sizeof(first_boot) / sizeof(*first_boot);
		    k++)
			if (equals(in + start, n, first_boot[k]))
				drop = 1;
		if (drop) {
			put(&r, in + start, n);
			continue;
		}
		put(&o, in + start, n);
	}
	/* An empty cmdline.txt is no kernel command line; an empty
	 * raspi-extra-cmdline (no root= to place) just gets ours. */
	if (ntok == 0 && e->root_part > 0)
		return KCMDLINE_BAD;
	if (!placed)
		put_ours(&o, e);
	if (o.over || o.len + 2 > outlen)
		return KCMDLINE_TOO_LONG;
	out[o.len++] = '\n';
	out[o.len] = '\0';
	return KCMDLINE_OK;
}

int
kcmdline_has(const char *in, size_t len, const struct kcmdline_edit *e)
{
	char want[3][KCMDLINE_MAX], dev[NBD_DEV_MAX];
	int found[3] = { 0, 0, e->root_part <= 0 };
	size_t i = 0, start;

	snprintf(want[0], sizeof(want[0]), "nbdroot=%s/%s", e->server,
	    e->export);
	snprintf(want[1], sizeof(want[1]), "ip=dhcp");
	nbd_partition(e->root_part, dev);
	snprintf(want[2], sizeof(want[2]), "root=%s", dev);
	while (i < len) {
		while (i < len && is_space(in[i]))
			i++;
		start = i;
		while (i < len && !is_space(in[i]))
			i++;
		for (int k = 0; k < 3; k++)
			if (i > start && equals(in + start, i - start, want[k]))
				found[k] = 1;
	}
	return found[0] && found[1] && found[2];
}
