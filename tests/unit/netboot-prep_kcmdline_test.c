/* netboot-prep's edit of the kernel command line, on the files the
 * distributions ship, and the lines it refuses. */
#include <string.h>

#include "netboot-prep/kcmdline.h"
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

static Suite *
kcmdline_suite(void)
{
	Suite *s = suite_create("netboot-prep/kcmdline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, raspios_bookworm);
	tcase_add_test(tc, raspios_trixie_resize);
	tcase_add_test(tc, ubuntu);
	tcase_add_test(tc, debian_raspi_firmware);
	tcase_add_test(tc, old_nbd_words_replaced);
	tcase_add_test(tc, extra_cmdline_without_root);
	tcase_add_test(tc, cmdline_bad);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(kcmdline_suite)
