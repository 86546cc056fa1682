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
