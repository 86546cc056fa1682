/* layer: pure */
/* nbdd's TLS flags taken together: -x MODE, -X DIR, -k FILE, -y, -w NAME
 * and -B DIR. Either identities are checked (-y, -k; -w and -B name
 * identities on top), and then a client without one gets nothing, or
 * there are none at all (-X alone: encrypted, anonymous clients). A
 * combination that would let a client without an identity past the
 * checks, or whose flags would do nothing, is refused at start-up with
 * the flags named and the fix. Pure. */
#ifndef NBDD_TLSFLAGS_H
#define NBDD_TLSFLAGS_H

#include <stddef.h>

#include "nbdd/options.h"

#define TLSFLAGS_MODE_UNSET	(-1)

struct tls_flags {
	int mode;			/* -x: an enum opt_tls, or
					 * TLSFLAGS_MODE_UNSET */
	int x509;			/* -X given */
	int psk;			/* -k given */
	int verify;			/* -y */
	const char *const *admins;	/* -w */
	size_t nadmins;
	int boot_dir;			/* -B given */
};

/* -x's argument into *mode: NULL, or why not. */
const char *tlsflags_mode(const char *arg, int *mode);

/* Whether NAME may be given to -w: NULL, or why not. */
const char *tlsflags_admin(const char *name);

/* NULL when the flags make sense together, with the mode to run in put
 * in *mode (required once credentials are given, unless -x says
 * otherwise) and whether identities are checked in *identities; else a
 * line saying what is wrong and what to do instead. */
const char *tlsflags_check(const struct tls_flags *f, enum opt_tls *mode,
    int *identities);

#endif
