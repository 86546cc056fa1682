#include <stdio.h>
#include <string.h>

#include "common/bootname.h"
#include "common/piid.h"
#include "nbdd/tlsauth.h"

static int
same_image(const struct image_id *a, const struct image_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static int
is_admin(const struct tlsauth_policy *p, const char *identity)
{
	for (size_t i = 0; i < p->nadmins; i++)
		if (strcmp(p->admins[i], identity) == 0)
			return 1;
	return 0;
}

/* What an entry says about the export: allowed, or the refusal to give
 * when it points elsewhere or at no image. */
static enum tlsauth_result
by_entry(enum tlsauth_entry e, const struct image_id *entry_id,
    const struct image_id *export_id, enum tlsauth_rule allow,
    enum tlsauth_rule elsewhere, enum tlsauth_rule not_image,
    enum tlsauth_rule broken, enum tlsauth_rule *rule)
{
	if (e == TLSAUTH_ENTRY_IMAGE && same_image(entry_id, export_id)) {
		*rule = allow;
		return TLSAUTH_OK;
	}
	if (e == TLSAUTH_ENTRY_IMAGE)
		*rule = elsewhere;
	else if (e == TLSAUTH_ENTRY_BROKEN)
		*rule = broken;
	else
		*rule = not_image;
	return TLSAUTH_REFUSED;
}

int
tlsauth_name_reserved(const char *name)
{
	return strcmp(name, TLSAUTH_DEFAULT_ENTRY) == 0;
}

enum tlsauth_result
tlsauth_decide(const struct tlsauth_policy *p, const char *identity,
    const char *export_name, const struct image_id *export_id,
    enum tlsauth_rule *rule)
{
	struct image_id id;
	enum tlsauth_entry e;

	if (identity == NULL) {
		*rule = p->identities ? TLSAUTH_NO_IDENTITY : TLSAUTH_ANONYMOUS;
		return p->identities ? TLSAUTH_REFUSED : TLSAUTH_OK;
	}
	/* A name that could not be an entry or an export matches nothing,
	 * not even an administrator's name given with odd bytes in it. */
	if (!plain_name_valid(identity, strlen(identity))) {
		*rule = TLSAUTH_BAD_IDENTITY;
		return TLSAUTH_REFUSED;
	}
	/* Its entry would be the default entry, and its export the one
	 * named default: what every Pi without an entry boots. */
	if (tlsauth_name_reserved(identity)) {
		*rule = TLSAUTH_RESERVED;
		return TLSAUTH_REFUSED;
	}
	if (is_admin(p, identity)) {
		*rule = TLSAUTH_ADMIN;
		return TLSAUTH_OK;
	}
	if (strcmp(identity, export_name) == 0) {
		*rule = TLSAUTH_SAME_NAME;
		return TLSAUTH_OK;
	}
	memset(&id, 0, sizeof(id));
	e = p->lookup(p->lookup_ctx, identity, &id);
	if (e != TLSAUTH_ENTRY_NONE)
		return by_entry(e, &id, export_id, TLSAUTH_ENTRY,
		    TLSAUTH_ENTRY_ELSEWHERE, TLSAUTH_ENTRY_NOT_IMAGE,
		    TLSAUTH_ENTRY_IS_BROKEN, rule);
	/* No entry of its own: a Pi boots the default entry, so that is
	 * the root it may have. Any other name (a laptop's) gets nothing
	 * from default, as tftpd gives it nothing. */
	if (!piid_names_machine(identity, strlen(identity))) {
		*rule = TLSAUTH_NOT_A_PI;
		return TLSAUTH_REFUSED;
	}
	memset(&id, 0, sizeof(id));
	e = p->lookup(p->lookup_ctx, TLSAUTH_DEFAULT_ENTRY, &id);
	if (e == TLSAUTH_ENTRY_NONE) {
		*rule = TLSAUTH_NO_ENTRY;
		return TLSAUTH_REFUSED;
	}
	return by_entry(e, &id, export_id, TLSAUTH_DEFAULT,
	    TLSAUTH_DEFAULT_ELSEWHERE, TLSAUTH_DEFAULT_NOT_IMAGE,
	    TLSAUTH_DEFAULT_IS_BROKEN, rule);
}

int
tlsauth_describe(enum tlsauth_rule rule, const char *identity, char *buf,
    size_t len)
{
	const char *id = identity != NULL &&
	    plain_name_valid(identity, strlen(identity)) ? identity : "?";

	switch (rule) {
	case TLSAUTH_ANONYMOUS:
		return snprintf(buf, len, "no TLS identity to check");
	case TLSAUTH_NO_IDENTITY:
		return snprintf(buf, len, "the client has no TLS identity (no "
		    "client certificate or PSK user), and this server opens "
		    "nothing without one");
	case TLSAUTH_RESERVED:
		return snprintf(buf, len, "identity %s is the name of the "
		    "boot entry of Pis without one of their own, never a "
		    "client's: it opens nothing", id);
	case TLSAUTH_ADMIN:
		return snprintf(buf, len, "identity %s is an administrator's "
		    "(-w)", id);
	case TLSAUTH_SAME_NAME:
		return snprintf(buf, len, "the export is named like identity "
		    "%s", id);
	case TLSAUTH_ENTRY:
		return snprintf(buf, len, "boot entry %s points at its image",
		    id);
	case TLSAUTH_DEFAULT:
		return snprintf(buf, len, "identity %s has no boot entry and "
		    "the default entry points at its image", id);
	case TLSAUTH_BAD_IDENTITY:
		return snprintf(buf, len, "the TLS identity is not a plain "
		    "name, so it can name no boot entry or export");
	case TLSAUTH_ENTRY_ELSEWHERE:
		return snprintf(buf, len, "boot entry %s points at another "
		    "image, and no export is named %s", id, id);
	case TLSAUTH_ENTRY_NOT_IMAGE:
		return snprintf(buf, len, "boot entry %s is not an image, and "
		    "no export is named %s", id, id);
	case TLSAUTH_ENTRY_IS_BROKEN:
		return snprintf(buf, len, "boot entry %s is broken, so it "
		    "boots nothing (nbdd's log says why), and no export is "
		    "named %s", id, id);
	case TLSAUTH_DEFAULT_ELSEWHERE:
		return snprintf(buf, len, "identity %s has no boot entry, the "
		    "default entry points at another image, and no export is "
		    "named %s", id, id);
	case TLSAUTH_DEFAULT_NOT_IMAGE:
		return snprintf(buf, len, "identity %s has no boot entry, the "
		    "default entry is not an image, and no export is named %s",
		    id, id);
	case TLSAUTH_DEFAULT_IS_BROKEN:
		return snprintf(buf, len, "identity %s has no boot entry, the "
		    "default entry is broken (nbdd's log says why), and no "
		    "export is named %s", id, id);
	case TLSAUTH_NO_ENTRY:
		return snprintf(buf, len, "identity %s has no boot entry, "
		    "there is no default entry, and no export is named %s", id,
		    id);
	case TLSAUTH_NOT_A_PI:
		return snprintf(buf, len, "identity %s has no boot entry, is "
		    "not named like a Pi (a serial or MAC entry) to boot the "
		    "default entry, and no export is named %s", id, id);
	}
	return snprintf(buf, len, "unknown rule");
}

/* A client certificate must say so. An extended key usage that does not
 * list clientAuth keeps the certificate to its other uses (RFC 5280),
 * and a server's certificate from the same CA is one of those. A
 * certificate with no extended key usage at all is, to RFC 5280, good
 * for anything; but it is also what a sloppy CA gives its servers, and
 * TLS clients take it as a server's: nothing in it says a client holds
 * it, so it is no identity either. certtool's tls_www_client (openssl's
 * extendedKeyUsage = clientAuth) makes one that is. */
enum tlsauth_cert
tlsauth_cert_purpose(size_t npurposes, int client_auth)
{
	if (npurposes == 0)
		return TLSAUTH_CERT_NO_PURPOSE;
	return client_auth ? TLSAUTH_CERT_CLIENT : TLSAUTH_CERT_NOT_CLIENT;
}

const char *
tlsauth_cert_describe(enum tlsauth_cert c)
{
	switch (c) {
	case TLSAUTH_CERT_CLIENT:
		return "a client certificate";
	case TLSAUTH_CERT_NO_PURPOSE:
		return "the client's certificate has no extended key usage, so "
		    "nothing says it is a client's: issue it for TLS client "
		    "authentication (clientAuth; certtool's tls_www_client)";
	case TLSAUTH_CERT_NOT_CLIENT:
		return "the client's certificate is not for TLS client "
		    "authentication (its extended key usage lacks clientAuth; "
		    "a server's certificate is no identity): issue it with "
		    "certtool's tls_www_client";
	}
	return "unknown";
}

enum tlsauth_ca
tlsauth_ca_check(int version, int ca, int cert_sign)
{
	if (version == 1)
		return TLSAUTH_CA_OK;
	if (ca == 0)
		return TLSAUTH_CA_NOT_CA;
	if (ca < 0)
		return TLSAUTH_CA_NO_CONSTRAINTS;
	if (cert_sign == 0)
		return TLSAUTH_CA_CANNOT_SIGN;
	return TLSAUTH_CA_OK;
}

const char *
tlsauth_ca_describe(enum tlsauth_ca c)
{
	switch (c) {
	case TLSAUTH_CA_OK:
		return "a CA";
	case TLSAUTH_CA_NOT_CA:
		return "not a CA (basic constraints CA:FALSE), so every "
		    "client certificate it signed would be refused: make "
		    "the CA with \"ca\" and \"cert_signing_key\" in its "
		    "certtool template, then sign the server's and the "
		    "clients' certificates with it again";
	case TLSAUTH_CA_NO_CONSTRAINTS:
		return "not a CA (no basic constraints), so every client "
		    "certificate it signed would be refused: make the CA "
		    "with \"ca\" and \"cert_signing_key\" in its certtool "
		    "template, then sign the server's and the clients' "
		    "certificates with it again";
	case TLSAUTH_CA_CANNOT_SIGN:
		return "a CA whose key usage does not allow signing "
		    "certificates, so every client certificate it signed "
		    "would be refused: add \"cert_signing_key\" to its "
		    "certtool template, then sign the server's and the "
		    "clients' certificates with it again";
	}
	return "unknown";
}
