/* Which distribution an image holds, and which initramfs files its
 * config.txt loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/recognise.h"
#include "tests/unit/check_main.h"

START_TEST(recognise_each)
{
	struct image_facts f = { .cmdline_txt = 1, .config_txt = 1 };
	struct recognition r;

	f.os_release = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	    "ID=debian\nVERSION_CODENAME=bookworm\n";
	f.rpi_issue = 1;
	f.sys_mods = 1;
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_RASPIOS);
	ck_assert_str_eq(r.name, "Debian GNU/Linux 12 (bookworm)");
	f.rpi_issue = f.sys_mods = 0;
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_UNKNOWN);
	ck_assert_msg(strstr(r.why, "raspi-firmware") != NULL, "%s", r.why);
	f.raspi_firmware = 1;
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_DEBIAN);
	f.os_release = "NAME=\"Ubuntu\"\nID=ubuntu\nPRETTY_NAME='Ubuntu 24.04.1 "
	    "LTS'\nVERSION_CODENAME=noble\n";
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_UNKNOWN);
	f.flash_kernel = 1;
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_UBUNTU);
	ck_assert_str_eq(r.name, "Ubuntu 24.04.1 LTS");
	f.os_release = "ID=raspbian\nVERSION_CODENAME=bullseye\n";
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_UNKNOWN);
	ck_assert_msg(strstr(r.why, "bookworm") != NULL, "%s", r.why);
	f.os_release = "ID=fedora\n";
	recognise(&f, &r);
	ck_assert_int_eq(r.distro, DISTRO_UNKNOWN);
	ck_assert_msg(strstr(r.why, "ID=fedora") != NULL, "%s", r.why);
	f.os_release = NULL;
	recognise(&f, &r);
	ck_assert_msg(strstr(r.why, "os-release") != NULL, "%s", r.why);
	f.cmdline_txt = 0;
	recognise(&f, &r);
	ck_assert_msg(strstr(r.why, "no cmdline.txt") != NULL, "%s", r.why);
}
END_TEST

START_TEST(initramfs_names)
{
	char names[INITRAMFS_MAX][FAT_FILE_NAME];
	const char *fat[] = { "kernel8.img", "initramfs8", "initramfs_2712",
	    "initramfs7l", "initramfs.bak", "config.txt" };
	const char *pios = "# For more options\n[all]\nauto_initramfs=1\n"
	    "arm_64bit=1\n";
	const char *deb = "arm_64bit=1\nkernel=vmlinuz-6.1.0-28-arm64\n"
	    "# initramfs\ninitramfs initrd.img-6.1.0-28-arm64 followkernel\n"
	    "[pi4]\n  initramfs   initrd.img-6.1.0-28-arm64\n";
	size_t n;

	n = config_initramfs(pios, strlen(pios), fat, 6, names, INITRAMFS_MAX);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(names[0], "initramfs8");
	ck_assert_str_eq(names[1], "initramfs_2712");
	ck_assert_str_eq(names[2], "initramfs7l");
	n = config_initramfs(deb, strlen(deb), fat, 6, names, INITRAMFS_MAX);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "initrd.img-6.1.0-28-arm64");
	n = config_initramfs("auto_initramfs=0\n", 17, fat, 6, names,
	    INITRAMFS_MAX);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
recognise_suite(void)
{
	Suite *s = suite_create("netboot-prep/recognise");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, recognise_each);
	tcase_add_test(tc, initramfs_names);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(recognise_suite)
