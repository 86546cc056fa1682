/* netboot-prep's pure decisions: which distribution, which initramfs
 * files, names, cpio and gzip, ELF dependencies, what goes into the
 * appended archive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/cpio.h"
#include "netboot-prep/elfdeps.h"
#include "netboot-prep/initparts.h"
#include "netboot-prep/names.h"
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

START_TEST(names)
{
	char e[MAC_NAME_LEN + 1];
	uint64_t v;

	ck_assert_ptr_null(prep_name_check("lab"));
	ck_assert_ptr_null(prep_name_check("pi-01_bookworm.2"));
	ck_assert_ptr_nonnull(prep_name_check(""));
	ck_assert_ptr_nonnull(prep_name_check(".hidden"));
	ck_assert_ptr_nonnull(prep_name_check("-x"));
	ck_assert_ptr_nonnull(prep_name_check("a/b"));
	ck_assert_ptr_nonnull(prep_name_check("a b"));
	ck_assert_ptr_nonnull(prep_name_check("a..b"));
	ck_assert_ptr_nonnull(prep_name_check("lab.img"));
	ck_assert_ptr_null(pi_entry_name("10000000ABCD1234", e));
	ck_assert_str_eq(e, "abcd1234");
	ck_assert_ptr_null(pi_entry_name("DC:A6:32:01:36:C2", e));
	ck_assert_str_eq(e, "dc-a6-32-01-36-c2");
	ck_assert_ptr_null(pi_entry_name("dc-a6-32-01-36-c2", e));
	ck_assert_str_eq(e, "dc-a6-32-01-36-c2");
	ck_assert_ptr_nonnull(pi_entry_name("abcd123", e));
	ck_assert_ptr_nonnull(pi_entry_name("abcd123g", e));
	ck_assert_ptr_nonnull(pi_entry_name("../../etc", e));
	ck_assert_ptr_nonnull(pi_entry_name("dc:a6-32:01:36:c2", e));
	ck_assert_ptr_nonnull(pi_entry_name("dc:a6:32:01:36:cg", e));
	ck_assert_int_eq(prep_size_parse("4G", &v), 0);
	ck_assert_uint_eq(v, 4ull << 30);
	ck_assert_int_eq(prep_size_parse("8000MiB", &v), 0);
	ck_assert_uint_eq(v, 8000ull << 20);
	ck_assert_int_eq(prep_size_parse("1048576", &v), 0);
	ck_assert_uint_eq(v, 1048576);
	ck_assert_int_eq(prep_size_parse("4X", &v), -1);
	ck_assert_int_eq(prep_size_parse("G", &v), -1);
	ck_assert_int_eq(prep_size_parse("99999999999T", &v), -1);
}
END_TEST

START_TEST(cpio_round_trip)
{
	struct cpio_out o = { 0 };
	struct cpio_entry *e = malloc(sizeof(*e));
	size_t off = 0;

	cpio_add(&o, "/scripts", 040755, 0, NULL, 0);
	cpio_add(&o, "scripts/local-top/nbd", 0100755, 0, "#!/bin/sh\n", 10);
	cpio_finish(&o);
	ck_assert_int_eq(o.failed, 0);
	ck_assert(cpio_is_header(o.buf, o.len, 0));
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_OK);
	ck_assert_str_eq(e->name, "scripts");
	ck_assert_uint_eq(e->mode, 040755);
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_OK);
	ck_assert_str_eq(e->name, "scripts/local-top/nbd");
	ck_assert_uint_eq(e->size, 10);
	ck_assert_int_eq(memcmp(e->data, "#!/bin/sh\n", 10), 0);
	ck_assert_int_eq(cpio_next(o.buf, o.len, &off, e), CPIO_END);
	ck_assert_uint_eq(off, o.len);
	/* Cut anywhere: never read past the end. */
	for (size_t cut = 0; cut < o.len - 4; cut++) {
		size_t k = 0;
		enum cpio_result r;

		while ((r = cpio_next(o.buf, cut, &k, e)) == CPIO_OK)
			ck_assert_uint_le(k, cut);
		ck_assert_int_eq(r, CPIO_BAD);
	}
	cpio_free(&o);
	free(e);
}
END_TEST

START_TEST(gzip_name)
{
	/* gzip -n's header for an empty input, and its trailer. */
	const uint8_t plain[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 3, 0,
	    0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t out[64], big[200];
	size_t n;

	n = gzip_named(plain, sizeof(plain), "x.cpio", out, sizeof(out));
	ck_assert_uint_eq(n, sizeof(plain) + 7);
	ck_assert_uint_eq(out[3], 8);
	ck_assert_str_eq((char *)out + 10, "x.cpio");
	memset(big, 0x1f, sizeof(big));
	memcpy(big + 100, out, n);
	ck_assert_uint_eq(gzip_find_named(big, 100 + n, "x.cpio"), 100);
	ck_assert_uint_eq(gzip_find_named(big, 100 + n, "y.cpio"), 100 + n);
	ck_assert_uint_eq(gzip_named(out, n, "x", big, sizeof(big)), 0);
	ck_assert_str_eq(compression_name(plain, sizeof(plain)), "gzip");
	ck_assert_str_eq(compression_name((const uint8_t *)"\x28\xb5\x2f\xfd",
	    4), "zstd");
	ck_assert_ptr_null(compression_name((const uint8_t *)"070701", 6));
}
END_TEST

START_TEST(elf_of_this_program)
{
	FILE *f = fopen("/proc/self/exe", "rb");
	uint8_t *buf = malloc(8 << 20);
	size_t len = fread(buf, 1, 8 << 20, f);
	struct elf_deps d;
	int libc = 0;

	fclose(f);
	ck_assert_int_eq(elf_deps(buf, len, &d), ELF_OK);
	ck_assert_uint_eq(d.machine, 62);
	ck_assert_str_eq(d.interp, "/lib64/ld-linux-x86-64.so.2");
	for (size_t i = 0; i < d.nneeded; i++)
		libc |= strcmp(d.needed[i], "libc.so.6") == 0;
	ck_assert(libc);
	/* Cut short: an error, never a read past the end. */
	for (size_t cut = 0; cut < 4096; cut += 7)
		ck_assert_int_ne(elf_deps(buf, cut, &d), ELF_OK);
	ck_assert_int_eq(elf_deps((const uint8_t *)"#!/bin/sh\n", 10, &d),
	    ELF_NOT_ELF);
	free(buf);
}
END_TEST

static void
count_dep(void *ctx, const char *path, size_t len)
{
	char *got = ctx;

	strncat(got, path, len);
	strcat(got, ";");
}

START_TEST(modules_and_order)
{
	const char *dep = "kernel/drivers/net/usb/lan78xx.ko: "
	    "kernel/drivers/net/phy/libphy.ko kernel/drivers/net/mdio/x.ko\n"
	    "kernel/drivers/block/nbd.ko:\n";
	char got[256] = "", out[512];
	const char *order = "/scripts/local-top/cryptroot \"$@\"\n"
	    "[ -e /conf/param.conf ] && . /conf/param.conf\n";

	ck_assert_int_eq(modules_dep_of(dep, strlen(dep),
	    "kernel/drivers/net/usb/lan78xx.ko", count_dep, got), 1);
	ck_assert_str_eq(got, "kernel/drivers/net/phy/libphy.ko;"
	    "kernel/drivers/net/mdio/x.ko;");
	ck_assert_int_eq(modules_dep_of(dep, strlen(dep),
	    "kernel/drivers/block/nbd.ko", count_dep, got), 1);
	ck_assert_int_eq(modules_dep_of(dep, strlen(dep),
	    "kernel/drivers/block/nb", count_dep, got), 0);
	ck_assert(net_module_excluded("wireless/broadcom/brcm80211/x.ko"));
	ck_assert(net_module_excluded("usb/qmi_wwan.ko.xz"));
	ck_assert(net_module_excluded("tun.ko"));
	ck_assert(!net_module_excluded("ethernet/broadcom/genet/genet.ko"));
	ck_assert(!net_module_excluded("usb/lan78xx.ko"));
	ck_assert(!net_module_excluded("virtio_net.ko"));
	ck_assert_int_eq(order_with_nbd(order, strlen(order), out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "/scripts/local-top/nbd \"$@\"\n"
	    "[ -e /conf/param.conf ] && . /conf/param.conf\n"
	    "/scripts/local-top/cryptroot \"$@\"\n"
	    "[ -e /conf/param.conf ] && . /conf/param.conf\n");
	/* Again: nbd stays once. */
	{
		char again[512];

		ck_assert_int_eq(order_with_nbd(out, strlen(out), again,
		    sizeof(again)), 0);
		ck_assert_str_eq(again, out);
	}
	ck_assert_int_eq(order_with_nbd("", 0, out, sizeof(out)), 0);
	ck_assert_int_eq(order_with_nbd(order, strlen(order), out, 20), -1);
}
END_TEST

START_TEST(softdeps_and_aliases)
{
	const char *soft = "# Soft dependencies\nsoftdep ext4 pre: crypto-crc32c\n"
	    "softdep cifs gcm\nsoftdep jbd2 pre: crypto-crc32c post: x\n";
	const char *alias = "alias crypto-crc32c crc32c_generic\n"
	    "alias crc32c crc32c_generic\n";
	const char *dep = "kernel/crypto/crc32c_generic.ko:\n"
	    "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko\n"
	    "kernel/drivers/net/net-failover.ko.xz: x\n";
	char got[256] = "", name[64];

	modules_softdeps(soft, strlen(soft), "ext4", count_dep, got);
	ck_assert_str_eq(got, "crypto-crc32c;");
	got[0] = '\0';
	modules_softdeps(soft, strlen(soft), "jbd2", count_dep, got);
	ck_assert_str_eq(got, "crypto-crc32c;x;");
	got[0] = '\0';
	modules_resolve(dep, strlen(dep), alias, strlen(alias), "crypto-crc32c",
	    count_dep, got);
	ck_assert_str_eq(got, "kernel/crypto/crc32c_generic.ko;");
	got[0] = '\0';
	modules_resolve(dep, strlen(dep), alias, strlen(alias), "net_failover",
	    count_dep, got);
	ck_assert_str_eq(got, "kernel/drivers/net/net-failover.ko.xz;");
	module_name("kernel/drivers/net/net-failover.ko.xz", 37, name,
	    sizeof(name));
	ck_assert_str_eq(name, "net_failover");
	module_name("ext4.ko", 7, name, sizeof(name));
	ck_assert_str_eq(name, "ext4");
}
END_TEST

static Suite *
parts_suite(void)
{
	Suite *s = suite_create("netboot-prep parts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, recognise_each);
	tcase_add_test(tc, initramfs_names);
	tcase_add_test(tc, names);
	tcase_add_test(tc, cpio_round_trip);
	tcase_add_test(tc, gzip_name);
	tcase_add_test(tc, elf_of_this_program);
	tcase_add_test(tc, modules_and_order);
	tcase_add_test(tc, softdeps_and_aliases);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(parts_suite)
