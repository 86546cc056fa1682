/* netboot-prep's edit of fstab: the root and boot partition lines of
 * each distribution, and the files it refuses. */
#include <string.h>

#include "netboot-prep/fstab.h"
#include "tests/unit/check_main.h"

static void
fstab_ok(const char *in, const char *want, const char *boot_dir)
{
	char out[FSTAB_MAX];
	struct fstab_report rep;

	ck_assert_int_eq(fstab_rewrite(in, strlen(in), 2, 1, out, sizeof(out),
	    &rep), FSTAB_OK);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(rep.boot_dir, boot_dir);
	/* Again: the same. */
	ck_assert_int_eq(fstab_rewrite(want, strlen(want), 2, 1, out,
	    sizeof(out), &rep), FSTAB_OK);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(rep.changed, 0);
}

START_TEST(fstab_distributions)
{
	fstab_ok("proc            /proc           proc    defaults          0       0\n"
	    "PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2\n"
	    "PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1\n"
	    "# a swapfile is not a swap partition, no line here\n",
	    "proc            /proc           proc    defaults          0       0\n"
	    "/dev/nbd0p1  /boot/firmware  vfat    defaults          0       2\n"
	    "/dev/nbd0p2  /               ext4    defaults,noatime  0       1\n"
	    "# a swapfile is not a swap partition, no line here\n",
	    "/boot/firmware");
	fstab_ok("LABEL=writable\t/\text4\tdiscard,errors=remount-ro\t0 1\n"
	    "LABEL=system-boot       /boot/firmware  vfat    defaults        0       1\n",
	    "/dev/nbd0p2\t/\text4\tdiscard,errors=remount-ro\t0 1\n"
	    "/dev/nbd0p1       /boot/firmware  vfat    defaults        0       1\n",
	    "/boot/firmware");
	fstab_ok("LABEL=RASPIROOT / ext4 rw 0 1\n"
	    "LABEL=RASPIFIRM /boot/firmware vfat rw 0 2",
	    "/dev/nbd0p2 / ext4 rw 0 1\n/dev/nbd0p1 /boot/firmware vfat rw 0 2",
	    "/boot/firmware");
}
END_TEST

START_TEST(fstab_no_root)
{
	char out[256];
	struct fstab_report rep;
	const char *in = "# / is mounted by the initramfs\n"
	    "LABEL=x /boot ext4 defaults 0 2\n";

	ck_assert_int_eq(fstab_rewrite(in, strlen(in), 2, 1, out, sizeof(out),
	    &rep), FSTAB_NO_ROOT);
	/* /boot that is not vfat is not the boot partition. */
	ck_assert_int_eq(rep.boot_line, 0);
	ck_assert_int_eq(fstab_rewrite("LABEL=r / ext4 rw 0 1\n", 22, 2, 1,
	    out, 10, &rep), FSTAB_TOO_LONG);
	/* A NUL would cut the file short when it is written back. */
	ck_assert_int_eq(fstab_rewrite("LABEL=r / ext4\0 rw 0 1\n", 23, 2, 1,
	    out, sizeof(out), &rep), FSTAB_BAD);
}
END_TEST

static Suite *
fstab_suite(void)
{
	Suite *s = suite_create("netboot-prep/fstab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fstab_distributions);
	tcase_add_test(tc, fstab_no_root);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fstab_suite)
