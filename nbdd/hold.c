/* Opening, claiming and letting go of an export for a connection. Which
 * of the claims or the overlay an image gets, and the refusals, are
 * onewriter.c's; this file asks the claims and the registry the facts it
 * weighs and carries the decision out. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "common/log.h"
#include "nbdd/claim.h"
#include "nbdd/ctx.h"
#include "nbdd/hold.h"
#include "nbdd/onewriter.h"
#include "nbdd/overlay.h"
#include "nbdd/rbdclaim.h"
#include "nbdd/rbdexport.h"
#include "nbdd/tlsauth.h"

static enum opt_open_status
open_status(enum export_status st)
{
	switch (st) {
	case EXPORT_OK:		return OPT_OPEN_OK;
	case EXPORT_BAD_NAME:	return OPT_OPEN_BAD_NAME;
	case EXPORT_NOT_FOUND:	return OPT_OPEN_NOT_FOUND;
	case EXPORT_REFUSED:	return OPT_OPEN_UNWRITABLE;
	default:		return OPT_OPEN_ERROR;
	}
}

/* Why a boot entry is broken (its target and the error), for the log
 * only: the client is told that it is, not where it points. */
static void
log_broken_entry(struct conn *c, const char *name)
{
	char why[PATH_MAX + 256];
	int fd;

	if (bootdir_open(c->ctx->bootfd, name, strlen(name), &fd, NULL, why,
	    sizeof(why)) != BOOT_ENTRY_BROKEN) {
		if (fd != -1)
			close(fd);
		return;		/* mended since */
	}
	log_warn("%s: broken boot entry %s", c->peer, why);
}

/* Over TLS, whether the client's identity may open the export now open
 * in c->ex (tlsauth.h): 1, or 0 with the rule's reason in why. */
static int
identity_may_open(struct conn *c, char *why, size_t whylen)
{
	struct image_id id = { (uint64_t)c->ex.dev, (uint64_t)c->ex.ino };
	const char *who = tp_identity(&c->tp);
	enum tlsauth_rule rule;

	if (!tp_is_tls(&c->tp))
		return 1;
	if (tlsauth_decide(&c->ctx->auth, who, c->ex.name, &id, &rule) ==
	    TLSAUTH_OK)
		return 1;
	(void)tlsauth_describe(rule, who, why, whylen);
	if (rule == TLSAUTH_ENTRY_IS_BROKEN || rule == TLSAUTH_DEFAULT_IS_BROKEN)
		log_broken_entry(c, rule == TLSAUTH_ENTRY_IS_BROKEN ? who :
		    TLSAUTH_DEFAULT_ENTRY);
	return 0;
}

/* The export open in c->ex, to be served: claimed, or the host's overlay
 * over it, or refused (onewriter.h). */
static enum opt_open_status
take(struct conn *c, int *quiet, char *why, size_t whylen)
{
	struct nbdd_ctx *ctx = c->ctx;
	struct onewriter_facts f = {
		.read_only = c->ex.read_only,
		.in_ceph = c->ex.rbd != NULL,
		.overlays = ctx->overlays != NULL,
	};
	char writer[CLAIM_HOST_MAX] = "";
	enum onewriter d;

	if (f.overlays && f.read_only)
		f.written_directly = claim_holder(&ctx->claims, &c->ex, writer,
		    sizeof(writer));
	else if (f.overlays)
		f.base_users = ovl_base_users(ctx->overlays, c->ex.dev,
		    c->ex.ino);
	switch ((d = onewriter_decide(&f))) {
	case ONEWRITER_CLAIM:
		if ((c->claim = claim_take(&ctx->claims, &c->ex, c->host, why,
		    whylen)) == NULL)
			return OPT_OPEN_CLAIMED;
		return OPT_OPEN_OK;
	case ONEWRITER_CLAIM_RBD:
		if ((c->rbd_claim = rbd_claim_take(&ctx->rbd_claims, &c->ex,
		    c->host, why, whylen)) == NULL)
			return OPT_OPEN_CLAIMED;
		return OPT_OPEN_OK;
	case ONEWRITER_OVERLAY:
		/* Over TLS the identity is part of the owner: two Pis behind
		 * one address, or one that took a dead Pi's address, never
		 * share. */
		if ((c->ovl = ovl_get(ctx->overlays, &c->ex, c->host,
		    tp_identity(&c->tp), why, whylen)) == NULL) {
			/* The registry logged it, rate-limited: hosts
			 * cycling through addresses cause it at will. */
			if (errno == ENOSPC)
				*quiet = 1;
			return OPT_OPEN_ERROR;
		}
		return OPT_OPEN_OK;
	default:
		onewriter_refusal(d, &f, c->ex.name, writer, ctx->no_overlays,
		    why, whylen);
		return onewriter_status(d);
	}
}

void
hold_open(struct conn *c, const char *name, size_t namelen, int claim,
    int *quiet, struct opt_opened *res, char *why, size_t whylen)
{
	enum export_status st;
	const char *reason;

	memset(res, 0, sizeof(*res));
	st = export_open(c->ctx->rootfd, name, namelen, &c->ex, &reason);
	if (st == EXPORT_IN_CEPH) {
		st = rbdx_open(c->ctx->rbd, &c->ex, why, whylen);
		reason = why;
	}
	if (st == EXPORT_REFUSED) {
		export_refusal(&c->ex, c->ctx->root, c->ctx->user, why,
		    whylen);
		reason = why;
	}
	if (st != EXPORT_OK) {
		res->status = open_status(st);
		res->why = reason;
		return;
	}
	if (!identity_may_open(c, why, whylen)) {
		export_close(&c->ex);
		res->status = OPT_OPEN_DENIED;
		res->why = why;
		return;
	}
	if (claim && (res->status = take(c, quiet, why, whylen)) !=
	    OPT_OPEN_OK) {
		export_close(&c->ex);
		res->why = why;
		return;
	}
	res->status = OPT_OPEN_OK;
	res->size = c->ovl != NULL ? ovl_size(c->ovl) : c->ex.size;
	res->shared_base = c->ex.read_only;
	res->blockdev = c->ex.blockdev;
}

int
hold_listable(struct conn *c, const char *name, size_t len)
{
	enum tlsauth_rule rule;
	const char *reason;
	char why[512];
	int ok;

	if (!tp_is_tls(&c->tp))
		return 1;
	/* Without an identity the export itself does not matter. */
	if (tp_identity(&c->tp) == NULL)
		return tlsauth_decide(&c->ctx->auth, NULL, "", NULL, &rule) ==
		    TLSAUTH_OK;
	switch (export_open(c->ctx->rootfd, name, len, &c->ex, &reason)) {
	case EXPORT_OK:
	case EXPORT_IN_CEPH:	/* named, as a file is, without opening */
		break;
	default:
		return 0;
	}
	ok = identity_may_open(c, why, sizeof(why));
	export_close(&c->ex);
	return ok;
}

void
hold_release(struct conn *c)
{
	if (c->ovl != NULL) {
		if (c->disc)
			ovl_put_done(c->ctx->overlays, c->ovl);
		else
			ovl_put(c->ctx->overlays, c->ovl);
		c->ovl = NULL;
	}
	claim_release(&c->ctx->claims, c->claim);
	c->claim = NULL;
	rbd_claim_release(&c->ctx->rbd_claims, c->rbd_claim);
	c->rbd_claim = NULL;
	export_close(&c->ex);
}
