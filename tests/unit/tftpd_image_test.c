/* Image mode end to end through image_source_open(): an Ubuntu-shaped Pi
 * image (MBR, FAT32 system-boot, ext4 writable), GPT, a superfloppy and
 * 4096-byte sectors; every file equals what mcopy extracts; each damaged
 * image gives "not found" or an error and exactly one reason naming the
 * image and the problem, for the request's one log line; a file changed
 * under an open source is either served whole or fails cleanly. */
#include "tests/unit/tftpd_image_fixture.h"
#include "tests/unit/check_main.h"
#include "common/log.h"
#include "tftpd/image.h"

#define MiB (1024 * 1024)
#define BIG_SIZE (70 * MiB + 123)
#define BAD_PART_OFF (2048 * 512)	/* bad.img's FAT16 partition */
#define LONG_NAME "bcm2711-rpi-4-b long name.dtb"

static void
setup(void)
{
	fx_setup_dir();
	/* Ubuntu's Pi image, shrunk: FAT32 system-boot of 160 MiB, ext4
	 * writable behind it; a kernel, an initramfs over 64 MiB, overlays. */
	fx_sh("truncate -s 200M ubuntu.img && "
	    "printf 'label: dos\\nstart=2048, size=327680, type=c, bootable\\n"
	    "start=329728, type=83\\n' | sfdisk -q ubuntu.img && "
	    "mkfs.vfat -F 32 -n system-boot --offset 2048 ubuntu.img 163840 && "
	    "mkfs.ext4 -q -F -L writable -E offset=%lld ubuntu.img 36864k",
	    329728LL * 512);
	fx_sh("echo 'arm_64bit=1' > config.txt && "
	    "echo 'console=serial0,115200 root=/dev/nbd0p2' > cmdline.txt && "
	    "head -c 2345678 /dev/urandom > start4.elf && "
	    "head -c 8000000 /dev/urandom > vmlinuz && "
	    "head -c %d /dev/urandom > initrd.img && "
	    "head -c 4567 /dev/urandom > vc4.dtbo && "
	    "head -c 50000 /dev/urandom > dtb && "
	    "head -c 4194304 /dev/urandom > four.bin && "
	    "mcopy -i ubuntu.img@@1M config.txt cmdline.txt start4.elf "
	    "vmlinuz initrd.img four.bin :: && "
	    "mcopy -i ubuntu.img@@1M dtb '::" LONG_NAME "' && "
	    "mmd -i ubuntu.img@@1M ::overlays && "
	    "mcopy -i ubuntu.img@@1M vc4.dtbo ::overlays/vc4-kms-v3d.dtbo",
	    BIG_SIZE);
	fx_sh("truncate -s 32M gpt.img && sgdisk -n 1:2048:+8M -t 1:8300 "
	    "-n 2:0:+16M -t 2:ef00 gpt.img && "
	    "mkfs.vfat -F 16 -s 1 --offset 18432 gpt.img 16384 && "
	    "mcopy -i gpt.img@@%d config.txt vc4.dtbo ::", 18432 * 512);
	fx_sh("mkfs.vfat -C floppy.img 1440 && "
	    "mcopy -i floppy.img config.txt vc4.dtbo ::");
	fx_sh("truncate -s 16M k4.img && printf 'o\\nn\\np\\n1\\n256\\n+8M\\n"
	    "t\\nc\\nw\\n' | fdisk -b 4096 k4.img && "
	    "mkfs.vfat -S 4096 --offset 256 k4.img 8192 && "
	    "mcopy -i k4.img@@1M config.txt vc4.dtbo ::");
	/* The base of the damaged images: FAT16 in partition 1. */
	fx_sh("truncate -s 16M bad.img && printf 'label: dos\\nstart=2048, "
	    "size=30720, type=6\\n' | sfdisk -q bad.img && "
	    "mkfs.vfat -F 16 -s 1 --offset 2048 bad.img 15360 && "
	    "head -c 1536 /dev/urandom > v.bin && "
	    "for i in 0 1 2 3 4 5; do "
	    "mcopy -i bad.img@@1M v.bin ::VICTIM$i.BIN; done && mcopy -i bad.img@@1M dtb '::" LONG_NAME "'");
	fx_sh("truncate -s 4M ext.img && printf 'label: dos\\n"
	    "start=2048, type=5\\nstart=4096, size=2048, type=1\\n' | "
	    "sfdisk -q ext.img && mkfs.vfat -F 12 --offset 4096 ext.img 1024 "
	    "&& mcopy -i ext.img@@2M config.txt ::");
}

static void
teardown(void)
{
	fx_teardown_dir();
}

/* Runs image_source_open with stderr captured: it logs nothing itself
 * (the request port logs the request's one line, with the reason). *lines
 * gets the number of lines about the image, logged or given as the
 * reason, and last the last one. */
static enum source_status
open_src(const char *img, int part, const char *path, struct source **src,
    int *lines, char *last, size_t lastlen)
{
	int fd = open(fx_path(img), O_RDONLY);
	int saved = dup(2), logfd;
	enum source_status st;
	FILE *f;
	char line[1024], why[SOURCE_WHY_LEN];

	ck_assert_int_ne(fd, -1);
	line[0] = '\0';
	log_init("tftpd", 0, 0);
	logfd = open(fx_path("log.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(logfd, -1);
	fflush(stderr);
	dup2(logfd, 2);
	memset(why, 'x', sizeof(why));
	st = image_source_open(fd, part, img, path, src, why, sizeof(why));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	close(fd);	/* the source keeps its own descriptor */
	*lines = 0;
	if (last)
		last[0] = '\0';
	ck_assert_ptr_nonnull(f = fopen(fx_path("log.txt"), "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		(*lines)++;
		if (last)
			strlcpy(last, line, lastlen);
	}
	fclose(f);
	ck_assert_msg(*lines == 0, "%s: %s: logged at open: %s", img, path,
	    line);
	ck_assert_ptr_nonnull(memchr(why, '\0', sizeof(why)));
	if (why[0] != '\0') {
		ck_assert_msg(st == SOURCE_BROKEN || st == SOURCE_ERROR,
		    "%s: %s: status %d with a reason: %s", img, path, st, why);
		(*lines)++;
		if (last)
			strlcpy(last, why, lastlen);
	}
	return st;
}

/* Reads the whole source in chunks of chunk bytes. */
static uint8_t *
read_all(struct source *src, size_t chunk)
{
	uint8_t *buf = malloc(src->size + 1);
	uint64_t off = 0;

	ck_assert_ptr_nonnull(buf);
	while (off < src->size) {
		ssize_t n = source_read(src, buf + off, chunk, off);
		ck_assert_int_gt(n, 0);
		ck_assert(n == (ssize_t)chunk ||
		    off + (uint64_t)n == src->size);
		off += (uint64_t)n;
	}
	ck_assert_int_eq(source_read(src, buf, chunk, off), 0);
	return buf;
}

/* The file served equals what mcopy extracts, read in several chunk sizes
 * (a TFTP block, a read-ahead window, a few large reads). */
static void
assert_served(const char *img, const char *mimg, int part, const char *path)
{
	static const size_t chunks[] = { 512, 1468, 1468 * 16, 4 * MiB };
	struct source *src;
	int lines;
	size_t wlen;
	uint8_t *want;

	fx_sh("rm -f want.bin && mcopy -n -i %s '::%s' want.bin", mimg, path);
	want = fx_slurp(fx_path("want.bin"), &wlen);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		if (wlen > 16 * MiB && chunks[i] < 1468 * 16)
			continue;	/* the big file: large reads only */
		ck_assert_int_eq(open_src(img, part, path, &src, &lines, NULL,
		    0), SOURCE_OK);
		ck_assert_int_eq(lines, 0);
		ck_assert_uint_eq(src->size, wlen);
		uint8_t *got = read_all(src, chunks[i]);
		ck_assert_msg(memcmp(got, want, wlen) == 0, "%s: %s differs",
		    img, path);
		free(got);
		source_close(src);
	}
	free(want);
}

START_TEST(ubuntu_image_files)
{
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, "config.txt");
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, "cmdline.txt");
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, "start4.elf");
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, "vmlinuz");
	assert_served("ubuntu.img", "ubuntu.img@@1M", 1,
	    "overlays/vc4-kms-v3d.dtbo");
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, LONG_NAME);
}
END_TEST

/* The biggest file mcopy finds in directory dir of mimg. */
static uint64_t
mtools_biggest(const char *mimg, const char *dir)
{
	uint8_t *out;
	size_t len;
	uint64_t n;

	fx_sh("rm -rf bigdir && mkdir bigdir && mcopy -n -i %s '::%s/*' "
	    "bigdir/ 2>/dev/null; find bigdir -maxdepth 1 -type f -printf "
	    "'%%s\\n' | sort -n | tail -1 > big.txt", mimg, dir);
	out = fx_slurp(fx_path("big.txt"), &len);
	n = strtoull((char *)out, NULL, 10);
	free(out);
	return n;
}

START_TEST(biggest_beside)
{
	struct source *src;
	int lines;
	size_t wlen;
	uint8_t *want, *got;

	/* The root's biggest is the initramfs, not yet asked for; asking
	 * leaves the file's own bytes as they were. */
	ck_assert_int_eq(open_src("ubuntu.img", 0, "config.txt", &src, &lines,
	    NULL, 0), SOURCE_OK);
	ck_assert_uint_eq(source_biggest_beside(src),
	    mtools_biggest("ubuntu.img@@1M", ""));
	ck_assert_uint_gt(source_biggest_beside(src), 64 * MiB);
	fx_sh("rm -f want.bin && mcopy -n -i ubuntu.img@@1M ::config.txt "
	    "want.bin");
	want = fx_slurp(fx_path("want.bin"), &wlen);
	got = read_all(src, 512);
	ck_assert_uint_eq(src->size, wlen);
	ck_assert(memcmp(got, want, wlen) == 0);
	free(got);
	free(want);
	source_close(src);
	ck_assert_int_eq(open_src("ubuntu.img", 0, "overlays/vc4-kms-v3d.dtbo",
	    &src, &lines, NULL, 0), SOURCE_OK);
	ck_assert_uint_eq(source_biggest_beside(src),
	    mtools_biggest("ubuntu.img@@1M", "overlays"));
	source_close(src);
}
END_TEST

START_TEST(file_over_64_mib)
{
	assert_served("ubuntu.img", "ubuntu.img@@1M", 0, "initrd.img");
}
END_TEST

START_TEST(other_layouts)
{
	char m[64];

	snprintf(m, sizeof(m), "gpt.img@@%d", 18432 * 512);
	assert_served("gpt.img", m, 0, "config.txt");
	assert_served("gpt.img", m, 2, "vc4.dtbo");
	assert_served("floppy.img", "floppy.img", 0, "vc4.dtbo");
	assert_served("k4.img", "k4.img@@1M", 0, "vc4.dtbo");
	assert_served("ext.img", "ext.img@@2M", 0, "config.txt");
	assert_served("ext.img", "ext.img@@2M", 5, "config.txt");
}
END_TEST

START_TEST(misses_are_quiet)
{
	struct source *src;
	int lines;

	ck_assert_int_eq(open_src("ubuntu.img", 0, "bootsig.bin", &src,
	    &lines, NULL, 0), SOURCE_NOT_FOUND);
	ck_assert_ptr_null(src);
	ck_assert_int_eq(lines, 0);
	ck_assert_int_eq(open_src("ubuntu.img", 0, "overlays", &src, &lines,
	    NULL, 0), SOURCE_NOT_FOUND);
	ck_assert_int_eq(lines, 0);
	ck_assert_int_eq(open_src("ubuntu.img", 0, "CONFIG.TXT", &src, &lines,
	    NULL, 0), SOURCE_OK);
	source_close(src);
}
END_TEST

START_TEST(dotdot_denied)
{
	struct source *src;
	int lines;

	ck_assert_int_eq(open_src("ubuntu.img", 0, "overlays/../config.txt",
	    &src, &lines, NULL, 0), SOURCE_OK);
	source_close(src);
	ck_assert_int_eq(open_src("ubuntu.img", 0, "../ubuntu.img", &src,
	    &lines, NULL, 0), SOURCE_DENIED);
	/* The daemon logs access violations, with the client's address. */
	ck_assert_int_eq(lines, 0);
}
END_TEST

/* The damaged image gives status st and exactly one reason naming the
 * image and containing what. */
static void
assert_bad(const char *img, int part, const char *path,
    enum source_status st, const char *what)
{
	struct source *src;
	int lines;
	char last[1024];

	ck_assert_int_eq(open_src(img, part, path, &src, &lines, last,
	    sizeof(last)), st);
	ck_assert_ptr_null(src);
	ck_assert_msg(lines == 1, "%s: %d lines, last: %s", img, lines,
	    last);
	if (getenv("FX_SHOW") != NULL)
		printf("%s", last);
	ck_assert_msg(strstr(last, img) != NULL && strstr(last, what) != NULL,
	    "%s: reason \"%s\" lacks \"%s\"", img, last, what);
}

START_TEST(wrong_partition)
{
	assert_bad("ubuntu.img", 2, "config.txt", SOURCE_BROKEN,
	    "no FAT boot sector");
	assert_bad("ubuntu.img", 3, "config.txt", SOURCE_BROKEN,
	    "no partition 3 in the MBR");
	assert_bad("floppy.img", 2, "config.txt", SOURCE_BROKEN,
	    "bare FAT file system");
}
END_TEST

START_TEST(bad_tables)
{
	fx_sh("cp ubuntu.img short.img && truncate -s 100M short.img");
	assert_bad("short.img", 0, "config.txt", SOURCE_BROKEN,
	    "runs past the end of the image");
	fx_sh("cp bad.img overlap.img && printf 'label: dos\\nstart=2048, "
	    "size=30720, type=6\\nstart=20000, size=1000, type=83\\n' | "
	    "sfdisk -q --no-tell-kernel overlap.img || true");
	/* sfdisk refuses to write overlaps: patch entry 2 by hand. */
	fx_patch_le("overlap.img", 446 + 16 + 4, 0x83, 1);
	fx_patch_le("overlap.img", 446 + 16 + 8, 20000, 4);
	fx_patch_le("overlap.img", 446 + 16 + 12, 1000, 4);
	assert_bad("overlap.img", 0, "config.txt", SOURCE_BROKEN,
	    "partitions 1 and 2 overlap");
	fx_sh("cp gpt.img gptcrc.img");
	/* Flip a byte of the disk GUID: random, so setting it to a fixed
	 * value would leave it unchanged once in 256 runs. */
	fx_patch_le("gptcrc.img", 512 + 60,
	    fx_read_le("gptcrc.img", 512 + 60, 1) ^ 0xff, 1);
	assert_bad("gptcrc.img", 0, "config.txt", SOURCE_BROKEN,
	    "GPT header CRC mismatch");
	fx_sh("cp gpt.img gptecrc.img");
	fx_patch_le("gptecrc.img", 1024 + 60,
	    fx_read_le("gptecrc.img", 1024 + 60, 1) ^ 0xff, 1);
	assert_bad("gptecrc.img", 0, "config.txt", SOURCE_BROKEN,
	    "GPT entry array CRC mismatch");
	/* The extended partition's first record links to itself. */
	fx_sh("cp ext.img loop.img");
	fx_patch_le("loop.img", 2048 * 512 + 446 + 16 + 4, 0x05, 1);
	fx_patch_le("loop.img", 2048 * 512 + 446 + 16 + 8, 0, 4);
	fx_patch_le("loop.img", 2048 * 512 + 446 + 16 + 12, 100, 4);
	assert_bad("loop.img", 0, "config.txt", SOURCE_BROKEN, "loops");
}
END_TEST

static const char *
bad_copy(const char *tag)
{
	static char name[64];

	snprintf(name, sizeof(name), "bad-%s.img", tag);
	fx_sh("cp bad.img %s", name);
	return name;
}

START_TEST(bad_boot_sectors)
{
	const char *d;

	d = bad_copy("bps0");
	fx_patch_le(d, BAD_PART_OFF + 11, 0, 2);
	assert_bad(d, 0, "VICTIM0.BIN", SOURCE_BROKEN,
	    "bytes per sector 0 is not a power of two");
	d = bad_copy("bps3k");
	fx_patch_le(d, BAD_PART_OFF + 11, 3072, 2);
	assert_bad(d, 0, "VICTIM0.BIN", SOURCE_BROKEN,
	    "bytes per sector 3072 is not a power of two");
	d = bad_copy("spc0");
	fx_patch_le(d, BAD_PART_OFF + 13, 0, 1);
	assert_bad(d, 0, "VICTIM0.BIN", SOURCE_BROKEN,
	    "sectors per cluster 0 is not a power of two");
	d = bad_copy("spc6");
	fx_patch_le(d, BAD_PART_OFF + 13, 6, 1);
	assert_bad(d, 0, "VICTIM0.BIN", SOURCE_BROKEN,
	    "sectors per cluster 6 is not a power of two");
}
END_TEST

/* FAT16 entry of cluster c in bad.img's first FAT. */
static uint64_t
fat16_entry(const char *img, uint32_t c)
{
	uint64_t bps = fx_read_le(img, BAD_PART_OFF + 11, 2);
	uint64_t rsvd = fx_read_le(img, BAD_PART_OFF + 14, 2);

	return BAD_PART_OFF + rsvd * bps + 2ull * c;
}

static uint64_t
victim(const char *img, int n, uint32_t *cluster)
{
	char name[12];

	snprintf(name, sizeof(name), "VICTIM%d BIN", n);
	int64_t e = fx_find(img, name, 11);
	ck_assert_int_gt(e, 0);
	*cluster = (uint32_t)fx_read_le(img, (uint64_t)e + 26, 2);
	return (uint64_t)e;
}

START_TEST(bad_chains_and_entries)
{
	const char *d;
	uint32_t c;
	uint64_t e;

	d = bad_copy("range");
	victim(d, 0, &c);
	fx_patch_le(d, fat16_entry(d, c), 0xfff0, 2);
	assert_bad(d, 0, "VICTIM0.BIN", SOURCE_BROKEN, "out of range");
	d = bad_copy("loop");
	victim(d, 1, &c);
	fx_patch_le(d, fat16_entry(d, c + 1), c, 2);
	assert_bad(d, 0, "VICTIM1.BIN", SOURCE_BROKEN,
	    "cluster chain loops");
	d = bad_copy("size");
	e = victim(d, 2, &c);
	fx_patch_le(d, e + 28, 100000, 4);
	assert_bad(d, 0, "VICTIM2.BIN", SOURCE_BROKEN,
	    "runs past its chain");
	d = bad_copy("garbage");
	e = victim(d, 3, &c);
	fx_patch(d, e, "VICTIM3\x01BIN", 11);
	assert_bad(d, 0, "VICTIM3.BIN", SOURCE_BROKEN, "is garbage");
}
END_TEST

START_TEST(bad_long_names)
{
	const char *d;
	uint8_t u[10] = { 'b', 0, 'c', 0, 'm', 0, '2', 0, '7', 0 };
	int64_t e;

	/* The checksum of every entry of the name, against the 8.3 entry. */
	d = bad_copy("lfnsum");
	e = fx_find(d, u, sizeof(u)) - 1;
	ck_assert_int_gt(e, 0);
	for (int64_t p = e;; p -= 32) {
		fx_patch_le(d, (uint64_t)p + 13, fx_read_le(d, (uint64_t)p + 13,
		    1) ^ 1, 1);
		if (fx_read_le(d, (uint64_t)p, 1) & 0x40)
			break;
	}
	assert_bad(d, 0, LONG_NAME, SOURCE_BROKEN, "wrong checksum");
	/* The entries do not chain: ordinal 1 became 5. */
	d = bad_copy("lfnchain");
	e = fx_find(d, u, sizeof(u)) - 1;
	fx_patch_le(d, (uint64_t)e, 5, 1);
	assert_bad(d, 0, LONG_NAME, SOURCE_BROKEN, "does not chain");
}
END_TEST

START_TEST(changed_between_requests)
{
	struct source *src;
	int lines;
	uint8_t *got;

	fx_sh("cp ubuntu.img mod.img && echo 'first version' > v1 && "
	    "mcopy -o -i mod.img@@1M v1 ::config.txt");
	ck_assert_int_eq(open_src("mod.img", 0, "config.txt", &src, &lines,
	    NULL, 0), SOURCE_OK);
	got = read_all(src, 1468);
	ck_assert_uint_eq(src->size, 14);
	ck_assert(memcmp(got, "first version\n", 14) == 0);
	free(got);
	source_close(src);
	fx_sh("echo 'the second, longer version' > v2 && "
	    "mcopy -o -i mod.img@@1M v2 ::config.txt");
	ck_assert_int_eq(open_src("mod.img", 0, "config.txt", &src, &lines,
	    NULL, 0), SOURCE_OK);
	got = read_all(src, 1468);
	ck_assert_uint_eq(src->size, 27);
	ck_assert(memcmp(got, "the second, longer version\n", 27) == 0);
	free(got);
	source_close(src);
}
END_TEST

/* Reads src from off to the end with stderr captured; returns the last
 * read's result and the number of log lines in *lines. */
static ssize_t
read_rest(struct source *src, uint64_t off, int *lines)
{
	uint8_t buf[65536];
	ssize_t n = 0;
	int saved = dup(2), logfd;
	FILE *f;
	char line[1024];

	logfd = open(fx_path("log2.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	dup2(logfd, 2);
	while (off < src->size) {
		if ((n = source_read(src, buf, sizeof(buf), off)) <= 0)
			break;
		off += (uint64_t)n;
	}
	/* Once failed, it stays failed, without another line. */
	if (n == -1)
		ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), -1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	*lines = 0;
	ck_assert_ptr_nonnull(f = fopen(fx_path("log2.txt"), "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		(*lines)++;
	fclose(f);
	return n;
}

START_TEST(deleted_during_transfer)
{
	struct source *src;
	uint8_t buf[65536];
	int lines;

	fx_sh("cp ubuntu.img del.img");
	ck_assert_int_eq(open_src("del.img", 0, "four.bin", &src, &lines,
	    NULL, 0), SOURCE_OK);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), sizeof(buf));
	fx_sh("mdel -i del.img@@1M ::four.bin");
	ck_assert_int_eq(read_rest(src, sizeof(buf), &lines), -1);
	ck_assert_int_eq(lines, 1);
	source_close(src);
}
END_TEST

START_TEST(rewritten_during_transfer)
{
	struct source *src;
	uint8_t buf[65536];
	int lines;
	ssize_t n;

	/* Overwritten with other content of another size: the transfer may
	 * finish (same clusters reused) or fail, but cleanly. */
	fx_sh("cp ubuntu.img rw.img && head -c 3000000 /dev/urandom > v3 && "
	    "mcopy -o -i rw.img@@1M v3 ::start4.elf");
	ck_assert_int_eq(open_src("rw.img", 0, "start4.elf", &src, &lines,
	    NULL, 0), SOURCE_OK);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), sizeof(buf));
	fx_sh("head -c 1000000 /dev/urandom > v4 && "
	    "mcopy -o -i rw.img@@1M v4 ::start4.elf");
	n = read_rest(src, sizeof(buf), &lines);
	ck_assert(n == -1 ? lines == 1 : lines == 0);
	source_close(src);
}
END_TEST

START_TEST(image_shrinks_during_transfer)
{
	struct source *src;
	uint8_t buf[65536];
	int lines;

	fx_sh("cp ubuntu.img shrink.img");
	ck_assert_int_eq(open_src("shrink.img", 0, "initrd.img", &src, &lines,
	    NULL, 0), SOURCE_OK);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0), sizeof(buf));
	fx_sh("truncate -s 20M shrink.img");
	ck_assert_int_eq(read_rest(src, sizeof(buf), &lines), -1);
	ck_assert_int_eq(lines, 1);
	source_close(src);
}
END_TEST

/* The largest file FAT holds, 4 GiB - 1, in a sparse image: one file's
 * size and chain are patched in rather than 4 GiB written. */
START_TEST(largest_file)
{
	struct source *src;
	int lines, fd;
	uint8_t buf[64];

	fx_sh("rm -f huge.img && mkfs.vfat -C -F 32 -s 64 huge.img 4300000 && "
	    "mcopy -i huge.img config.txt ::HUGE.BIN");
	uint64_t bps = fx_read_le("huge.img", 11, 2);
	uint64_t rsvd = fx_read_le("huge.img", 14, 2);
	uint64_t cs = bps * fx_read_le("huge.img", 13, 1);
	uint64_t data = rsvd * bps +
	    fx_read_le("huge.img", 16, 1) * fx_read_le("huge.img", 36, 4) * bps;
	uint64_t root = data + (fx_read_le("huge.img", 44, 4) - 2) * cs;
	/* The entry, in the root directory's first cluster (searching the
	 * whole 4 GiB image would read it all). */
	uint8_t *dir = malloc(cs);
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_ne(fd = open(fx_path("huge.img"), O_RDONLY), -1);
	ck_assert_int_eq(pread(fd, dir, cs, (off_t)root), (ssize_t)cs);
	close(fd);
	uint8_t *hit = memmem(dir, cs, "HUGE    BIN", 11);
	ck_assert_ptr_nonnull(hit);
	int64_t e = (int64_t)(root + (uint64_t)(hit - dir));
	free(dir);
	uint32_t c = (uint32_t)(fx_read_le("huge.img", (uint64_t)e + 26, 2) |
	    fx_read_le("huge.img", (uint64_t)e + 20, 2) << 16);
	uint64_t n = (0xffffffffull + cs - 1) / cs;
	uint32_t *fat = calloc(n, 4);
	ck_assert_ptr_nonnull(fat);
	for (uint64_t i = 0; i < n; i++)
		fat[i] = i + 1 < n ? (uint32_t)(c + i + 1) : 0x0fffffff;
	ck_assert_int_ne(fd = open(fx_path("huge.img"), O_WRONLY), -1);
	ck_assert_int_eq(pwrite(fd, fat, n * 4, (off_t)(rsvd * bps + 4 * c)),
	    (ssize_t)(n * 4));
	close(fd);
	free(fat);
	fx_patch_le("huge.img", (uint64_t)e + 28, 0xffffffff, 4);
	ck_assert_int_eq(open_src("huge.img", 0, "huge.bin", &src, &lines,
	    NULL, 0), SOURCE_OK);
	ck_assert_uint_eq(src->size, 0xffffffffull);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0xffffffffull - 10),
	    10);
	ck_assert_int_eq(source_read(src, buf, sizeof(buf), 0xffffffffull), 0);
	/* The bytes at the end of the file are where the chain says. */
	uint64_t at = data + (uint64_t)(c - 2) * cs + 0xffffffffull - 3;
	fx_patch("huge.img", at, "END", 3);
	ck_assert_int_eq(source_read(src, buf, 3, 0xffffffffull - 3), 3);
	ck_assert(memcmp(buf, "END", 3) == 0);
	source_close(src);
	fx_sh("rm -f huge.img");
}
END_TEST

static Suite *
image_suite(void)
{
	Suite *s = suite_create("tftpd_image");
	TCase *tc = tcase_create("image");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ubuntu_image_files);
	tcase_add_test(tc, biggest_beside);
	tcase_add_test(tc, file_over_64_mib);
	tcase_add_test(tc, largest_file);
	tcase_add_test(tc, other_layouts);
	tcase_add_test(tc, misses_are_quiet);
	tcase_add_test(tc, dotdot_denied);
	tcase_add_test(tc, wrong_partition);
	tcase_add_test(tc, bad_tables);
	tcase_add_test(tc, bad_boot_sectors);
	tcase_add_test(tc, bad_chains_and_entries);
	tcase_add_test(tc, bad_long_names);
	tcase_add_test(tc, changed_between_requests);
	tcase_add_test(tc, deleted_during_transfer);
	tcase_add_test(tc, rewritten_during_transfer);
	tcase_add_test(tc, image_shrinks_during_transfer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(image_suite)
