/* What goes into the archive netboot-prep appends: network modules,
 * their dependencies and soft dependencies, ORDER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netboot-prep/initparts.h"
#include "tests/unit/check_main.h"

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
initparts_suite(void)
{
	Suite *s = suite_create("netboot-prep/initparts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, modules_and_order);
	tcase_add_test(tc, softdeps_and_aliases);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(initparts_suite)
