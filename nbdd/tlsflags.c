#include <string.h>

#include "common/bootname.h"
#include "nbdd/tlsauth.h"
#include "nbdd/tlsflags.h"

const char *
tlsflags_mode(const char *arg, int *mode)
{
	if (strcmp(arg, "off") == 0)
		*mode = OPT_TLS_OFF;
	else if (strcmp(arg, "allowed") == 0)
		*mode = OPT_TLS_ALLOWED;
	else if (strcmp(arg, "required") == 0)
		*mode = OPT_TLS_REQUIRED;
	else
		return "not off, allowed or required";
	return NULL;
}

const char *
tlsflags_admin(const char *name)
{
	if (!plain_name_valid(name, strlen(name)))
		return "not a plain name (no '/', no control characters)";
	if (tlsauth_name_reserved(name))
		return "default is the boot entry of every Pi without one of "
		    "its own, never a client's name: name the administrator's "
		    "certificate or PSK user otherwise";
	return NULL;
}

const char *
tlsflags_check(const struct tls_flags *f, enum opt_tls *mode,
    int *identities)
{
	int creds = f->x509 || f->psk;
	int named = f->nadmins > 0 || f->boot_dir;

	for (size_t i = 0; i < f->nadmins; i++) {
		if (tlsauth_name_reserved(f->admins[i]))
			return "-w default: default is the boot entry of every "
			    "Pi without one of its own, never a client's name";
		if (tlsflags_admin(f->admins[i]) != NULL)
			return "-w: not a plain name (no '/', no control "
			    "characters)";
	}
	if (f->mode == OPT_TLS_OFF && (creds || f->verify || named))
		return "-x off turns TLS off, so -X, -k, -y, -w and -B would "
		    "do nothing: drop -x off (TLS is then required), or drop "
		    "those flags";
	if (f->mode != TLSFLAGS_MODE_UNSET && f->mode != OPT_TLS_OFF &&
	    !creds)
		return "-x allowed or required needs credentials: -X DIR or "
		    "-k FILE";
	if (f->verify && !f->x509)
		return "-y verifies client certificates: it needs -X DIR";
	if (named && !f->verify && !f->psk)
		return "-w and -B name TLS identities: they need -y (client "
		    "certificates) or -k (PSK users)";
	/* Beside -k every client needs an identity; a certificate client
	 * without -y would have none, and so get nothing. */
	if (f->x509 && f->psk && !f->verify)
		return "-X without -y lets certificate clients in with no "
		    "identity, and beside -k a client without one gets "
		    "nothing: add -y to require client certificates (signed "
		    "by DIR/ca-cert.pem), or drop -X to serve PSK users only";
	/* A client that never starts TLS has no identity either, and in
	 * allowed mode it would open everything. */
	if (f->mode == OPT_TLS_ALLOWED && (f->verify || f->psk))
		return "-x allowed lets a client that does not start TLS open "
		    "every export, past the identities -y and -k check: drop "
		    "-x allowed (with -X or -k, TLS is required)";
	*identities = f->verify || f->psk;
	if (f->mode != TLSFLAGS_MODE_UNSET)
		*mode = (enum opt_tls)f->mode;
	else
		*mode = creds ? OPT_TLS_REQUIRED : OPT_TLS_OFF;
	return NULL;
}

enum tlsflags_boot_dir
tlsflags_boot_dir(const struct tls_flags *f, enum opt_tls mode)
{
	if (mode == OPT_TLS_OFF || (!f->verify && !f->psk))
		return TLSFLAGS_BOOT_DIR_UNUSED;
	return f->boot_dir ? TLSFLAGS_BOOT_DIR_NAMED :
	    TLSFLAGS_BOOT_DIR_DEFAULT;
}
