/* A TLS identity whose boot entry is there but broken never opens what
 * default boots: bootentry.c says such an entry is there (OTHER), so the
 * rule (tlsauth.c) refuses it, as tftpd and dhcpproxyd refuse that Pi.
 * Over a real boot directory: an entry that dangles, points the wrong
 * way, loops, leads to a FIFO, or at an image nbdd's user cannot open. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nbdd/bootentry.h"
#include "nbdd/export.h"
#include "nbdd/tlsauth.h"
#include "tests/unit/check_main.h"

static char root[64];
static int rootfd = -1, bootfd = -1;

/* ROOT/lab.img (what default boots), ROOT/pi-05.img, ROOT/boot/:
 *   default -> ../lab.img
 *   aaaa0001 -> ../nosuch.img     dangling
 *   aaaa0005 -> pi-05.img         the wrong way: relative to boot/
 *   aaaa0002 -> aaaa0002          a loop
 *   aaaa0003 -> ../fifo           a FIFO
 *   aaaa0006 -> ../pi-05.img      a good entry
 * and two images in Ceph, dangling on purpose:
 *   pi-07.img -> rbd:pis/pi-07, class.img -> rbd:pis/class@v2
 *   aaaa0007 -> ../pi-07.img, aaaa0008 -> ../class.img */
static void
setup(void)
{
	int fd;

	strlcpy(root, "/tmp/nbdd-bootentry-XXXXXX", sizeof(root));
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_eq(chmod(root, 0755), 0);
	ck_assert_int_ge(rootfd = open(root, O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_ge(fd = openat(rootfd, "lab.img", O_CREAT | O_WRONLY,
	    0644), 0);
	close(fd);
	ck_assert_int_ge(fd = openat(rootfd, "pi-05.img", O_CREAT | O_WRONLY,
	    0644), 0);
	close(fd);
	ck_assert_int_eq(mkfifoat(rootfd, "fifo", 0644), 0);
	ck_assert_int_eq(mkdirat(rootfd, "boot", 0755), 0);
	ck_assert_int_ge(bootfd = openat(rootfd, "boot",
	    O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(symlinkat("../lab.img", bootfd, "default"), 0);
	ck_assert_int_eq(symlinkat("../nosuch.img", bootfd, "aaaa0001"), 0);
	ck_assert_int_eq(symlinkat("pi-05.img", bootfd, "aaaa0005"), 0);
	ck_assert_int_eq(symlinkat("aaaa0002", bootfd, "aaaa0002"), 0);
	ck_assert_int_eq(symlinkat("../fifo", bootfd, "aaaa0003"), 0);
	ck_assert_int_eq(symlinkat("../pi-05.img", bootfd, "aaaa0006"), 0);
	ck_assert_int_eq(symlinkat("rbd:pis/pi-07", rootfd, "pi-07.img"), 0);
	ck_assert_int_eq(symlinkat("rbd:pis/class@v2", rootfd, "class.img"),
	    0);
	ck_assert_int_eq(symlinkat("../pi-07.img", bootfd, "aaaa0007"), 0);
	ck_assert_int_eq(symlinkat("../class.img", bootfd, "aaaa0008"), 0);
}

static void
teardown(void)
{
	char cmd[128];

	close(bootfd);
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static struct image_id
id_of(const char *name)
{
	struct stat st;

	ck_assert_int_eq(fstatat(rootfd, name, &st, 0), 0);
	return (struct image_id){ st.st_dev, st.st_ino };
}

/* The rule over this directory: may identity open the image file? */
static enum tlsauth_result
decide(const char *identity, const char *file, enum tlsauth_rule *rule)
{
	struct tlsauth_policy p = { .admins = NULL, .nadmins = 0,
	    .lookup = bootentry_image, .lookup_ctx = &bootfd };
	struct image_id id = id_of(file);

	return tlsauth_decide(&p, identity, "lab", &id, rule);
}

START_TEST(broken_entry_never_opens_default)
{
	static const char *const broken[] = {
		"aaaa0001", "aaaa0005", "aaaa0002", "aaaa0003",
	};
	enum tlsauth_rule rule;
	struct image_id id;

	/* A Pi without an entry opens what default boots... */
	ck_assert_int_eq(decide("aaaa0009", "lab.img", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_DEFAULT);
	/* ...a Pi whose entry is there but broken does not. */
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		ck_assert_int_eq(bootentry_image(&bootfd, broken[i], &id),
		    TLSAUTH_ENTRY_BROKEN);
		ck_assert_msg(decide(broken[i], "lab.img", &rule) ==
		    TLSAUTH_REFUSED, "%s opened what default boots",
		    broken[i]);
		ck_assert_int_eq(rule, TLSAUTH_ENTRY_IS_BROKEN);
	}
	/* A good entry still opens its own image. */
	ck_assert_int_eq(decide("aaaa0006", "pi-05.img", &rule), TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY);
	/* A broken default opens nothing for a Pi without an entry. */
	ck_assert_int_eq(unlinkat(bootfd, "default", 0), 0);
	ck_assert_int_eq(symlinkat("../gone.img", bootfd, "default"), 0);
	ck_assert_int_eq(decide("aaaa0009", "lab.img", &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(rule, TLSAUTH_DEFAULT_IS_BROKEN);
}
END_TEST

/* An image nbdd's user cannot open is a broken entry too: as root, a
 * child that runs as nobody asks. */
START_TEST(unreadable_image_never_opens_default)
{
	enum tlsauth_rule rule;
	struct image_id id;
	pid_t pid;
	int status;

	ck_assert_int_eq(fchmodat(rootfd, "pi-05.img", 0600, 0), 0);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) == -1)
			_exit(10);
		if (bootentry_image(&bootfd, "aaaa0006", &id) !=
		    TLSAUTH_ENTRY_BROKEN)
			_exit(11);
		if (decide("aaaa0006", "lab.img", &rule) != TLSAUTH_REFUSED)
			_exit(12);
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* An identity bound to an image in Ceph by its boot entry opens that
 * image, named as export.c names it when a client asks, and no other. */
START_TEST(entry_in_ceph)
{
	struct tlsauth_policy p = { .admins = NULL, .nadmins = 0,
	    .lookup = bootentry_image, .lookup_ctx = &bootfd };
	struct export pi07, cls;
	struct image_id id, file = id_of("pi-05.img");
	enum tlsauth_rule rule;
	const char *why;

	ck_assert_int_eq(export_open(rootfd, "pi-07", 5, &pi07, &why),
	    EXPORT_IN_CEPH);
	ck_assert_int_eq(export_open(rootfd, "class", 5, &cls, &why),
	    EXPORT_IN_CEPH);
	ck_assert_int_eq(bootentry_image(&bootfd, "aaaa0007", &id),
	    TLSAUTH_ENTRY_IMAGE);
	ck_assert_uint_eq(id.dev, (uint64_t)pi07.dev);
	ck_assert_uint_eq(id.ino, (uint64_t)pi07.ino);
	/* The snapshot is another image than the one it was taken of. */
	ck_assert_int_eq(bootentry_image(&bootfd, "aaaa0008", &id),
	    TLSAUTH_ENTRY_IMAGE);
	ck_assert_uint_eq(id.ino, (uint64_t)cls.ino);
	ck_assert_uint_ne(id.ino, (uint64_t)pi07.ino);
	id = (struct image_id){ (uint64_t)pi07.dev, (uint64_t)pi07.ino };
	ck_assert_int_eq(tlsauth_decide(&p, "aaaa0007", "pi-07", &id, &rule),
	    TLSAUTH_OK);
	ck_assert_int_eq(rule, TLSAUTH_ENTRY);
	/* Not another Pi's, nor a file's through the Ceph entry. */
	ck_assert_int_eq(tlsauth_decide(&p, "aaaa0006", "pi-07", &id, &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(tlsauth_decide(&p, "aaaa0008", "pi-07", &id, &rule),
	    TLSAUTH_REFUSED);
	ck_assert_int_eq(tlsauth_decide(&p, "aaaa0007", "pi-05", &file,
	    &rule), TLSAUTH_REFUSED);
	export_close(&pi07);
	export_close(&cls);
}
END_TEST

static Suite *
bootentry_suite(void)
{
	Suite *s = suite_create("nbdd_bootentry");
	TCase *tc = tcase_create("broken");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, broken_entry_never_opens_default);
	tcase_add_test(tc, unreadable_image_never_opens_default);
	tcase_add_test(tc, entry_in_ceph);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bootentry_suite)
