/* layer: I/O */
/* What a connection holds of an export: the image open (export.c, or
 * rbdexport.c for one in Ceph) and, when it is to be served, the claim
 * on it (claim.c, rbdclaim.c) or the host's overlay over it (ovlreg.c),
 * as onewriter.c decides; over TLS only what the client's identity may
 * open (tlsauth.c). The handshake (negotiate.c) opens; whoever ends the
 * connection or the option (conn.c, negotiate.c) lets go. */
#ifndef NBDD_HOLD_H
#define NBDD_HOLD_H

#include <stddef.h>

#include "nbdd/conn.h"
#include "nbdd/options.h"

/* The one way an export is opened during the handshake: into c->ex, and
 * with claim (the option is to be served), claimed if writable or, if a
 * shared base, with the host's overlay over it. res says how it went,
 * its reason pointing into why or at a fixed string. *quiet is set when
 * the refusal was logged already, rate-limited. */
void hold_open(struct conn *c, const char *name, size_t namelen, int claim,
    int *quiet, struct opt_opened *res, char *why, size_t whylen);

/* Over TLS, whether LIST names the export to the client's identity:
 * nothing to a session without one where identities are checked. The
 * export is opened to tell, and closed. */
int hold_listable(struct conn *c, const char *name, size_t len);

/* Lets go of what hold_open took: the claim, the overlay (its grace
 * period starts, or with c->disc it goes), the image. */
void hold_release(struct conn *c);

#endif
