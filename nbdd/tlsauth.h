/* layer: pure */
/* Who may open which export over TLS, decided from the layout alone: a
 * client's verified identity (the common name of its client certificate,
 * or its PSK user name) opens
 *
 *   - the export whose image its boot entry points at: BOOT/IDENTITY
 *     and ROOT/NAME.img are the same file (or device), so re-pointing a
 *     Pi's entry moves its right to the root along with its boot files;
 *   - when it has no entry at all and is named like a Pi (a serial,
 *     abcd1234, or a MAC entry, dc-a6-32-01-36-c2), the image that
 *     BOOT/default points at, as that is what such a Pi boots (tftpd
 *     falls back to default for such names only: an administrator's
 *     laptop must not open what default boots);
 *   - the export named IDENTITY itself (a machine that is not a Pi, or a
 *     Pi whose boot files come from a directory);
 *   - every export, when IDENTITY is one of the administrator's (-w).
 *
 * Nothing else. Where identities are checked (-y, -k), a session with
 * none opens nothing; where they are not (-X alone), every session is
 * anonymous and opens everything. No identity is named "default": that
 * is the entry of the Pis without one, not a client, so a certificate or
 * PSK user of that name opens nothing, by any rule.
 *
 * Which certificates are identities is decided here too: only client
 * certificates (tlsauth_cert_purpose).
 *
 * Pure: the boot directory is asked through a callback, the export's
 * identity is passed in; no files, no errno, no logging. */
#ifndef NBDD_TLSAUTH_H
#define NBDD_TLSAUTH_H

#include <stddef.h>
#include <stdint.h>

/* The name of the entry a Pi without an entry of its own boots. */
#define TLSAUTH_DEFAULT_ENTRY	"default"

/* Which file an image is, as struct export has it: a regular file is
 * (st_dev, st_ino); a block device is (0, st_rdev), itself whatever node
 * names it. */
struct image_id {
	uint64_t dev;
	uint64_t ino;
};

enum tlsauth_entry {
	TLSAUTH_ENTRY_IMAGE,	/* an image file or block device: *id set */
	TLSAUTH_ENTRY_OTHER,	/* there, but not an image (a directory of
				 * boot files) */
	TLSAUTH_ENTRY_BROKEN,	/* there, but it boots nothing (dangling, a
				 * FIFO, an image nbdd's user cannot open):
				 * never a reason to fall back to default */
	TLSAUTH_ENTRY_NONE,	/* no such entry */
};

/* Looks up the boot entry NAME (a plain name) and says what it is. */
typedef enum tlsauth_entry (*tlsauth_lookup_fn)(void *ctx, const char *name,
    struct image_id *id);

struct tlsauth_policy {
	int identities;			/* identities are checked (-y, -k) */
	const char *const *admins;	/* identities that open everything */
	size_t nadmins;
	tlsauth_lookup_fn lookup;
	void *lookup_ctx;
};

enum tlsauth_result {
	TLSAUTH_OK,
	TLSAUTH_REFUSED,
};

/* The rule that decided, for the log and the client's error message. */
enum tlsauth_rule {
	TLSAUTH_ANONYMOUS,		/* no identity, and none is checked */
	TLSAUTH_NO_IDENTITY,		/* no identity where they are checked */
	TLSAUTH_RESERVED,		/* named "default" */
	TLSAUTH_ADMIN,			/* an administrator's identity */
	TLSAUTH_SAME_NAME,		/* the export named like the identity */
	TLSAUTH_ENTRY,			/* the image its entry points at */
	TLSAUTH_DEFAULT,		/* no entry: the default entry's image */
	TLSAUTH_BAD_IDENTITY,		/* not a plain name: matches nothing */
	TLSAUTH_ENTRY_ELSEWHERE,	/* its entry points at another image */
	TLSAUTH_ENTRY_NOT_IMAGE,	/* its entry is a directory */
	TLSAUTH_ENTRY_IS_BROKEN,	/* its entry is broken */
	TLSAUTH_DEFAULT_ELSEWHERE,	/* no entry; default points elsewhere */
	TLSAUTH_DEFAULT_NOT_IMAGE,	/* no entry; default is a directory */
	TLSAUTH_DEFAULT_IS_BROKEN,	/* no entry; default is broken */
	TLSAUTH_NO_ENTRY,		/* neither an entry nor a default */
	TLSAUTH_NOT_A_PI,		/* no entry, and not named like a Pi:
					 * default is not its */
};

/* Whether name is one no identity may have: "default". */
int tlsauth_name_reserved(const char *name);

/* Whether identity (NULL for a session without one) may open the export
 * export_name, whose image is export_id (neither is looked at for a
 * session without one). *rule says which rule decided.
 * The lookup is called at most twice (the identity's entry, then
 * "default" for a Pi's name), and never with a name that is not plain. */
enum tlsauth_result tlsauth_decide(const struct tlsauth_policy *p,
    const char *identity, const char *export_name,
    const struct image_id *export_id, enum tlsauth_rule *rule);

/* One line saying why, without the names of other images: "boot entry
 * abcd1234 points at another image". Returns what snprintf returns. */
int tlsauth_describe(enum tlsauth_rule rule, const char *identity,
    char *buf, size_t len);

/* What a client certificate's extended key usage (RFC 5280, 4.2.1.12)
 * makes of it: npurposes is how many purposes it lists (0 when it has
 * no such extension), client_auth whether TLS client authentication
 * (id-kp-clientAuth) is one of them. */
enum tlsauth_cert {
	TLSAUTH_CERT_CLIENT,		/* an identity */
	TLSAUTH_CERT_NO_PURPOSE,	/* says for nothing that it is a
					 * client's */
	TLSAUTH_CERT_NOT_CLIENT,	/* for other uses (a server's) */
};

enum tlsauth_cert tlsauth_cert_purpose(size_t npurposes, int client_auth);

/* Why a certificate is not an identity, for the log: a fixed string. */
const char *tlsauth_cert_describe(enum tlsauth_cert c);

/* Whether a certificate of ca-cert.pem can sign the clients' certificates
 * as GnuTLS verifies them (RFC 5280, 4.2.1.9 and 4.2.1.3): version is
 * its X.509 version; ca is 1 for basic constraints CA:TRUE, 0 for
 * CA:FALSE, -1 when it has none; cert_sign is 1 when its key usage
 * allows signing certificates, 0 when it does not, -1 when it has no key
 * usage (any use). A version 1 certificate has no extensions and is
 * taken as a CA, as GnuTLS takes a trusted one. */
enum tlsauth_ca {
	TLSAUTH_CA_OK,
	TLSAUTH_CA_NOT_CA,		/* CA:FALSE: certtool's template
					 * without "ca" */
	TLSAUTH_CA_NO_CONSTRAINTS,	/* version 3 with no basic
					 * constraints: not a CA */
	TLSAUTH_CA_CANNOT_SIGN,		/* its key usage leaves out
					 * certificate signing */
};

enum tlsauth_ca tlsauth_ca_check(int version, int ca, int cert_sign);

/* What is wrong and the fix, for the line that stops nbdd: a fixed
 * string. */
const char *tlsauth_ca_describe(enum tlsauth_ca c);

#endif
