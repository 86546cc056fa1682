#include <stddef.h>
#include <stdio.h>

#include "nbdd/onewriter.h"

enum onewriter
onewriter_decide(const struct onewriter_facts *f)
{
	if (f->read_only) {
		if (!f->overlays)
			return ONEWRITER_NO_OVERLAYS;
		if (f->written_directly)
			return ONEWRITER_WRITTEN_DIRECTLY;
		return ONEWRITER_OVERLAY;
	}
	if (f->overlays && f->base_users > 0)
		return ONEWRITER_BASE_IN_USE;
	return f->in_ceph ? ONEWRITER_CLAIM_RBD : ONEWRITER_CLAIM;
}

enum opt_open_status
onewriter_status(enum onewriter d)
{
	switch (d) {
	case ONEWRITER_CLAIM:
	case ONEWRITER_CLAIM_RBD:
	case ONEWRITER_OVERLAY:
		return OPT_OPEN_OK;
	case ONEWRITER_BASE_IN_USE:
	case ONEWRITER_WRITTEN_DIRECTLY:
		return OPT_OPEN_CLAIMED;
	case ONEWRITER_NO_OVERLAYS:
		break;
	}
	return OPT_OPEN_ERROR;
}

void
onewriter_refusal(enum onewriter d, const struct onewriter_facts *f,
    const char *name, const char *writer, const char *no_overlays,
    char *out, size_t outlen)
{
	int n = f->base_users;

	if (outlen == 0)
		return;
	out[0] = '\0';
	switch (d) {
	case ONEWRITER_CLAIM:
	case ONEWRITER_CLAIM_RBD:
	case ONEWRITER_OVERLAY:
		break;
	case ONEWRITER_BASE_IN_USE:
		snprintf(out, outlen, "image %s is in use as a shared base "
		    "(%d overlay%s over it): it is not written directly "
		    "until they are gone", name, n, n == 1 ? "" : "s");
		break;
	case ONEWRITER_WRITTEN_DIRECTLY:
		snprintf(out, outlen, "image %s is in use by %s, which writes "
		    "it directly: it is a shared base once that host is gone",
		    name, writer != NULL ? writer : "another host");
		break;
	case ONEWRITER_NO_OVERLAYS:
		snprintf(out, outlen, "a shared base, but %s", no_overlays);
		break;
	}
}
