#include <stdio.h>
#include <string.h>

#include "initparts.h"

/* hook-functions, auto_add_modules net: copy_modules_dir kernel/drivers/net
 * and these exclusions (directories or module files). */
static const char *const net_excluded[] = {
	"appletalk", "arcnet", "bonding", "can", "cdc-phonet.ko",
	"cdc_mbim.ko", "cdc_subset.ko", "cx82310_eth.ko", "dummy.ko",
	"gl620a.ko", "hamradio", "hippi", "hso.ko", "huawei_cdc_ncm.ko",
	"ifb.ko", "ipheth.ko", "irda", "kalmia.ko", "lg-vl600.ko",
	"macvlan.ko", "macvtap.ko", "net1080.ko", "pcmcia", "plusb.ko",
	"qmi_wwan.ko", "sb1000.ko", "sierra_net.ko", "team", "tokenring",
	"tun.ko", "veth.ko", "wan", "wimax", "wireless", "xen-netback.ko",
	"zaurus.ko",
};

int
net_module_excluded(const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t blen;

	base = base ? base + 1 : rel;
	blen = strcspn(base, ".");
	for (size_t i = 0; i < sizeof(net_excluded) / sizeof(*net_excluded);
	    i++) {
		const char *x = net_excluded[i];
		size_t xl = strlen(x);

		if (xl > 3 && strcmp(x + xl - 3, ".ko") == 0) {
			/* A module, compressed or not. */
			if (blen == xl - 3 && strncmp(base, x, blen) == 0)
				return 1;
			continue;
		}
		/* A directory: any component of the path. */
		for (const char *p = rel; p && *p;) {
			size_t cl = strcspn(p, "/");

			if (p[cl] == '/' && cl == xl && strncmp(p, x, xl) == 0)
				return 1;
			p = p[cl] ? p + cl + 1 : NULL;
		}
	}
	return 0;
}

int
modules_dep_of(const char *dep, size_t len, const char *module,
    void (*cb)(void *ctx, const char *path, size_t plen), void *ctx)
{
	size_t ml = strlen(module), i = 0;

	while (i < len) {
		const char *l = dep + i, *nl = memchr(l, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - l) : len - i;

		i += ll + (nl ? 1 : 0);
		if (ll <= ml || memcmp(l, module, ml) != 0 || l[ml] != ':')
			continue;
		for (size_t j = ml + 1; j < ll;) {
			size_t s;

			while (j < ll && (l[j] == ' ' || l[j] == '\t'))
				j++;
			s = j;
			while (j < ll && l[j] != ' ' && l[j] != '\t')
				j++;
			if (j > s)
				cb(ctx, l + s, j - s);
		}
		return 1;
	}
	return 0;
}

int
order_with_nbd(const char *order, size_t len, char *out, size_t outlen)
{
	static const char first[] = "/scripts/local-top/nbd \"$@\"\n"
	    "[ -e /conf/param.conf ] && . /conf/param.conf\n";
	size_t pos = sizeof(first) - 1, i = 0;
	int skip_next = 0;

	if (outlen <= pos)
		return -1;
	memcpy(out, first, pos);
	while (i < len) {
		const char *l = order + i, *nl = memchr(l, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - l) : len - i;

		i += ll + (nl ? 1 : 0);
		if (ll >= 22 && memcmp(l, "/scripts/local-top/nbd", 22) == 0 &&
		    (ll == 22 || l[22] == ' ')) {
			skip_next = 1;
			continue;
		}
		/* The param.conf line that followed a dropped nbd line. */
		if (skip_next && ll > 0 && memmem(l, ll, "param.conf", 10)) {
			skip_next = 0;
			continue;
		}
		skip_next = 0;
		if (pos + ll + 2 > outlen)
			return -1;
		memcpy(out + pos, l, ll);
		pos += ll;
		out[pos++] = '\n';
	}
	out[pos] = '\0';
	return 0;
}

void
module_name(const char *path, size_t len, char *out, size_t outlen)
{
	const char *b = path;
	size_t n, o = 0;

	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			b = path + i + 1;
	n = len - (size_t)(b - path);
	for (size_t i = 0; i + 2 < n; i++)
		if (memcmp(b + i, ".ko", 3) == 0 && (i + 3 == n ||
		    b[i + 3] == '.')) {
			n = i;
			break;
		}
	for (size_t i = 0; i < n && o + 1 < outlen; i++)
		out[o++] = b[i] == '-' ? '_' : b[i];
	if (outlen)
		out[o] = '\0';
}

static int
name_eq(const char *a, size_t al, const char *b)
{
	size_t bl = strlen(b);

	if (al != bl)
		return 0;
	for (size_t i = 0; i < al; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return 0;
	}
	return 1;
}

/* The words of a line after its first n (space-separated). */
static void
words_after(const char *l, size_t ll, int skip,
    void (*cb)(void *ctx, const char *w, size_t wl), void *ctx)
{
	size_t j = 0;
	int k = 0;

	while (j < ll) {
		size_t s;

		while (j < ll && (l[j] == ' ' || l[j] == '\t'))
			j++;
		s = j;
		while (j < ll && l[j] != ' ' && l[j] != '\t')
			j++;
		if (j == s)
			break;
		if (k++ < skip)
			continue;
		if ((j - s == 4 && memcmp(l + s, "pre:", 4) == 0) ||
		    (j - s == 5 && memcmp(l + s, "post:", 5) == 0))
			continue;
		cb(ctx, l + s, j - s);
	}
}

/* The second word of a line, and where it ends. */
static int
second_word(const char *l, size_t ll, const char *first, const char **w,
    size_t *wl)
{
	size_t fl = strlen(first), j;

	if (ll <= fl || memcmp(l, first, fl) != 0 || (l[fl] != ' ' &&
	    l[fl] != '\t'))
		return 0;
	j = fl;
	while (j < ll && (l[j] == ' ' || l[j] == '\t'))
		j++;
	*w = l + j;
	while (j < ll && l[j] != ' ' && l[j] != '\t')
		j++;
	*wl = (size_t)(l + j - *w);
	return *wl > 0;
}

void
modules_softdeps(const char *softdep, size_t len, const char *name,
    void (*cb)(void *ctx, const char *dep, size_t dlen), void *ctx)
{
	size_t i = 0;

	while (i < len) {
		const char *l = softdep + i, *nl = memchr(l, '\n', len - i), *w;
		size_t ll = nl ? (size_t)(nl - l) : len - i, wl;

		i += ll + (nl ? 1 : 0);
		if (second_word(l, ll, "softdep", &w, &wl) &&
		    name_eq(w, wl, name))
			words_after(l, ll, 2, cb, ctx);
	}
}

void
modules_resolve(const char *dep, size_t deplen, const char *alias,
    size_t aliaslen, const char *name,
    void (*cb)(void *ctx, const char *path, size_t plen), void *ctx)
{
	char target[128];
	size_t i = 0;
	int aliased = 0;

	/* An alias first: "alias crc32c crc32c_generic". */
	while (i < aliaslen) {
		const char *l = alias + i, *nl = memchr(l, '\n', aliaslen - i);
		const char *w, *m;
		size_t ll = nl ? (size_t)(nl - l) : aliaslen - i, wl, ml, j;

		i += ll + (nl ? 1 : 0);
		if (!second_word(l, ll, "alias", &w, &wl) ||
		    !name_eq(w, wl, name))
			continue;
		j = (size_t)(w + wl - l);
		while (j < ll && (l[j] == ' ' || l[j] == '\t'))
			j++;
		m = l + j;
		ml = ll - j;
		if (ml == 0 || ml >= sizeof(target))
			continue;
		memcpy(target, m, ml);
		target[ml] = '\0';
		aliased = 1;
		modules_resolve(dep, deplen, NULL, 0, target, cb, ctx);
	}
	if (aliased)
		return;
	i = 0;
	while (i < deplen) {
		const char *l = dep + i, *nl = memchr(l, '\n', deplen - i);
		size_t ll = nl ? (size_t)(nl - l) : deplen - i;
		const char *colon = memchr(l, ':', ll);
		char mn[128];

		i += ll + (nl ? 1 : 0);
		if (colon == NULL)
			continue;
		module_name(l, (size_t)(colon - l), mn, sizeof(mn));
		if (name_eq(mn, strlen(mn), name))
			cb(ctx, l, (size_t)(colon - l));
	}
}
