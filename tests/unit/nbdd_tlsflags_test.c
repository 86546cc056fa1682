/* nbdd's TLS flags taken together (nbdd/tlsflags.h): every combination
 * of -x, -X, -k, -y, -w and -B, against the rule written out: identities
 * are checked, and then nothing lets a client without one past them, or
 * there are none; flags that would do nothing are refused too. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "nbdd/tlsflags.h"
#include "tests/unit/check_main.h"

static const char *const admin[] = { "admin" };

static struct tls_flags
flags(int mode, int x509, int psk, int verify, int w, int b)
{
	return (struct tls_flags){ .mode = mode, .x509 = x509, .psk = psk,
	    .verify = verify, .admins = admin, .nadmins = w ? 1 : 0,
	    .boot_dir = b };
}

/* The rule, written out: NULL and the mode, or a word the refusal must
 * hold. */
static const char *
expected(const struct tls_flags *f, enum opt_tls *mode, int *identities)
{
	int creds = f->x509 || f->psk;
	int named = f->nadmins > 0 || f->boot_dir;

	if (f->mode == OPT_TLS_OFF && (creds || f->verify || named))
		return "-x off";
	if ((f->mode == OPT_TLS_ALLOWED || f->mode == OPT_TLS_REQUIRED) &&
	    !creds)
		return "needs credentials";
	if (f->verify && !f->x509)
		return "-y verifies";
	if (named && !f->verify && !f->psk)
		return "-w and -B";
	if (f->x509 && f->psk && !f->verify)
		return "-X without -y";
	if (f->mode == OPT_TLS_ALLOWED && (f->verify || f->psk))
		return "-x allowed";
	*identities = f->verify || f->psk;
	*mode = f->mode != TLSFLAGS_MODE_UNSET ? (enum opt_tls)f->mode :
	    creds ? OPT_TLS_REQUIRED : OPT_TLS_OFF;
	return NULL;
}

START_TEST(every_combination)
{
	static const int modes[] = { TLSFLAGS_MODE_UNSET, OPT_TLS_OFF,
	    OPT_TLS_ALLOWED, OPT_TLS_REQUIRED };
	int accepted = 0;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (int bits = 0; bits < 32; bits++) {
			struct tls_flags f = flags(modes[m], bits & 1,
			    bits >> 1 & 1, bits >> 2 & 1, bits >> 3 & 1,
			    bits >> 4 & 1);
			enum opt_tls mode = -1, want_mode = -1;
			int ids = -1, want_ids = -1;
			const char *got = tlsflags_check(&f, &mode, &ids);
			const char *want = expected(&f, &want_mode, &want_ids);

			if (want == NULL) {
				ck_assert_msg(got == NULL, "mode %d bits %#x: "
				    "refused: %s", modes[m], bits, got);
				ck_assert_int_eq(mode, want_mode);
				ck_assert_int_eq(ids, want_ids);
				accepted++;
				continue;
			}
			ck_assert_msg(got != NULL, "mode %d bits %#x: accepted",
			    modes[m], bits);
			ck_assert_msg(strstr(got, want) != NULL, "mode %d bits "
			    "%#x: \"%s\" lacks \"%s\"", modes[m], bits, got,
			    want);
		}
	/* No TLS (-x off or nothing); -X alone (anonymous) in each mode
	 * that uses TLS; -k, -X -y and -X -y -k, each with or without -w
	 * and -B, required (given or by default). */
	ck_assert_int_eq(accepted, 2 + 3 + 3 * 4 * 2);
}
END_TEST

/* The combinations that matter, spelled out. */
START_TEST(what_each_means)
{
	struct tls_flags f;
	enum opt_tls mode;
	int ids;

	/* Credentials make TLS required. */
	f = flags(TLSFLAGS_MODE_UNSET, 1, 0, 1, 1, 0);
	ck_assert_ptr_null(tlsflags_check(&f, &mode, &ids));
	ck_assert_int_eq(mode, OPT_TLS_REQUIRED);
	ck_assert_int_eq(ids, 1);
	f = flags(TLSFLAGS_MODE_UNSET, 0, 1, 0, 0, 1);
	ck_assert_ptr_null(tlsflags_check(&f, &mode, &ids));
	ck_assert_int_eq(mode, OPT_TLS_REQUIRED);
	ck_assert_int_eq(ids, 1);
	/* -X alone: encrypted, no identities, in any mode but off. */
	f = flags(OPT_TLS_ALLOWED, 1, 0, 0, 0, 0);
	ck_assert_ptr_null(tlsflags_check(&f, &mode, &ids));
	ck_assert_int_eq(mode, OPT_TLS_ALLOWED);
	ck_assert_int_eq(ids, 0);
	/* Nothing: no TLS. */
	f = flags(TLSFLAGS_MODE_UNSET, 0, 0, 0, 0, 0);
	ck_assert_ptr_null(tlsflags_check(&f, &mode, &ids));
	ck_assert_int_eq(mode, OPT_TLS_OFF);
	/* Issue 22: -X and -k without -y let a client with no
	 * certificate open everything. */
	f = flags(TLSFLAGS_MODE_UNSET, 1, 1, 0, 0, 0);
	ck_assert_ptr_nonnull(strstr(tlsflags_check(&f, &mode, &ids),
	    "add -y"));
	/* Allowed mode beside identities: plaintext opens everything. */
	f = flags(OPT_TLS_ALLOWED, 1, 0, 1, 0, 0);
	ck_assert_ptr_nonnull(strstr(tlsflags_check(&f, &mode, &ids),
	    "does not start TLS"));
	f = flags(OPT_TLS_ALLOWED, 0, 1, 0, 0, 0);
	ck_assert_ptr_nonnull(tlsflags_check(&f, &mode, &ids));
	/* Off, with keys that would then do nothing. */
	f = flags(OPT_TLS_OFF, 1, 0, 0, 0, 0);
	ck_assert_ptr_nonnull(strstr(tlsflags_check(&f, &mode, &ids),
	    "drop -x off"));
}
END_TEST

START_TEST(admins_named_default)
{
	const char *const *names = (const char *const[]){ "admin",
	    "default" };
	struct tls_flags f = flags(TLSFLAGS_MODE_UNSET, 1, 0, 1, 0, 0);
	enum opt_tls mode;
	int ids;

	f.admins = names;
	f.nadmins = 2;
	ck_assert_ptr_nonnull(strstr(tlsflags_check(&f, &mode, &ids),
	    "-w default"));
	names = (const char *const[]){ "a/b" };
	f.admins = names;
	f.nadmins = 1;
	ck_assert_ptr_nonnull(strstr(tlsflags_check(&f, &mode, &ids),
	    "not a plain name"));
	ck_assert_ptr_null(tlsflags_admin("admin"));
	ck_assert_ptr_null(tlsflags_admin("Default"));
	ck_assert_ptr_nonnull(strstr(tlsflags_admin("default"),
	    "never a client's name"));
	ck_assert_ptr_nonnull(tlsflags_admin("a/b"));
	ck_assert_ptr_nonnull(tlsflags_admin(""));
	ck_assert_ptr_nonnull(tlsflags_admin("admin\n"));
}
END_TEST

START_TEST(modes)
{
	int mode = -5;

	ck_assert_ptr_null(tlsflags_mode("off", &mode));
	ck_assert_int_eq(mode, OPT_TLS_OFF);
	ck_assert_ptr_null(tlsflags_mode("allowed", &mode));
	ck_assert_int_eq(mode, OPT_TLS_ALLOWED);
	ck_assert_ptr_null(tlsflags_mode("required", &mode));
	ck_assert_int_eq(mode, OPT_TLS_REQUIRED);
	mode = -5;
	ck_assert_ptr_nonnull(tlsflags_mode("on", &mode));
	ck_assert_ptr_nonnull(tlsflags_mode("", &mode));
	ck_assert_ptr_nonnull(tlsflags_mode("Required", &mode));
	ck_assert_int_eq(mode, -5);
}
END_TEST

/* The boot directory is opened only where identities are checked; a -B
 * that does not open stops nbdd, a missing ROOT/boot is a warning. */
START_TEST(boot_dir_needed)
{
	static const int modes[] = { TLSFLAGS_MODE_UNSET, OPT_TLS_OFF,
	    OPT_TLS_ALLOWED, OPT_TLS_REQUIRED };
	int opened = 0;

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (int bits = 0; bits < 32; bits++) {
			struct tls_flags f = flags(modes[m], bits & 1,
			    bits >> 1 & 1, bits >> 2 & 1, bits >> 3 & 1,
			    bits >> 4 & 1);
			enum tlsflags_boot_dir got, want;
			enum opt_tls mode;
			int ids;

			if (tlsflags_check(&f, &mode, &ids) != NULL)
				continue;
			got = tlsflags_boot_dir(&f, mode);
			if (!ids)
				want = TLSFLAGS_BOOT_DIR_UNUSED;
			else if (f.boot_dir)
				want = TLSFLAGS_BOOT_DIR_NAMED;
			else
				want = TLSFLAGS_BOOT_DIR_DEFAULT;
			ck_assert_msg(got == want, "mode %d bits %#x: %d, not "
			    "%d", modes[m], bits, got, want);
			opened += got != TLSFLAGS_BOOT_DIR_UNUSED;
		}
	/* -k, -X -y and -X -y -k, with or without -w and -B, required. */
	ck_assert_int_eq(opened, 3 * 4 * 2);
	/* Spelled out: -y with -B, -k alone, -X alone, nothing. */
	struct tls_flags f = flags(TLSFLAGS_MODE_UNSET, 1, 0, 1, 0, 1);
	ck_assert_int_eq(tlsflags_boot_dir(&f, OPT_TLS_REQUIRED),
	    TLSFLAGS_BOOT_DIR_NAMED);
	f = flags(TLSFLAGS_MODE_UNSET, 0, 1, 0, 0, 0);
	ck_assert_int_eq(tlsflags_boot_dir(&f, OPT_TLS_REQUIRED),
	    TLSFLAGS_BOOT_DIR_DEFAULT);
	f = flags(TLSFLAGS_MODE_UNSET, 1, 0, 0, 0, 0);
	ck_assert_int_eq(tlsflags_boot_dir(&f, OPT_TLS_REQUIRED),
	    TLSFLAGS_BOOT_DIR_UNUSED);
	f = flags(TLSFLAGS_MODE_UNSET, 0, 0, 0, 0, 0);
	ck_assert_int_eq(tlsflags_boot_dir(&f, OPT_TLS_OFF),
	    TLSFLAGS_BOOT_DIR_UNUSED);
	/* TLS off never opens it, whatever else is set. */
	f = flags(OPT_TLS_OFF, 0, 1, 1, 1, 1);
	ck_assert_int_eq(tlsflags_boot_dir(&f, OPT_TLS_OFF),
	    TLSFLAGS_BOOT_DIR_UNUSED);
}
END_TEST

static Suite *
tlsflags_suite(void)
{
	Suite *s = suite_create("nbdd_tlsflags");
	TCase *tc = tcase_create("flags");

	tcase_add_test(tc, every_combination);
	tcase_add_test(tc, what_each_means);
	tcase_add_test(tc, admins_named_default);
	tcase_add_test(tc, modes);
	tcase_add_test(tc, boot_dir_needed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tlsflags_suite)
