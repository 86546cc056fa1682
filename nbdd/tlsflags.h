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

/* The boot directory maps identities to images: it is opened only when
 * TLS is on and checks identities (-y or -k). One named with -B must
 * open, or nbdd does not start; the default (ROOT/boot) may be missing,
 * with a warning: identities then open only the exports named like them. */
enum tlsflags_boot_dir {
	TLSFLAGS_BOOT_DIR_UNUSED,	/* not opened at all */
	TLSFLAGS_BOOT_DIR_NAMED,	/* -B: missing is fatal */
	TLSFLAGS_BOOT_DIR_DEFAULT,	/* ROOT/boot: missing is a warning */
};

/* For flags that passed tlsflags_check, and the mode it chose. */
enum tlsflags_boot_dir tlsflags_boot_dir(const struct tls_flags *f,
    enum opt_tls mode);

#endif
