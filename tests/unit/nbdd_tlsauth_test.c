/* Who may open which export over TLS: every combination of identity,
 * the identity's boot entry and the default entry against the rule
 * (nbdd/tlsauth.h), then the same rule over a real boot directory
 * (bootentry.c) and real exports (export.c). */
#include <sys/stat.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bootdir.h"
#include "nbdd/bootentry.h"
#include "nbdd/export.h"
#include "nbdd/tlsauth.h"
#include "tests/unit/check_main.h"

/* --- a fake boot directory ------------------------------------------- */

enum fake_state { F_NONE, F_DIR, F_SAME, F_OTHER, F_BROKEN, F_STATES };

static const struct image_id export_id = { 8, 1234 };
static const struct image_id other_id = { 8, 999 };

struct fake_dir {
	const char *entry_name;		/* the identity's entry */
	enum fake_state entry;
	enum fake_state dflt;
	int calls;
	char asked[2][64];
};

static enum tlsauth_entry
fake_state_entry(enum fake_state st, struct image_id *id)
{
	switch (st) {
	case F_DIR:
		return TLSAUTH_ENTRY_OTHER;
	case F_BROKEN:
		return TLSAUTH_ENTRY_BROKEN;
	case F_SAME:
		*id = export_id;
		return TLSAUTH_ENTRY_IMAGE;
	case F_OTHER:
		*id = other_id;
		return TLSAUTH_ENTRY_IMAGE;
	default:
		return TLSAUTH_ENTRY_NONE;
	}
}

static enum tlsauth_entry
fake_lookup(void *ctx, const char *name, struct image_id *id)
{
	struct fake_dir *d = ctx;

	ck_assert_msg(plain_name_valid(name, strlen(name)),
	    "lookup asked for a name that is not plain");
	ck_assert_int_lt(d->calls, 2);
	strlcpy(d->asked[d->calls++], name, sizeof(d->asked[0]));
	if (strcmp(name, TLSAUTH_DEFAULT_ENTRY) == 0)
		return fake_state_entry(d->dflt, id);
	if (d->entry_name != NULL && strcmp(name, d->entry_name) == 0)
		return fake_state_entry(d->entry, id);
	return TLSAUTH_ENTRY_NONE;
}

static const char *const admins[] = { "admin-laptop", "backup" };

static enum tlsauth_result
decide(struct fake_dir *d, const char *identity, const char *export_name,
    enum tlsauth_rule *rule)
{
	struct tlsauth_policy p = {
		.admins = admins, .nadmins = 2,
		.lookup = fake_lookup, .lookup_ctx = d,
	};

	*rule = (enum tlsauth_rule)-1;
	return tlsauth_decide(&p, identity, export_name, &export_id, rule);
}

/* The rule, written out: for an identity that is neither an
 * administrator's nor the export's name. */
static void
expected(enum fake_state entry, enum fake_state dflt,
    enum tlsauth_result *res, enum tlsauth_rule *rule)
{
	static const enum tlsauth_rule by_entry[F_STATES] = {
		[F_DIR] = TLSAUTH_ENTRY_NOT_IMAGE,
		[F_SAME] = TLSAUTH_ENTRY,
		[F_OTHER] = TLSAUTH_ENTRY_ELSEWHERE,
		[F_BROKEN] = TLSAUTH_ENTRY_IS_BROKEN,
	};
	static const enum tlsauth_rule by_default[F_STATES] = {
		[F_NONE] = TLSAUTH_NO_ENTRY,
		[F_DIR] = TLSAUTH_DEFAULT_NOT_IMAGE,
		[F_SAME] = TLSAUTH_DEFAULT,
		[F_OTHER] = TLSAUTH_DEFAULT_ELSEWHERE,
		[F_BROKEN] = TLSAUTH_DEFAULT_IS_BROKEN,
	};

	*rule = entry != F_NONE ? by_entry[entry] : by_default[dflt];
	*res = *rule == TLSAUTH_ENTRY || *rule == TLSAUTH_DEFAULT ?
	    TLSAUTH_OK : TLSAUTH_REFUSED;
}

START_TEST(every_entry_and_default)
{
	for (int e = 0; e < F_STATES; e++)
		for (int df = 0; df < F_STATES; df++) {
			struct fake_dir d = { .entry_name = "abcd1234",
			    .entry = e, .dflt = df };
			enum tlsauth_result want_res, res;
			enum tlsauth_rule want_rule, rule;

			expected(e, df, &want_res, &want_rule);
			res = decide(&d, "abcd1234", "jammy", &rule);
			ck_assert_msg(res == want_res && rule == want_rule,
			    "entry %d default %d: got %d/%d, want %d/%d", e,
			    df, res, rule, want_res, want_rule);
			/* The identity's own entry first; default only when
			 * it has none. */
			ck_assert_str_eq(d.asked[0], "abcd1234");
			ck_assert_int_eq(d.calls, e == F_NONE ? 2 : 1);
			if (e == F_NONE)
				ck_assert_str_eq(d.asked[1], "default");
		}
}
END_TEST

START_TEST(admins_and_same_name_need_no_entry)
{
	for (int e = 0; e < F_STATES; e++)
		for (int df = 0; df < F_STATES; df++) {
			struct fake_dir d = { .entry_name = "backup",
			    .entry = e, .dflt = df };
			enum tlsauth_rule rule;

			ck_assert_int_eq(decide(&d, "backup", "jammy", &rule),
			    TLSAUTH_OK);
			ck_assert_int_eq(rule, TLSAUTH_ADMIN);
			ck_assert_int_eq(d.calls, 0);

			d = (struct fake_dir){ .entry_name = "jammy",
			    .entry = e, .dflt = df };
			ck_assert_int_eq(decide(&d, "jammy", "jammy", &rule),
			    TLSAUTH_OK);
			ck_assert_int_eq(rule, TLSAUTH_SAME_NAME);
			ck_assert_int_eq(d.calls, 0);
		}
}
END_TEST

/* default is a Pi's fallback only: other names without an entry get
 * nothing from it, and it is not even looked up for them. */
START_TEST(default_only_for_a_pis_name)
{
	static const char *const pis[] = { "abcd1234", "12345678",
	    "dc-a6-32-01-36-c2", "DC-A6-32-01-36-C2" };
	static const char *const others[] = { "laptop", "admin2",
	    "abcd12345", "abcd123", "dc:a6:32:01:36:c2", "workstation-7",
	    "pi-kitchen" };
	enum tlsauth_rule rule;

	for (size_t i = 0; i < sizeof(pis) / sizeof(pis[0]); i++) {
		struct fake_dir d = { .entry_name = NULL, .dflt = F_SAME };

		ck_assert_int_eq(decide(&d, pis[i], "jammy", &rule),
		    TLSAUTH_OK);
		ck_assert_int_eq(rule, TLSAUTH_DEFAULT);
		ck_assert_int_eq(d.calls, 2);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		for (int df = 0; df < F_STATES; df++) {
			struct fake_dir d = { .entry_name = NULL,
			    .dflt = df };

			ck_assert_int_eq(decide(&d, others[i], "jammy",
			    &rule), TLSAUTH_REFUSED);
			ck_assert_int_eq(rule, TLSAUTH_NOT_A_PI);
			ck_assert_int_eq(d.calls, 1);
			ck_assert_str_eq(d.asked[0], others[i]);
		}
		/* Its own entry still counts, whatever its name. */
		struct fake_dir d = { .entry_name = others[i],
		    .entry = F_SAME, .dflt = F_OTHER };

		ck_assert_int_eq(decide(&d, others[i], "jammy", &rule),
		    TLSAUTH_OK);
		ck_assert_int_eq(rule, TLSAUTH_ENTRY);
	}
}
END_TEST

/* -X alone: every session is anonymous, and opens everything. */
START_TEST(no_identity_is_not_checked)
{
	struct fake_dir d = { .entry_name = NULL };
	enum tlsauth_rule rule;

	ck_assert_int_eq(decide(&d, NULL, "jammy", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_ANONYMOUS);
	ck_assert_int_eq(d.calls, 0);
}
END_TEST

/* Where identities are checked (-y, -k), a session without one (an
 * anonymous certificate client) opens nothing, whatever the layout. */
START_TEST(no_identity_where_identities_are_checked)
{
	for (int df = 0; df < F_STATES; df++) {
		struct fake_dir d = { .entry_name = NULL, .dflt = df };
		struct tlsauth_policy p = {
			.identities = 1, .admins = admins, .nadmins = 2,
			.lookup = fake_lookup, .lookup_ctx = &d,
		};
		enum tlsauth_rule rule;
		char why[256];

		ck_assert_int_eq(tlsauth_decide(&p, NULL, "jammy", &export_id,
		    &rule), TLSAUTH_REFUSED);
		ck_assert_int_eq(rule, TLSAUTH_NO_IDENTITY);
		ck_assert_int_eq(d.calls, 0);
		tlsauth_describe(rule, NULL, why, sizeof(why));
		ck_assert_ptr_nonnull(strstr(why, "no TLS identity"));
	}
}
END_TEST

/* "default" is the entry of the Pis without one, not a client: a
 * certificate or PSK user of that name opens neither what the default
 * entry points at nor the export named default, nor anything as an
 * administrator's name. */
START_TEST(default_is_no_identity)
{
	static const char *const with_default[] = { "admin", "default" };

	for (int e = 0; e < F_STATES; e++) {
		struct fake_dir d = { .entry_name = "default", .entry = e,
		    .dflt = e };
		struct tlsauth_policy p = {
			.identities = 1, .admins = with_default, .nadmins = 2,
			.lookup = fake_lookup, .lookup_ctx = &d,
		};
		enum tlsauth_rule rule;
		char why[256];

		ck_assert_int_eq(tlsauth_decide(&p, "default", "default",
		    &export_id, &rule), TLSAUTH_REFUSED);
		ck_assert_int_eq(rule, TLSAUTH_RESERVED);
		ck_assert_int_eq(tlsauth_decide(&p, "default", "jammy",
		    &export_id, &rule), TLSAUTH_REFUSED);
		ck_assert_int_eq(rule, TLSAUTH_RESERVED);
		ck_assert_int_eq(d.calls, 0);
		tlsauth_describe(rule, "default", why, sizeof(why));
		ck_assert_ptr_nonnull(strstr(why, "identity default"));
	}
	ck_assert(tlsauth_name_reserved("default"));
	ck_assert(!tlsauth_name_reserved("Default"));
	ck_assert(!tlsauth_name_reserved("defaults"));
	ck_assert(!tlsauth_name_reserved("abcd1234"));
}
END_TEST

/* Only a certificate that lists TLS client authentication among its
 * purposes is an identity: not one for other purposes only (a server's),
 * nor one that lists none. */
START_TEST(client_certificates_only)
{
	ck_assert_int_eq(tlsauth_cert_purpose(1, 1), TLSAUTH_CERT_CLIENT);
	ck_assert_int_eq(tlsauth_cert_purpose(3, 1), TLSAUTH_CERT_CLIENT);
	ck_assert_int_eq(tlsauth_cert_purpose(1, 0), TLSAUTH_CERT_NOT_CLIENT);
	ck_assert_int_eq(tlsauth_cert_purpose(4, 0), TLSAUTH_CERT_NOT_CLIENT);
	ck_assert_int_eq(tlsauth_cert_purpose(0, 0), TLSAUTH_CERT_NO_PURPOSE);
	ck_assert_ptr_nonnull(strstr(tlsauth_cert_describe(
	    TLSAUTH_CERT_NOT_CLIENT), "clientAuth"));
	ck_assert_ptr_nonnull(strstr(tlsauth_cert_describe(
	    TLSAUTH_CERT_NO_PURPOSE), "no extended key usage"));
	ck_assert_ptr_nonnull(strstr(tlsauth_cert_describe(
	    TLSAUTH_CERT_NO_PURPOSE), "tls_www_client"));
}
END_TEST

/* The CA file's certificates: only a CA that may sign certificates lets
 * clients in; what certtool makes of a template without "ca" does not. */
START_TEST(ca_file_holds_cas_only)
{
	ck_assert_int_eq(tlsauth_ca_check(3, 1, 1), TLSAUTH_CA_OK);
	ck_assert_int_eq(tlsauth_ca_check(3, 1, -1), TLSAUTH_CA_OK);
	ck_assert_int_eq(tlsauth_ca_check(1, -1, -1), TLSAUTH_CA_OK);
	ck_assert_int_eq(tlsauth_ca_check(3, 0, 0), TLSAUTH_CA_NOT_CA);
	ck_assert_int_eq(tlsauth_ca_check(3, 0, 1), TLSAUTH_CA_NOT_CA);
	ck_assert_int_eq(tlsauth_ca_check(3, -1, 1),
	    TLSAUTH_CA_NO_CONSTRAINTS);
	ck_assert_int_eq(tlsauth_ca_check(3, -1, -1),
	    TLSAUTH_CA_NO_CONSTRAINTS);
	ck_assert_int_eq(tlsauth_ca_check(3, 1, 0), TLSAUTH_CA_CANNOT_SIGN);
	ck_assert_ptr_nonnull(strstr(tlsauth_ca_describe(TLSAUTH_CA_NOT_CA),
	    "CA:FALSE"));
	ck_assert_ptr_nonnull(strstr(tlsauth_ca_describe(TLSAUTH_CA_NOT_CA),
	    "\"ca\" and \"cert_signing_key\""));
	ck_assert_ptr_nonnull(strstr(tlsauth_ca_describe(
	    TLSAUTH_CA_NO_CONSTRAINTS), "not a CA"));
	ck_assert_ptr_nonnull(strstr(tlsauth_ca_describe(
	    TLSAUTH_CA_CANNOT_SIGN), "cert_signing_key"));
}
END_TEST

START_TEST(names_that_are_not_plain_match_nothing)
{
	static const char *const bad[] = {
		"", ".", "..", "a/b", "../jammy", "/", "abcd1234\n",
		"a\tb", "\x7f", "jammy/", "a\x01",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Even when the entry, the default, the export's name and
		 * an administrator's name would all have matched. */
		struct fake_dir d = { .entry_name = bad[i], .entry = F_SAME,
		    .dflt = F_SAME };
		const char *const evil_admins[] = { bad[i] };
		struct tlsauth_policy p = {
			.admins = evil_admins, .nadmins = 1,
			.lookup = fake_lookup, .lookup_ctx = &d,
		};
		enum tlsauth_rule rule;

		ck_assert_int_eq(tlsauth_decide(&p, bad[i], bad[i],
		    &export_id, &rule), TLSAUTH_REFUSED);
		ck_assert_int_eq(rule, TLSAUTH_BAD_IDENTITY);
		ck_assert_int_eq(d.calls, 0);
	}
}
END_TEST

START_TEST(names_match_exactly)
{
	struct fake_dir d = { .entry_name = "abcd1234", .entry = F_SAME,
	    .dflt = F_NONE };
	enum tlsauth_rule rule;

	/* Case, prefixes and suffixes are other names. */
	ck_assert_int_eq(decide(&d, "ABCD1234", "jammy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_NO_ENTRY);
	d.calls = 0;
	ck_assert_int_eq(decide(&d, "abcd123", "jammy", &rule),
	    TLSAUTH_REFUSED);
	d.calls = 0;
	ck_assert_int_eq(decide(&d, "jamm", "jammy", &rule),
	    TLSAUTH_REFUSED);
	d.calls = 0;
	ck_assert_int_eq(decide(&d, "jammy2", "jammy", &rule),
	    TLSAUTH_REFUSED);
	d.calls = 0;
	ck_assert_int_eq(decide(&d, "Backup", "jammy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_ne(rule, TLSAUTH_ADMIN);
	d.calls = 0;
	ck_assert_int_eq(decide(&d, "abcd1234", "jammy", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY);
}
END_TEST

START_TEST(same_image_means_dev_and_inode)
{
	struct fake_dir d = { .entry_name = "abcd1234", .entry = F_SAME };
	struct tlsauth_policy p = { .lookup = fake_lookup, .lookup_ctx = &d };
	struct image_id same_ino_other_dev = { 9, 1234 };
	enum tlsauth_rule rule;

	ck_assert_int_eq(tlsauth_decide(&p, "abcd1234", "x",
	    &same_ino_other_dev, &rule), TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY_ELSEWHERE);
}
END_TEST

START_TEST(descriptions)
{
	char buf[256];

	for (int r = TLSAUTH_ANONYMOUS; r <= TLSAUTH_NOT_A_PI; r++) {
		ck_assert_int_gt(tlsauth_describe(r, "abcd1234", buf,
		    sizeof(buf)), 10);
		ck_assert_ptr_null(strstr(buf, "unknown"));
		if (r != TLSAUTH_ANONYMOUS && r != TLSAUTH_NO_IDENTITY &&
		    r != TLSAUTH_BAD_IDENTITY)
			ck_assert_ptr_nonnull(strstr(buf, "abcd1234"));
	}
	/* A name with control characters is never echoed. */
	tlsauth_describe(TLSAUTH_BAD_IDENTITY, "evil\n\x1b[2J", buf,
	    sizeof(buf));
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_ptr_null(strchr(buf, '\x1b'));
	tlsauth_describe(TLSAUTH_NO_ENTRY, "evil\n", buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_ptr_nonnull(strstr(buf, "?"));
	/* The refusal names no other image. */
	tlsauth_describe(TLSAUTH_ENTRY_ELSEWHERE, "abcd1234", buf,
	    sizeof(buf));
	ck_assert_str_eq(buf, "boot entry abcd1234 points at another image, "
	    "and no export is named abcd1234");
}
END_TEST

/* --- a real layout ------------------------------------------------------ */

static char root[64];
static int rootfd = -1, bootfd = -1;

static void
mkimage(const char *name)
{
	int fd = openat(rootfd, name, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

static void
layout_setup(void)
{
	strlcpy(root, "/tmp/nbdd-tlsauth-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_ge(rootfd = open(root, O_RDONLY | O_DIRECTORY), 0);
	mkimage("jammy.img");
	mkimage("bookworm.img");
	ck_assert_int_eq(mkdirat(rootfd, "boot", 0755), 0);
	ck_assert_int_eq(mkdirat(rootfd, "mnt", 0755), 0);
	ck_assert_int_ge(bootfd = openat(rootfd, "boot",
	    O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(symlinkat("../jammy.img", bootfd, "abcd1234"), 0);
	ck_assert_int_eq(symlinkat("../bookworm.img#2", bootfd,
	    "dc-a6-32-01-36-c2"), 0);
	ck_assert_int_eq(symlinkat("../mnt", bootfd, "dirpi"), 0);
	ck_assert_int_eq(symlinkat("../gone.img", bootfd, "dangling"), 0);
	ck_assert_int_eq(mkfifoat(bootfd, "fifo", 0644), 0);
}

static void
layout_teardown(void)
{
	char cmd[128];

	close(bootfd);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static struct image_id
id_of(const char *name)
{
	struct stat st;

	ck_assert_int_eq(fstatat(rootfd, name, &st, 0), 0);
	return (struct image_id){ st.st_dev, st.st_ino };
}

START_TEST(bootentry_lookups)
{
	struct image_id id, jammy = id_of("jammy.img"),
	    bookworm = id_of("bookworm.img");

	ck_assert_int_eq(bootentry_image(&bootfd, "abcd1234", &id),
	    TLSAUTH_ENTRY_IMAGE);
	ck_assert(id.dev == jammy.dev && id.ino == jammy.ino);
	/* "IMAGE#N" names the image. */
	ck_assert_int_eq(bootentry_image(&bootfd, "dc-a6-32-01-36-c2", &id),
	    TLSAUTH_ENTRY_IMAGE);
	ck_assert(id.dev == bookworm.dev && id.ino == bookworm.ino);
	ck_assert_int_eq(bootentry_image(&bootfd, "dirpi", &id),
	    TLSAUTH_ENTRY_OTHER);
	/* There but broken: never "no entry" (nbdd_bootentry_test). */
	ck_assert_int_eq(bootentry_image(&bootfd, "dangling", &id),
	    TLSAUTH_ENTRY_BROKEN);
	ck_assert_int_eq(bootentry_image(&bootfd, "fifo", &id),
	    TLSAUTH_ENTRY_BROKEN);
	ck_assert_int_eq(bootentry_image(&bootfd, "12345678", &id),
	    TLSAUTH_ENTRY_NONE);
	ck_assert_int_eq(bootentry_image(&bootfd, "default", &id),
	    TLSAUTH_ENTRY_NONE);
}
END_TEST

static enum tlsauth_result
real_decide(const char *identity, const char *export_name,
    enum tlsauth_rule *rule)
{
	struct tlsauth_policy p = { .admins = admins, .nadmins = 2,
	    .lookup = bootentry_image, .lookup_ctx = &bootfd };
	struct export ex;
	const char *why;
	enum tlsauth_result r;
	struct image_id id;

	ck_assert_int_eq(export_open(rootfd, export_name, strlen(export_name),
	    &ex, &why), EXPORT_OK);
	id = (struct image_id){ (uint64_t)ex.dev, (uint64_t)ex.ino };
	r = tlsauth_decide(&p, identity, export_name, &id, rule);
	export_close(&ex);
	return r;
}

START_TEST(rule_over_real_layout)
{
	enum tlsauth_rule rule;

	ck_assert_int_eq(real_decide("abcd1234", "jammy", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY);
	ck_assert_int_eq(real_decide("abcd1234", "bookworm", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY_ELSEWHERE);
	ck_assert_int_eq(real_decide("dc-a6-32-01-36-c2", "bookworm", &rule),
	    TLSAUTH_OK);
	ck_assert_int_eq(real_decide("dirpi", "jammy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY_NOT_IMAGE);
	ck_assert_int_eq(real_decide("12345678", "jammy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_NO_ENTRY);

	/* Re-pointing the entry moves the right with it, at once. */
	ck_assert_int_eq(unlinkat(bootfd, "abcd1234", 0), 0);
	ck_assert_int_eq(symlinkat("../bookworm.img", bootfd, "abcd1234"),
	    0);
	ck_assert_int_eq(real_decide("abcd1234", "bookworm", &rule),
	    TLSAUTH_OK);
	ck_assert_int_eq(real_decide("abcd1234", "jammy", &rule),
	    TLSAUTH_REFUSED);

	/* A Pi without an entry may have what default boots. */
	ck_assert_int_eq(symlinkat("../jammy.img", bootfd, "default"), 0);
	ck_assert_int_eq(real_decide("12345678", "jammy", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_DEFAULT);
	ck_assert_int_eq(real_decide("12345678", "bookworm", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_DEFAULT_ELSEWHERE);
	/* ... but one with an entry does not get default's too. */
	ck_assert_int_eq(real_decide("abcd1234", "jammy", &rule),
	    TLSAUTH_REFUSED);

	/* An export symlinked to another's image is that image. */
	ck_assert_int_eq(symlinkat("jammy.img", rootfd, "alias.img"), 0);
	ck_assert_int_eq(real_decide("12345678", "alias", &rule), TLSAUTH_OK);
	/* A copy is not. */
	mkimage("copy.img");
	ck_assert_int_eq(real_decide("12345678", "copy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(real_decide("backup", "copy", &rule), TLSAUTH_OK);
	ck_assert_int_eq(real_decide("copy", "copy", &rule), TLSAUTH_OK);

	/* A client named default has neither what default points at nor
	 * the export named default. */
	mkimage("default.img");
	ck_assert_int_eq(real_decide("default", "jammy", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_RESERVED);
	ck_assert_int_eq(real_decide("default", "default", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_RESERVED);
}
END_TEST

static Suite *
tlsauth_suite(void)
{
	Suite *s = suite_create("nbdd_tlsauth");
	TCase *tc = tcase_create("rule");
	TCase *real = tcase_create("layout");

	tcase_add_test(tc, every_entry_and_default);
	tcase_add_test(tc, admins_and_same_name_need_no_entry);
	tcase_add_test(tc, default_only_for_a_pis_name);
	tcase_add_test(tc, no_identity_is_not_checked);
	tcase_add_test(tc, no_identity_where_identities_are_checked);
	tcase_add_test(tc, default_is_no_identity);
	tcase_add_test(tc, client_certificates_only);
	tcase_add_test(tc, ca_file_holds_cas_only);
	tcase_add_test(tc, names_that_are_not_plain_match_nothing);
	tcase_add_test(tc, names_match_exactly);
	tcase_add_test(tc, same_image_means_dev_and_inode);
	tcase_add_test(tc, descriptions);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(real, layout_setup, layout_teardown);
	tcase_add_test(real, bootentry_lookups);
	tcase_add_test(real, rule_over_real_layout);
	suite_add_tcase(s, real);
	return s;
}

CHECK_MAIN(tlsauth_suite)
