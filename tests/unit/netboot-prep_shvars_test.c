/* raspi-firmware's defaults (VAR=value files), as netboot-prep sets
 * ROOTPART in them. */
#include <string.h>

#include "netboot-prep/shvars.h"
#include "tests/unit/check_main.h"

START_TEST(shvars_nul)
{
	char out[256];

	/* A NUL would cut the file short when it is written back. */
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
shvars_suite(void)
{
	Suite *s = suite_create("netboot-prep/shvars");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, raspi_firmware_defaults);
	tcase_add_test(tc, shvars_nul);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(shvars_suite)
