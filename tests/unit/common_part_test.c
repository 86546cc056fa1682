/* Partition tables: MBR (with logical partitions), GPT, superfloppy, both
 * sector sizes, and every kind of damage the parser must refuse. Images
 * are made with sfdisk, fdisk, sgdisk and mkfs.vfat. */
#include "tests/unit/tftpd_image_fixture.h"
#include "tests/unit/check_main.h"

static void
setup(void)
{
	fx_setup_dir();
	/* Shaped like Ubuntu's Pi images: FAT32 system-boot, ext4 writable. */
	fx_sh("truncate -s 64M ubuntu.img && "
	    "printf 'label: dos\\nstart=2048, size=98304, type=c, bootable\\n"
	    "start=100352, type=83\\n' | sfdisk -q ubuntu.img && "
	    "mkfs.vfat -F 32 -n system-boot --offset 2048 ubuntu.img 49152 && "
	    "mkfs.ext4 -q -F -L writable -E offset=%d ubuntu.img 15360k",
	    100352 * 512);
	/* Primary, extended, two logicals; the FAT one is logical 6. */
	fx_sh("truncate -s 16M ext.img && printf 'label: dos\\n"
	    "start=2048, size=8192, type=83\\nstart=10240, type=5\\n"
	    "start=12288, size=4096, type=83\\nstart=18432, size=4096, "
	    "type=c\\n' | sfdisk -q ext.img && "
	    "mkfs.vfat -F 12 --offset 18432 ext.img 2048");
	/* GPT: Linux, basic data holding no FAT, then the EFI system
	 * partition, which is the one picked by default. */
	fx_sh("truncate -s 32M gpt.img && sgdisk -n 1:2048:+4M -t 1:8300 "
	    "-n 2:0:+8M -t 2:0700 -n 3:0:+8M -t 3:ef00 gpt.img && "
	    "mkfs.vfat -F 16 -s 1 --offset %d gpt.img 8192",
	    2048 + 8192 + 16384);
	/* 4096-byte sectors, GPT and MBR. */
	fx_sh("truncate -s 16M gpt4k.img && printf 'g\\nn\\n1\\n256\\n+8M\\n"
	    "t\\n11\\nn\\n2\\n\\n\\nw\\n' | fdisk -b 4096 gpt4k.img && "
	    "mkfs.vfat -S 4096 --offset 256 gpt4k.img 8192");
	fx_sh("truncate -s 16M mbr4k.img && printf 'o\\nn\\np\\n1\\n256\\n"
	    "+4M\\nt\\nc\\nn\\ne\\n2\\n\\n\\nn\\n\\n+1M\\nn\\n\\n+1M\\nw\\n' | "
	    "fdisk -b 4096 mbr4k.img && "
	    "mkfs.vfat -S 4096 --offset 256 mbr4k.img 4096");
	fx_sh("mkfs.vfat -C floppy.img 1440");
	fx_sh("truncate -s 1M blank.img");
}

static void
teardown(void)
{
	fx_teardown_dir();
}

static enum part_result
find(const char *img, int want, struct part *p, char *why, size_t whylen)
{
	struct fx_dev d;
	enum part_result r;

	fx_dev_open(&d, img);
	r = part_find(&d.dev, want, p, why, whylen);
	fx_dev_close(&d);
	return r;
}

START_TEST(crc32_known_value)
{
	ck_assert_uint_eq(part_crc32("123456789", 9), 0xcbf43926);
	ck_assert_uint_eq(part_crc32("", 0), 0);
}
END_TEST

START_TEST(ubuntu_first_fat_and_by_number)
{
	struct part p;
	char why[256];

	ck_assert_int_eq(find("ubuntu.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.number, 1);
	ck_assert_int_eq(p.scheme, PART_SCHEME_MBR);
	ck_assert_uint_eq(p.start, 2048 * 512);
	ck_assert_uint_eq(p.length, 98304 * 512);
	ck_assert_uint_eq(p.mbr_type, 0x0c);
	ck_assert_int_eq(find("ubuntu.img", 2, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.number, 2);
	ck_assert_uint_eq(p.start, 100352ull * 512);
	ck_assert_int_eq(find("ubuntu.img", 3, &p, why, sizeof(why)),
	    PART_NONE);
	ck_assert_str_eq(why, "no partition 3 in the MBR");
}
END_TEST

START_TEST(mbr_logical_partitions)
{
	struct part p;
	char why[256];

	/* Logical 6 is the only FAT partition. */
	ck_assert_int_eq(find("ext.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.number, 6);
	ck_assert_uint_eq(p.start, 18432 * 512);
	ck_assert_uint_eq(p.length, 4096 * 512);
	ck_assert_int_eq(find("ext.img", 5, &p, why, sizeof(why)), PART_OK);
	ck_assert_uint_eq(p.start, 12288 * 512);
	ck_assert_int_eq(find("ext.img", 2, &p, why, sizeof(why)), PART_NONE);
	ck_assert_int_eq(find("ext.img", 7, &p, why, sizeof(why)), PART_NONE);
}
END_TEST

START_TEST(gpt_picks_fat_esp)
{
	struct part p;
	char why[256];

	ck_assert_int_eq(find("gpt.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.number, 3);
	ck_assert_int_eq(p.scheme, PART_SCHEME_GPT);
	ck_assert_uint_eq(p.start, (2048 + 8192 + 16384) * 512ull);
	ck_assert_uint_eq(p.length, 16384 * 512);
	ck_assert_int_eq(find("gpt.img", 1, &p, why, sizeof(why)), PART_OK);
	ck_assert_uint_eq(p.start, 2048 * 512);
	ck_assert_int_eq(find("gpt.img", 9, &p, why, sizeof(why)), PART_NONE);
}
END_TEST

START_TEST(sector_size_4096)
{
	struct part p;
	char why[256];

	ck_assert_int_eq(find("gpt4k.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.scheme, PART_SCHEME_GPT);
	ck_assert_uint_eq(p.sector_size, 4096);
	ck_assert_uint_eq(p.start, 256 * 4096);
	ck_assert_uint_eq(p.length, 2048 * 4096);
	ck_assert_int_eq(find("mbr4k.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.scheme, PART_SCHEME_MBR);
	ck_assert_uint_eq(p.sector_size, 4096);
	ck_assert_uint_eq(p.start, 256 * 4096);
	ck_assert_uint_eq(p.length, 1024 * 4096);
	/* Its logicals, counted in 4096-byte sectors. */
	ck_assert_int_eq(find("mbr4k.img", 6, &p, why, sizeof(why)), PART_OK);
	ck_assert_uint_eq(p.sector_size, 4096);
	ck_assert_uint_eq(p.start, 2048 * 4096);
}
END_TEST

START_TEST(superfloppy)
{
	struct part p;
	char why[256];

	ck_assert_int_eq(find("floppy.img", 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(p.scheme, PART_SCHEME_NONE);
	ck_assert_uint_eq(p.start, 0);
	ck_assert_uint_eq(p.length, 1440 * 1024);
	ck_assert_int_eq(find("floppy.img", 1, &p, why, sizeof(why)), PART_OK);
	ck_assert_int_eq(find("floppy.img", 2, &p, why, sizeof(why)),
	    PART_NONE);
}
END_TEST

START_TEST(no_table_at_all)
{
	struct part p;
	char why[256];

	ck_assert_int_eq(find("blank.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why,
	    "neither a partition table nor a FAT boot sector");
	fx_sh("head -c 100 ubuntu.img > tiny.img");
	ck_assert_int_eq(find("tiny.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "image is only 100 bytes");
}
END_TEST

START_TEST(image_shorter_than_table)
{
	struct part p;
	char why[256];

	fx_sh("cp ubuntu.img short.img && truncate -s 40M short.img");
	ck_assert_int_eq(find("short.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_msg(strstr(why, "partition 1") &&
	    strstr(why, "past the end of the image"), "%s", why);
}
END_TEST

START_TEST(partition_past_end)
{
	struct part p;
	char why[256];

	fx_sh("cp ubuntu.img past.img");
	/* Partition 2's sector count: far beyond the 64 MiB. */
	fx_patch_le("past.img", 446 + 16 + 12, 0x01000000, 4);
	ck_assert_int_eq(find("past.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_msg(strstr(why, "partition 2") &&
	    strstr(why, "past the end"), "%s", why);
}
END_TEST

START_TEST(partitions_overlap)
{
	struct part p;
	char why[256];

	fx_sh("cp ubuntu.img overlap.img");
	/* Partition 2 now starts inside partition 1. */
	fx_patch_le("overlap.img", 446 + 16 + 8, 50000, 4);
	ck_assert_int_eq(find("overlap.img", 0, &p, why, sizeof(why)),
	    PART_BAD);
	ck_assert_str_eq(why, "partitions 1 and 2 overlap");
}
END_TEST

START_TEST(gpt_header_crc)
{
	struct part p;
	char why[256];

	fx_sh("cp gpt.img gpth.img");
	/* A byte of the disk GUID, which the header CRC covers. */
	fx_patch_le("gpth.img", 512 + 56, fx_read_le("gpth.img", 512 + 56,
	    1) ^ 0xff, 1);
	ck_assert_int_eq(find("gpth.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "GPT header CRC mismatch");
}
END_TEST

START_TEST(gpt_entries_crc)
{
	struct part p;
	char why[256];

	fx_sh("cp gpt.img gpte.img");
	/* The first entry's name, covered by the entry array CRC only. */
	fx_patch("gpte.img", 1024 + 56, "X", 1);
	ck_assert_int_eq(find("gpte.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "GPT entry array CRC mismatch");
}
END_TEST

START_TEST(gpt_without_header)
{
	struct part p;
	char why[256];

	fx_sh("cp gpt.img gptn.img");
	fx_patch("gptn.img", 512, "XXXXXXXX", 8);
	ck_assert_int_eq(find("gptn.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "protective MBR without a GPT header");
}
END_TEST

START_TEST(extended_chain_loop)
{
	struct part p;
	char why[256];
	uint64_t ext = 10240ull * 512;

	fx_sh("cp ext.img loop.img");
	/* The first EBR's link to the second, relative to the extended
	 * partition; make the second link back to the first. */
	uint64_t second = fx_read_le("loop.img", ext + 446 + 16 + 8, 4);
	ck_assert_uint_ne(second, 0);
	uint64_t link = ext + second * 512 + 446 + 16;
	fx_patch_le("loop.img", link + 4, 0x05, 1);
	fx_patch_le("loop.img", link + 8, 0, 4);
	fx_patch_le("loop.img", link + 12, 2048, 4);
	ck_assert_int_eq(find("loop.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_msg(strstr(why, "loops") != NULL, "%s", why);
}
END_TEST

START_TEST(extended_chain_self_loop)
{
	struct part p;
	char why[256];
	uint64_t ext = 10240ull * 512;

	fx_sh("cp ext.img loop1.img");
	/* The first EBR links to itself. */
	fx_patch_le("loop1.img", ext + 446 + 16 + 8, 0, 4);
	ck_assert_int_eq(find("loop1.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_msg(strstr(why, "loops") != NULL, "%s", why);
}
END_TEST

START_TEST(logical_outside_extended)
{
	struct part p;
	char why[256];
	uint64_t ext = 10240ull * 512;

	fx_sh("cp ext.img lout.img");
	fx_patch_le("lout.img", ext + 446 + 12, 0x100000, 4);
	ck_assert_int_eq(find("lout.img", 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "logical partition 5 lies outside the extended "
	    "partition");
}
END_TEST

START_TEST(read_errors_are_io)
{
	struct fx_dev d;
	struct part p;
	char why[256];

	fx_dev_open(&d, "ubuntu.img");
	d.dev.size += 1024 * 1024;	/* claims more than the file holds */
	close(d.fd);			/* every read now fails */
	ck_assert_int_eq(part_find(&d.dev, 0, &p, why, sizeof(why)), PART_IO);
	ck_assert_str_eq(why, "cannot read sector 0");
}
END_TEST

START_TEST(sector_size_from_device)
{
	struct fx_dev d;
	struct part p;
	char why[256];

	/* A block device says its logical sector size: no probing. */
	fx_dev_open(&d, "mbr4k.img");
	d.dev.sector_size = 4096;
	ck_assert_int_eq(part_find(&d.dev, 0, &p, why, sizeof(why)), PART_OK);
	ck_assert_uint_eq(p.start, 256 * 4096);
	d.dev.sector_size = 1024;
	ck_assert_int_eq(part_find(&d.dev, 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "sector size 1024 is not supported");
	fx_dev_close(&d);
	fx_dev_open(&d, "gpt4k.img");
	d.dev.sector_size = 512;	/* wrong: no GPT header at 512 */
	ck_assert_int_eq(part_find(&d.dev, 0, &p, why, sizeof(why)), PART_BAD);
	ck_assert_str_eq(why, "protective MBR without a GPT header");
	fx_dev_close(&d);
}
END_TEST

static Suite *
part_suite(void)
{
	Suite *s = suite_create("common_part");
	TCase *tc = tcase_create("part");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crc32_known_value);
	tcase_add_test(tc, ubuntu_first_fat_and_by_number);
	tcase_add_test(tc, mbr_logical_partitions);
	tcase_add_test(tc, gpt_picks_fat_esp);
	tcase_add_test(tc, sector_size_4096);
	tcase_add_test(tc, sector_size_from_device);
	tcase_add_test(tc, superfloppy);
	tcase_add_test(tc, no_table_at_all);
	tcase_add_test(tc, image_shorter_than_table);
	tcase_add_test(tc, partition_past_end);
	tcase_add_test(tc, partitions_overlap);
	tcase_add_test(tc, gpt_header_crc);
	tcase_add_test(tc, gpt_entries_crc);
	tcase_add_test(tc, gpt_without_header);
	tcase_add_test(tc, extended_chain_loop);
	tcase_add_test(tc, extended_chain_self_loop);
	tcase_add_test(tc, logical_outside_extended);
	tcase_add_test(tc, read_errors_are_io);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(part_suite)
