#include <stdio.h>
#include <string.h>

#include "common/rbdname.h"

#define PREFIX_LEN	(sizeof(RBD_PREFIX) - 1)

int
rbd_target_is_rbd(const char *s, size_t len)
{
	return len >= PREFIX_LEN && memcmp(s, RBD_PREFIX, PREFIX_LEN) == 0;
}

static int
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '+';
}

/* One name of [s, s + len) into out (max bytes at most): NULL, or why
 * not, naming which (what). */
static const char *
take_name(const char *s, size_t len, size_t max, char *out,
    const char *empty, const char *too_long, const char *bad)
{
	if (len == 0)
		return empty;
	if (len > max)
		return too_long;
	if (s[0] == '.')
		return bad;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return bad;
	memcpy(out, s, len);
	out[len] = '\0';
	return NULL;
}

const char *
rbd_target_parse(const char *s, size_t len, struct rbd_target *t)
{
	const char *p, *end = s + len, *slash, *at, *why;

	memset(t, 0, sizeof(*t));
	if (!rbd_target_is_rbd(s, len))
		return "does not start with rbd:";
	if (memchr(s, '\0', len) != NULL)
		return "a NUL in the name";
	p = s + PREFIX_LEN;
	if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
		return "no '/' between pool and image (rbd:POOL/IMAGE)";
	if (memchr(slash + 1, '/', (size_t)(end - slash - 1)) != NULL)
		return "more than one '/' (rbd:POOL/IMAGE; RBD namespaces are "
		    "not supported)";
	at = memchr(slash + 1, '@', (size_t)(end - slash - 1));
	if ((why = take_name(p, (size_t)(slash - p), RBD_POOL_MAX, t->pool,
	    "an empty pool name", "a pool name longer than 127 bytes",
	    "a pool name with a character other than letters, digits, '.', "
	    "'_', '-', '+' (or starting with '.')")) != NULL)
		return why;
	if ((why = take_name(slash + 1, (size_t)((at ? at : end) - slash - 1),
	    RBD_IMAGE_MAX, t->image, "an empty image name",
	    "an image name longer than 95 bytes",
	    "an image name with a character other than letters, digits, '.', "
	    "'_', '-', '+' (or starting with '.')")) != NULL)
		return why;
	if (at != NULL && (why = take_name(at + 1, (size_t)(end - at - 1),
	    RBD_SNAP_MAX, t->snap, "an empty snapshot name after '@'",
	    "a snapshot name longer than 127 bytes",
	    "a snapshot name with a character other than letters, digits, "
	    "'.', '_', '-', '+' (or starting with '.')")) != NULL)
		return why;
	return NULL;
}

int
rbd_target_str(const struct rbd_target *t, char *out, size_t outlen)
{
	return snprintf(out, outlen, "%s%s/%s%s%s", RBD_PREFIX, t->pool,
	    t->image, t->snap[0] ? "@" : "", t->snap);
}

/* FNV-1a over the names, each ended by a byte no name holds: "a/b" and
 * "a" "/b" can never meet. */
uint64_t
rbd_target_key(const struct rbd_target *t)
{
	const char *parts[3] = { t->pool, t->image, t->snap };
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

const char *
rbd_client_arg_parse(const char *arg, struct rbd_client_arg *a)
{
	const char *at = strchr(arg, '@'), *conf = arg, *why;

	memset(a, 0, sizeof(*a));
	strlcpy(a->id, "admin", sizeof(a->id));
	if (at != NULL) {
		if ((why = take_name(arg, (size_t)(at - arg), RBD_ID_MAX, a->id,
		    "an empty client id before '@' (leave ID@ out for admin)",
		    "a client id longer than 63 bytes",
		    "a client id with a character other than letters, digits, "
		    "'.', '_', '-', '+' (or starting with '.')")) != NULL)
			return why;
		conf = at + 1;
	}
	if (conf[0] != '/')
		return "not [ID@]CONF with CONF an absolute path (as "
		    "netboot@/etc/ceph/ceph.conf)";
	if (strlen(conf) >= sizeof(a->conf))
		return "a path longer than PATH_MAX";
	strlcpy(a->conf, conf, sizeof(a->conf));
	return NULL;
}
