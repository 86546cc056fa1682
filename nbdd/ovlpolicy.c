#include <stdio.h>
#include <string.h>

#include "nbdd/ovlpolicy.h"
#include "nbdd/sizearg.h"

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

void
ovl_plan_from_flags(const struct ovl_flags *f, struct ovl_plan *p)
{
	p->dir = f->overlay_dir != NULL ? f->overlay_dir : f->root;
	p->host_max = f->host_max;
	p->total_from_free = f->total_max == SIZE_UNSET;
	p->total_max = p->total_from_free ? 0 : f->total_max;
	p->grace_ms = f->inetd ? 0 : f->grace_s * 1000;
	p->max_overlays = (int)f->max_conn;
	p->announce = !f->inetd;
	if (f->overlay_dir != NULL)
		p->unusable = OVL_UNUSABLE_FATAL;
	else
		p->unusable = f->inetd ? OVL_UNUSABLE_QUIET : OVL_UNUSABLE_WARN;
}

void
ovl_plan_describe(const struct ovl_plan *p, uint64_t total_max, char *out,
    size_t outlen)
{
	char total[96];

	if (total_max == 0)
		snprintf(total, sizeof(total), "no limit for all hosts "
		    "together");
	else
		snprintf(total, sizeof(total), "%llu MiB for all hosts "
		    "together (%s)", (unsigned long long)(total_max >> 20),
		    p->total_from_free ? "half the space free there now; -Q" :
		    "-Q");
	snprintf(out, outlen, "shared bases: overlays in %s, %llu MiB per "
	    "host%s, %s, kept %lld s after a host's last connection", p->dir,
	    (unsigned long long)(p->host_max >> 20), p->host_max == 0 ?
	    " (no limit)" : "", total, (long long)(p->grace_ms / 1000));
}
