#include <stdio.h>
#include <string.h>

#include "nbdd/ovlpolicy.h"

static const char *
identity_or_none(const char *identity)
{
	return identity != NULL ? identity : "";
}

int
ovl_same_owner(const char *addr_a, const char *identity_a,
    const char *addr_b, const char *identity_b)
{
	return strcmp(addr_a, addr_b) == 0 &&
	    strcmp(identity_or_none(identity_a),
	    identity_or_none(identity_b)) == 0;
}

void
ovl_owner_describe(const char *addr, const char *identity, char *out,
    size_t outlen)
{
	if (identity != NULL && *identity != '\0')
		snprintf(out, outlen, "%s as %s", addr, identity);
	else
		snprintf(out, outlen, "%s", addr);
}

int64_t
ovl_expiry(int64_t now, int64_t grace_ms, int done)
{
	return done ? now : now + grace_ms;
}

int
ovl_expired(int refs, int64_t expires_ms, int64_t now)
{
	return refs == 0 && expires_ms <= now;
}

int64_t
ovl_next_expiry(int64_t next, int refs, int64_t expires_ms, int64_t now)
{
	int64_t left;

	if (refs > 0)
		return next;
	left = expires_ms > now ? expires_ms - now : 0;
	return next == -1 || left < next ? left : next;
}

enum ovl_admit
ovl_admit(int count, int max_overlays)
{
	return max_overlays == 0 || count < max_overlays ? OVL_ADMIT_OK :
	    OVL_ADMIT_FULL;
}

int
ovl_fits(uint64_t used, uint64_t need, uint64_t max)
{
	return max == 0 || (used <= max && need <= max - used);
}

enum ovl_room
ovl_room(uint64_t host_used, uint64_t host_max, uint64_t total_used,
    uint64_t total_max, uint64_t need)
{
	/* What allocates nothing goes ahead, even past a limit that the
	 * file system's own blocks (indirect, extent tree) overstepped. */
	if (need == 0)
		return OVL_ROOM_OK;
	if (!ovl_fits(host_used, need, host_max))
		return OVL_ROOM_HOST_FULL;
	if (!ovl_fits(total_used, need, total_max))
		return OVL_ROOM_TOTAL_FULL;
	return OVL_ROOM_OK;
}

uint64_t
ovl_total_default(uint64_t free_bytes)
{
	return free_bytes / 2 > 0 ? free_bytes / 2 : 1;
}
