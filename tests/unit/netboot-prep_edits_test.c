/* netboot-prep's edits of the kernel command line, fstab and
 * raspi-firmware's defaults, on the files the distributions ship. */
#include <string.h>

#include "netboot-prep/fstab.h"
#include "netboot-prep/kcmdline.h"
#include "netboot-prep/shvars.h"
#include "tests/unit/check_main.h"

static const struct kcmdline_edit ed = { "192.168.0.4", "lab", 2 };

static void
rewrite_ok(const char *in, const char *want, const char *want_removed)
{
	char out[KCMDLINE_MAX], removed[KCMDLINE_MAX], again[KCMDLINE_MAX];

	ck_assert_int_eq(kcmdline_rewrite(in, strlen(in), &ed, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_OK);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(removed, want_removed);
	ck_assert(kcmdline_has(out, strlen(out), &ed));
	/* Its own output again: no change. */
	ck_assert_int_eq(kcmdline_rewrite(out, strlen(out), &ed, again,
	    sizeof(again), removed, sizeof(removed)), KCMDLINE_OK);
	ck_assert_str_eq(again, out);
	ck_assert_str_eq(removed, "");
}

START_TEST(raspios_bookworm)
{
	rewrite_ok("console=serial0,115200 console=tty1 "
	    "root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes "
	    "rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot "
	    "cfg80211.ieee80211_regdom=GB\n",
	    "console=serial0,115200 console=tty1 root=/dev/nbd0p2 "
	    "nbdroot=192.168.0.4/lab ip=dhcp rootfstype=ext4 "
	    "fsck.repair=yes rootwait quiet cfg80211.ieee80211_regdom=GB\n",
	    "init=/usr/lib/raspberrypi-sys-mods/firstboot");
}
END_TEST

START_TEST(raspios_trixie_resize)
{
	rewrite_ok("console=serial0,115200 console=tty1 "
	    "root=PARTUUID=a1b2c3d4-02 rootfstype=ext4 fsck.repair=yes "
	    "rootwait resize quiet splash plymouth.ignore-serial-consoles\n",
	    "console=serial0,115200 console=tty1 root=/dev/nbd0p2 "
	    "nbdroot=192.168.0.4/lab ip=dhcp rootfstype=ext4 "
	    "fsck.repair=yes rootwait quiet splash "
	    "plymouth.ignore-serial-consoles\n", "resize");
}
END_TEST

START_TEST(ubuntu)
{
	rewrite_ok("console=serial0,115200 dwc_otg.lpm_enable=0 console=tty1 "
	    "root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet "
	    "splash\n",
	    "console=serial0,115200 dwc_otg.lpm_enable=0 console=tty1 "
	    "root=/dev/nbd0p2 nbdroot=192.168.0.4/lab ip=dhcp rootfstype=ext4 "
	    "rootwait fixrtc quiet splash\n", "");
}
END_TEST

START_TEST(debian_raspi_firmware)
{
	/* What z50-raspi-firmware writes, and then with our extra line. */
	rewrite_ok("console=tty0 console=ttyS1,115200 root=LABEL=RASPIROOT rw "
	    "fsck.repair=yes net.ifnames=0  rootwait\n",
	    "console=tty0 console=ttyS1,115200 root=/dev/nbd0p2 "
	    "nbdroot=192.168.0.4/lab ip=dhcp rw fsck.repair=yes "
	    "net.ifnames=0 rootwait\n", "");
}
END_TEST

START_TEST(old_nbd_words_replaced)
{
	rewrite_ok("ip=none root=/dev/mmcblk0p2 nbdroot=10.0.0.1/old "
	    "nbddev=/dev/nbd1 rootwait",
	    "root=/dev/nbd0p2 nbdroot=192.168.0.4/lab ip=dhcp rootwait\n", "");
	/* No root= at all: ours go at the end. */
	rewrite_ok("console=tty1 rootwait",
	    "console=tty1 rootwait root=/dev/nbd0p2 nbdroot=192.168.0.4/lab "
	    "ip=dhcp\n", "");
}
END_TEST

START_TEST(extra_cmdline_without_root)
{
	struct kcmdline_edit ex = { "192.168.0.4", "lab", 0 };
	char out[KCMDLINE_MAX], removed[KCMDLINE_MAX];

	ck_assert_int_eq(kcmdline_rewrite("cma=64M nbdroot=1.2.3.4/x\n", 26,
	    &ex, out, sizeof(out), removed, sizeof(removed)), KCMDLINE_OK);
	ck_assert_str_eq(out, "cma=64M nbdroot=192.168.0.4/lab ip=dhcp\n");
	/* None yet: ours alone. */
	ck_assert_int_eq(kcmdline_rewrite("", 0, &ex, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_OK);
	ck_assert_str_eq(out, "nbdroot=192.168.0.4/lab ip=dhcp\n");
}
END_TEST

START_TEST(cmdline_bad)
{
	char out[64], removed[64];

	ck_assert_int_eq(kcmdline_rewrite("", 0, &ed, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_BAD);
	ck_assert_int_eq(kcmdline_rewrite(" \n\n", 3, &ed, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_BAD);
	ck_assert_int_eq(kcmdline_rewrite("a\001b", 3, &ed, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_BAD);
	ck_assert_int_eq(kcmdline_rewrite("console=tty1 rootwait quiet splash "
	    "plymouth.ignore-serial-consoles", 64, &ed, out, sizeof(out),
	    removed, sizeof(removed)), KCMDLINE_TOO_LONG);
}
END_TEST

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
	ck_assert_int_eq(shvar_set("A=1\0\n", 5, "ROOTPART", "x", out,
	    sizeof(out)), -1);
}
END_TEST

START_TEST(raspi_firmware_defaults)
{
	char out[1024];
	const char *stock = "# Set the root partition\n#ROOTPART=/dev/mmcblk0p2\n"
	    "\n#CONSOLES=\"ttyS1,115200 tty0\"\n";

	ck_assert_int_eq(shvar_set(stock, strlen(stock), "ROOTPART",
	    "/dev/nbd0p2", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "# Set the root partition\n"
	    "ROOTPART=\"/dev/nbd0p2\"\n\n#CONSOLES=\"ttyS1,115200 tty0\"\n");
	/* A live assignment wins; later ones are commented out. */
	const char *live = "#ROOTPART=/dev/sda2\nROOTPART=LABEL=RASPIROOT\n"
	    "ROOTPART=x\n";
	ck_assert_int_eq(shvar_set(live, strlen(live), "ROOTPART",
	    "/dev/nbd0p2", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "#ROOTPART=/dev/sda2\nROOTPART=\"/dev/nbd0p2\"\n"
	    "#ROOTPART=x\n");
	/* None: appended. */
	ck_assert_int_eq(shvar_set("CMA=64M", 7, "ROOTPART", "/dev/nbd0p2",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "CMA=64M\nROOTPART=\"/dev/nbd0p2\"\n");
	ck_assert_int_eq(shvar_set("", 0, "ROOTPART", "/dev/nbd0p2", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "ROOTPART=\"/dev/nbd0p2\"\n");
	/* ROOTPARTX is another variable. */
	ck_assert_int_eq(shvar_set("ROOTPARTX=1\n", 12, "ROOTPART", "a", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "ROOTPARTX=1\nROOTPART=\"a\"\n");
	ck_assert_int_eq(shvar_set(stock, strlen(stock), "ROOTPART", "a", out,
	    8), -1);
}
END_TEST

static Suite *
edits_suite(void)
{
	Suite *s = suite_create("netboot-prep edits");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, raspios_bookworm);
	tcase_add_test(tc, raspios_trixie_resize);
	tcase_add_test(tc, ubuntu);
	tcase_add_test(tc, debian_raspi_firmware);
	tcase_add_test(tc, old_nbd_words_replaced);
	tcase_add_test(tc, extra_cmdline_without_root);
	tcase_add_test(tc, cmdline_bad);
	tcase_add_test(tc, fstab_distributions);
	tcase_add_test(tc, fstab_no_root);
	tcase_add_test(tc, raspi_firmware_defaults);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(edits_suite)
