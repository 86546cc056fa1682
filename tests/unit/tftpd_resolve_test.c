/* The layout's path rules on a real directory tree: plain files of the
 * root, files beneath a directory entry, every traversal form, symlinks
 * leaving the target, FIFOs, re-pointed entries, and netascii; and what a
 * request of one component may get: never an entry (an image, a block
 * device, a directory), in any spelling, never a FIFO, socket or device
 * anywhere, only a plain file of the root that is not an image. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tftpd/netascii.h"
#include "tftpd/resolve.h"
#include "tests/unit/check_main.h"
#include "tests/unit/special_nodes.h"

static char top[PATH_MAX];
static int rootfd = -1;

static void
put(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(content, f);
	fclose(f);
}

static void
mk(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void
link_(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	unlink(p);
	ck_assert_int_eq(symlink(target, p), 0);
}

/* root/: bootcode.bin, abcd1234 -> ../mnt/pi, dir1/; mnt/pi holds the
 * boot files and hostile links; secret lies outside everything. */
static void
setup(void)
{
	char p[PATH_MAX * 2];

	strlcpy(top, "/tmp/tftpd-resolve.XXXXXX", sizeof(top));
	ck_assert_ptr_nonnull(mkdtemp(top));
	mk("root");
	mk("mnt");
	mk("mnt/pi");
	mk("mnt/pi/overlays");
	mk("mnt/other");
	mk("root/dir1");
	put("secret", "secret\n");
	put("root/bootcode.bin", "bootcode\n");
	put("mnt/pi/start4.elf", "start4\n");
	put("mnt/pi/overlays/vc4.dtbo", "overlay\n");
	put("mnt/other/start4.elf", "other start4\n");
	put("root/dir1/file", "dir1 file\n");
	link_("../mnt/pi", "root/abcd1234");
	snprintf(p, sizeof(p), "%s/secret", top);
	link_(p, "mnt/pi/abs-evil");
	link_("../../secret", "mnt/pi/rel-evil");
	link_("/etc/passwd", "mnt/pi/passwd");
	link_("start4.elf", "mnt/pi/inside-link");
	link_("overlays", "mnt/pi/ovl");
	snprintf(p, sizeof(p), "%s/mnt/pi/fifo", top);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/root", top);
	ck_assert_int_ne(rootfd = open(p, O_PATH | O_DIRECTORY), -1);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

/* Why the last get() was refused, as resolve_open said ("": quiet). */
static char last_why[SOURCE_WHY_LEN];

static enum source_status
get(const char *name, char *out, size_t outsz)
{
	struct source *src = NULL;
	enum source_status st;
	ssize_t n;

	out[0] = '\0';
	st = resolve_open(rootfd, name, strlen(name), &src, last_why,
	    sizeof(last_why));
	if (st != SOURCE_OK) {
		ck_assert_ptr_null(src);
		return st;
	}
	n = source_read(src, out, outsz - 1, 0);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_eq((uint64_t)n, src->size);
	out[n] = '\0';
	source_close(src);
	return st;
}

#define ASSERT_GET(name, want) do {					\
	char b_[256];							\
	ck_assert_int_eq(get(name, b_, sizeof(b_)), SOURCE_OK);	\
	ck_assert_str_eq(b_, want);					\
} while (0)

#define ASSERT_REFUSED(name) do {					\
	char b_[256];							\
	enum source_status s_ = get(name, b_, sizeof(b_));		\
	ck_assert_msg(s_ == SOURCE_NOT_FOUND || s_ == SOURCE_DENIED ||	\
	    s_ == SOURCE_BROKEN, "%s: status %d, read \"%s\"", name, s_,	\
	    b_);							\
	ck_assert(strstr(b_, "secret") == NULL);			\
} while (0)

#define ASSERT_BROKEN(name, want_why) do {				\
	char b_[256];							\
	ck_assert_int_eq(get(name, b_, sizeof(b_)), SOURCE_BROKEN);	\
	ck_assert_str_eq(last_why, want_why);				\
} while (0)

START_TEST(serves_the_layout)
{
	ASSERT_GET("bootcode.bin", "bootcode\n");
	ASSERT_GET("/bootcode.bin", "bootcode\n");
	ASSERT_GET("//bootcode.bin", "bootcode\n");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	ASSERT_GET("/abcd1234/start4.elf", "start4\n");
	ASSERT_GET("abcd1234//start4.elf", "start4\n");
	ASSERT_GET("abcd1234/overlays/vc4.dtbo", "overlay\n");
	ASSERT_GET("abcd1234/overlays/../start4.elf", "start4\n");
	ASSERT_GET("abcd1234/./start4.elf", "start4\n");
	/* Links that stay inside the target are fine. */
	ASSERT_GET("abcd1234/inside-link", "start4\n");
	ASSERT_GET("abcd1234/ovl/vc4.dtbo", "overlay\n");
	ASSERT_GET("dir1/file", "dir1 file\n");
}
END_TEST

START_TEST(not_found_is_not_found)
{
	char b[64];

	ck_assert_int_eq(get("nothere", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/nothere", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("nothere/start4.elf", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	/* Directories are not files. */
	ck_assert_int_eq(get("abcd1234", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/overlays", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("/", b, sizeof(b)), SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("abcd1234/start4.elf/x", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
}
END_TEST

START_TEST(traversal_refused)
{
	ASSERT_REFUSED("../secret");
	ASSERT_REFUSED("..");
	ASSERT_REFUSED("./../secret");
	ASSERT_REFUSED("/../secret");
	ASSERT_REFUSED("a/../../b");
	ASSERT_REFUSED("dir1/../../secret");
	ASSERT_REFUSED("abcd1234/../../secret");
	ASSERT_REFUSED("abcd1234/../../../etc/passwd");
	ASSERT_REFUSED("abcd1234/../../etc/passwd");
	ASSERT_REFUSED("abcd1234/overlays/../../secret");
	ASSERT_REFUSED("/etc/passwd");
	ASSERT_REFUSED("etc/passwd");
	ASSERT_REFUSED("abcd1234//etc/passwd");
	ASSERT_REFUSED("abcd1234/%2e%2e/secret");
	ASSERT_REFUSED("abcd1234/..\\..\\secret");
}
END_TEST

START_TEST(symlinks_out_of_target_refused)
{
	char b[64];

	ck_assert_int_eq(get("abcd1234/abs-evil", b, sizeof(b)),
	    SOURCE_DENIED);
	ck_assert_int_eq(get("abcd1234/rel-evil", b, sizeof(b)),
	    SOURCE_DENIED);
	ck_assert_int_eq(get("abcd1234/passwd", b, sizeof(b)),
	    SOURCE_DENIED);
}
END_TEST

/* A Pi writes its own boot files: a name it makes is served as it is,
 * but the source's name, which the transfer's log lines carry, is
 * printable. */
START_TEST(source_names_are_printable)
{
	struct source *src;

	put("mnt/pi/a\nb\x1b", "odd\n");
	ck_assert_int_eq(resolve_open(rootfd, "abcd1234/a\nb\x1b", 13, &src,
	    last_why, sizeof(last_why)), SOURCE_OK);
	ck_assert_str_eq(src->name, "abcd1234/a?b?");
	ck_assert_str_eq(last_why, "");
	source_close(src);
}
END_TEST

START_TEST(fifo_neither_opened_nor_hangs)
{
	char b[64];

	ck_assert_int_eq(get("abcd1234/fifo", b, sizeof(b)), SOURCE_DENIED);
}
END_TEST

START_TEST(repointing_takes_effect)
{
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	link_("../mnt/other", "root/abcd1234");
	ASSERT_GET("abcd1234/start4.elf", "other start4\n");
	link_("../mnt/pi", "root/abcd1234");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	/* A dangling entry is broken, and says so. */
	link_("../mnt/gone", "root/abcd1234");
	ASSERT_BROKEN("abcd1234/start4.elf",
	    "broken boot entry abcd1234 -> ../mnt/gone: No such file or "
	    "directory");
}
END_TEST

START_TEST(long_and_odd_names)
{
	char name[1001], b[64];

	memset(name, 'a', 1000);
	name[1000] = '\0';
	ck_assert_int_eq(get(name, b, sizeof(b)), SOURCE_NOT_FOUND);
	memcpy(name, "abcd1234/", 9);
	ck_assert_int_eq(get(name, b, sizeof(b)), SOURCE_NOT_FOUND);
	/* An embedded NUL in the name as received. */
	ck_assert_int_eq(resolve_open(rootfd, "bootcode.bin\0x", 14,
	    &(struct source *){ NULL }, last_why, sizeof(last_why)),
	    SOURCE_NOT_FOUND);
	ck_assert_int_eq(get("boot\ncode.bin", b, sizeof(b)),
	    SOURCE_NOT_FOUND);
}
END_TEST

static void
read_netascii(const char *content, const char *want, size_t wantlen,
    size_t step)
{
	struct source *src, *na;
	char out[256];
	size_t got = 0;
	ssize_t n;

	put("root/text", content);
	ck_assert_int_eq(resolve_open(rootfd, "text", 4, &src, last_why,
	    sizeof(last_why)), SOURCE_OK);
	ck_assert_int_eq(netascii_wrap(src, &na), SOURCE_OK);
	while ((n = source_read(na, out + got, step, got)) > 0)
		got += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(got, wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	/* Reading again from the start rewinds. */
	n = source_read(na, out, sizeof(out), 0);
	ck_assert_int_eq(n, (ssize_t)wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	/* And from the middle. */
	if (wantlen >= 3) {
		n = source_read(na, out, sizeof(out), 3);
		ck_assert_int_eq(n, (ssize_t)wantlen - 3);
		ck_assert_mem_eq(out, want + 3, wantlen - 3);
	}
	source_close(na);
}

START_TEST(default_entry)
{
	/* No entry for 1234beef: a Pi without one gets nothing... */
	ASSERT_REFUSED("1234beef/start4.elf");
	link_("../mnt/other", "root/default");
	/* ...until there is a default entry, for serials and MACs alike. */
	ASSERT_GET("1234beef/start4.elf", "other start4\n");
	ASSERT_GET("dc-a6-32-01-36-c2/start4.elf", "other start4\n");
	/* A Pi with its own entry keeps it. */
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	/* Names that are not a machine's do not fall through to default. */
	ASSERT_REFUSED("notaserial/start4.elf");
	ASSERT_REFUSED("1234beeg/start4.elf");
	ASSERT_REFUSED("dc-a6-32-01-36/start4.elf");
	ASSERT_REFUSED("1234beef");
	/* The default entry's own path rules still hold. */
	ASSERT_REFUSED("1234beef/../../secret");
}
END_TEST

START_TEST(netascii_conversion)
{
	static const char want[] = "a\r\nb\r\0c\r\n\r\n";

	for (size_t step = 1; step < 8; step++)
		read_netascii("a\nb\rc\n\n", want, sizeof(want) - 1, step);
	read_netascii("", "", 0, 4);
}
END_TEST

/* --- what a request of one component may get ---------------------------- */

static int watch_ok;
static int have_devices;	/* mknod works here (root) */

/* Runs a fixture command in the scratch directory. */
static void
sh(const char *cmd)
{
	char full[PATH_MAX + 4096];
	int n;

	n = snprintf(full, sizeof(full), "cd '%s' && { %s ; } "
	    ">>fixture.log 2>&1", top, cmd);
	ck_assert_int_lt(n, (int)sizeof(full));
	ck_assert_msg(system(full) == 0, "fixture: %s", cmd);
}

/* The images, made once (sfdisk and mkfs sync the disk: slow) and copied
 * into each test's tree: an OS image (MBR: FAT16 partition 1 with the
 * boot files, partition 2 full of "ROOTFS-SECRET"), a bare FAT image, and
 * a sound partition table with no FAT partition. */
static char images[64];

static void
make_images(void)
{
	char cmd[4096];

	strlcpy(images, "/tmp/tftpd-resolve-img.XXXXXX", sizeof(images));
	ck_assert_ptr_nonnull(mkdtemp(images));
	snprintf(cmd, sizeof(cmd), "cd '%s' && { "
	    "export MTOOLS_SKIP_CHECK=1 && "
	    "truncate -s 8M pi.img && printf 'label: dos\\nstart=2048, "
	    "size=8192, type=6\\nstart=10240, type=83\\n' | sfdisk -q "
	    "pi.img && "
	    "yes ROOTFS-SECRET | head -c 3M | dd of=pi.img bs=64k "
	    "seek=80 iflag=fullblock conv=notrunc status=none && "
	    "mkfs.vfat -F 16 -s 1 --offset 2048 pi.img 4096 && "
	    "printf 'arm_64bit=1\\n' > config.txt && "
	    "printf 'start4 in the image\\n' > start4.elf && "
	    "mcopy -i pi.img@@1M config.txt start4.elf :: && "
	    "mkfs.vfat -C floppy.img 1440 && "
	    "mcopy -i floppy.img config.txt :: && "
	    "truncate -s 2M nofat.img && printf 'label: dos\\n"
	    "start=2048, type=83\\n' | sfdisk -q nofat.img; "
	    "} >fixture.log 2>&1", images);
	ck_assert_msg(system(cmd) == 0, "making the images in %s", images);
}

static void
remove_images(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", images);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", images);
}

/* The base layout, plus the images and entries of every kind pointing at
 * them:
 *   ab000001, dc-a6-32-01-36-c2, default, lab -> ../img/pi.img
 *   ab000002 -> ../img/pi.img#1
 *   ab000003 -> ../dev/blk      (a block device node, 7,0)
 *   ab000004                    (a block device node in the root)
 *   abcd1234 -> ../mnt/pi, dir1/ (directories, from the base layout) */
static void
setup_images(void)
{
	char p[PATH_MAX * 2];

	setup();
	mk("dev");
	snprintf(p, sizeof(p), "cp -r '%s' img", images);
	sh(p);
	link_("../img/pi.img", "root/ab000001");
	link_("../img/pi.img", "root/dc-a6-32-01-36-c2");
	link_("../img/pi.img", "root/default");
	link_("../img/pi.img", "root/lab");
	link_("../img/pi.img#1", "root/ab000002");
	link_("../dev/blk", "root/ab000003");
	snprintf(p, sizeof(p), "%s/dev/blk", top);
	have_devices = node_make(p, NODE_BLK) == 0;
	if (have_devices) {
		snprintf(p, sizeof(p), "%s/root/ab000004", top);
		ck_assert_int_eq(node_make(p, NODE_BLK), 0);
	} else {
		fprintf(stderr, "note: mknod needs root; device cases "
		    "skipped\n");
	}
	snprintf(p, sizeof(p), "%s/probe", top);
	watch_ok = node_watch_usable(p);
}

/* name is refused as "file not found", with reason in its log line. */
static void
assert_entry_refused(const char *name, const char *reason)
{
	struct source *src = NULL;
	enum source_status st;

	st = resolve_open(rootfd, name, strlen(name), &src, last_why,
	    sizeof(last_why));
	if (src != NULL) {
		uint64_t size = src->size;
		source_close(src);
		ck_abort_msg("%s: served, %ju bytes", name, (uintmax_t)size);
	}
	ck_assert_msg(st == SOURCE_NOT_FOUND, "%s: status %d", name, st);
	ck_assert_msg(last_why[0] != '\0' && strstr(last_why, reason),
	    "%s: refused because \"%s\", not \"%s\"", name,
	    last_why[0] ? last_why : "(quiet)", reason);
}

#define ASSERT_QUIET_MISS(name) do {					\
	char b_[256];							\
	ck_assert_int_eq(get(name, b_, sizeof(b_)), SOURCE_NOT_FOUND);	\
	ck_assert_msg(last_why[0] == '\0', "%s: logged \"%s\"", name,	\
	    last_why);							\
} while (0)

static const char *const spellings[] = {
	"%s", "%s/", "%s//", "/%s", "//%s/", "%s/.", "%s/./", "%s/././/",
};

static void
assert_refused_every_spelling(const char *entry, const char *reason)
{
	char name[128];

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]);
	    i++) {
		snprintf(name, sizeof(name), spellings[i], entry);
		assert_entry_refused(name, reason);
	}
}

START_TEST(entries_are_never_files)
{
	static const char *const entries[] = {
		"ab000001", "dc-a6-32-01-36-c2", "default", "lab",
		"ab000002", "ab000003", "abcd1234", "dir1",
	};
	char p[PATH_MAX * 2];
	int in1, in2;

	snprintf(p, sizeof(p), "%s/dev/blk", top);
	in1 = have_devices ? node_watch(p, watch_ok) : -1;
	snprintf(p, sizeof(p), "%s/root/ab000004", top);
	in2 = have_devices ? node_watch(p, watch_ok) : -1;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		assert_refused_every_spelling(entries[i], "boot entry");
	if (have_devices)
		assert_refused_every_spelling("ab000004", "boot entry");
	/* A block device behind an entry is an image, read through the rest
	 * of a path: asked for whole, it is not even opened. */
	node_assert_unopened(in1, "the block device behind ab000003");
	node_assert_unopened(in2, "the block device ab000004");
	/* And the boot files out of the same entries are there. */
	ASSERT_GET("ab000001/config.txt", "arm_64bit=1\n");
	ASSERT_GET("/ab000001//start4.elf", "start4 in the image\n");
	ASSERT_GET("ab000001/./config.txt", "arm_64bit=1\n");
	ASSERT_GET("dc-a6-32-01-36-c2/config.txt", "arm_64bit=1\n");
	ASSERT_GET("default/config.txt", "arm_64bit=1\n");
	ASSERT_GET("lab/start4.elf", "start4 in the image\n");
	ASSERT_GET("ab000002/config.txt", "arm_64bit=1\n");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
	ASSERT_GET("dir1/file", "dir1 file\n");
}
END_TEST

/* A machine with no entry boots "default": asked for whole, its name is
 * refused like the default entry itself, and quietly when there is no
 * default. */
START_TEST(machine_without_entry_never_gets_default_whole)
{
	assert_refused_every_spelling("deadbeef", "default");
	assert_refused_every_spelling("dc-a6-32-ff-ff-ff", "default");
	ASSERT_GET("deadbeef/config.txt", "arm_64bit=1\n");
	ck_assert_int_eq(unlinkat(rootfd, "default", 0), 0);
	ASSERT_QUIET_MISS("deadbeef");
	ASSERT_QUIET_MISS("deadbeef/");
	ASSERT_QUIET_MISS("deadbeef/config.txt");
}
END_TEST

/* An entry that is there never falls back to default, however it is
 * broken: it dangles, it points the wrong way (relative to the link),
 * it loops, it leads to a FIFO, or its image is one this user may not
 * read. The Pi gets "file not found" and the reason names the entry,
 * its target and why. A broken default is named as such. */
START_TEST(broken_entry_never_boots_default)
{
	char p[PATH_MAX * 2];
	pid_t pid;
	int status;

	link_("../mnt/other", "root/default");
	ASSERT_GET("1234beef/start4.elf", "other start4\n");
	link_("../nosuch.img", "root/aaaa0001");
	ASSERT_BROKEN("aaaa0001/start4.elf", "broken boot entry aaaa0001 -> "
	    "../nosuch.img: No such file or directory");
	put("pi-05.img", "an image beside root, not in it\n");
	link_("pi-05.img", "root/aaaa0005");
	ASSERT_BROKEN("aaaa0005/start4.elf", "broken boot entry aaaa0005 -> "
	    "pi-05.img: No such file or directory");
	link_("aaaa0002", "root/aaaa0002");
	ASSERT_BROKEN("aaaa0002/start4.elf", "broken boot entry aaaa0002 -> "
	    "aaaa0002: Too many levels of symbolic links");
	link_("../mnt/pi/fifo", "root/dc-a6-32-aa-aa-03");
	ASSERT_BROKEN("dc-a6-32-aa-aa-03/start4.elf", "broken boot entry "
	    "dc-a6-32-aa-aa-03 -> ../mnt/pi/fifo: a FIFO, socket or "
	    "character device: never opened");
	/* As a whole name, still an entry and never a file. */
	assert_refused_every_spelling("aaaa0001", "boot entry");

	/* Readable to root, not to nobody: as nobody, a child asks. */
	snprintf(p, sizeof(p), "%s/mnt/other", top);
	ck_assert_int_eq(chmod(p, 0700), 0);
	ck_assert_int_eq(chmod(top, 0755), 0);
	link_("../mnt/other", "root/aaaa0007");
	if ((pid = fork()) == 0) {
		char b[64];

		if (geteuid() == 0 && setresuid(65534, 65534, 65534) == -1)
			_exit(10);
		if (get("aaaa0007/start4.elf", b, sizeof(b)) != SOURCE_BROKEN)
			_exit(11);
		if (strcmp(last_why, "broken boot entry aaaa0007 -> "
		    "../mnt/other: Permission denied (netboot(7), "
		    "OWNERSHIP)") != 0) {
			fprintf(stderr, "why: %s\n", last_why);
			_exit(12);
		}
		_exit(0);
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(chmod(p, 0755), 0);

	/* A broken default: a Pi without an entry gets nothing, and the
	 * reason names default. */
	link_("../mnt/gone", "root/default");
	ASSERT_BROKEN("1234beef/start4.elf", "broken boot entry default -> "
	    "../mnt/gone: No such file or directory");
	/* A name that is not a machine's never asked for default. */
	ASSERT_QUIET_MISS("notaserial/start4.elf");
	ASSERT_GET("abcd1234/start4.elf", "start4\n");
}
END_TEST

/* An entry that leads to an image in Ceph (NAME.img -> rbd:POOL/IMAGE,
 * dangling on purpose) is refused with the image and the reason; as a
 * whole name it is an entry like any other. */
START_TEST(entry_in_ceph_refused)
{
	link_("rbd:pis/class@v2", "class.img");
	link_("../class.img", "root/aaaa0008");
	ASSERT_BROKEN("aaaa0008/start4.elf", "boot entry aaaa0008 leads to an "
	    "image in Ceph (rbd:pis/class@v2), but tftpd was started without "
	    "-C [ID@]CONF");
	/* "#N" picks a partition of it: still the image in Ceph. */
	link_("../class.img#2", "root/aaaa0009");
	ASSERT_BROKEN("aaaa0009/config.txt", "boot entry aaaa0009 leads to an "
	    "image in Ceph (rbd:pis/class@v2), but tftpd was started without "
	    "-C [ID@]CONF");
	/* What default boots, for a machine without an entry. */
	link_("../class.img", "root/default");
	ASSERT_BROKEN("1234beef/start4.elf", "boot entry default leads to an "
	    "image in Ceph (rbd:pis/class@v2), but tftpd was started without "
	    "-C [ID@]CONF");
	assert_refused_every_spelling("aaaa0008", "boot entry");
	/* Not an image's name: broken, saying so. */
	link_("rbd:pis", "bad.img");
	link_("../bad.img", "root/aaaa000a");
	ck_assert_int_eq(get("aaaa000a/start4.elf", (char[64]){ 0 }, 64),
	    SOURCE_BROKEN);
	ck_assert_ptr_nonnull(strstr(last_why, "not rbd:POOL/IMAGE[@SNAP]"));
}
END_TEST

/* In the root, a symlink is an entry, never a file: not followed for a
 * request of one component, wherever it points. */
START_TEST(root_symlink_is_not_followed)
{
	char p[PATH_MAX * 2];

	link_("../mnt/pi/start4.elf", "root/fw.bin");
	link_("bootcode.bin", "root/bootcode-link.bin");
	snprintf(p, sizeof(p), "%s/secret", top);
	link_(p, "root/abs-secret");
	link_("/etc/passwd", "root/passwd");
	link_("/", "root/slash");
	link_("nowhere", "root/dangling");
	assert_refused_every_spelling("fw.bin", "boot entry");
	assert_refused_every_spelling("bootcode-link.bin", "boot entry");
	assert_refused_every_spelling("abs-secret", "boot entry");
	assert_refused_every_spelling("passwd", "boot entry");
	assert_refused_every_spelling("slash", "boot entry");
	assert_refused_every_spelling("dangling", "boot entry");
	ASSERT_GET("bootcode.bin", "bootcode\n");
}
END_TEST

/* A regular file of the root that is an image (a hard link, a copy) is
 * an entry too; so is a file named like a serial, a MAC entry or
 * "default", whatever it holds. */
START_TEST(images_and_entry_names_in_the_root)
{
	char p[PATH_MAX * 2], q[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/img/pi.img", top);
	snprintf(q, sizeof(q), "%s/root/lab2", top);
	ck_assert_int_eq(link(p, q), 0);
	snprintf(p, sizeof(p), "%s/img/floppy.img", top);
	snprintf(q, sizeof(q), "%s/root/floppy", top);
	ck_assert_int_eq(link(p, q), 0);
	sh("cp img/nofat.img root/nofat");
	assert_refused_every_spelling("lab2", "OS image");
	assert_refused_every_spelling("floppy", "OS image");
	assert_refused_every_spelling("nofat", "OS image");
	/* Boot files out of a hard-linked image are served as from a
	 * symlinked one. */
	ASSERT_GET("lab2/config.txt", "arm_64bit=1\n");
	ASSERT_GET("floppy/config.txt", "arm_64bit=1\n");

	sh("cp img/pi.img root/ab000009");
	put("root/ab00000a", "not an image at all\n");
	put("root/AB00000B", "nor this\n");
	put("root/dc-a6-32-00-00-01", "nor this\n");
	ck_assert_int_eq(unlinkat(rootfd, "default", 0), 0);
	put("root/default", "nor this\n");
	assert_refused_every_spelling("ab000009", "named like a boot entry");
	assert_refused_every_spelling("ab00000a", "named like a boot entry");
	assert_refused_every_spelling("AB00000B", "named like a boot entry");
	assert_refused_every_spelling("dc-a6-32-00-00-01",
	    "named like a boot entry");
	assert_refused_every_spelling("default", "named like a boot entry");
}
END_TEST

/* Plain boot files of the root are still served; "bootcode.bin/" is not a
 * directory; a file whose first sector merely ends in 55 aa is not taken
 * for an image; a Pi's probing for missing files stays quiet. */
START_TEST(plain_files_still_served)
{
	char sector[1024];
	struct source *src;
	char p[PATH_MAX * 2];
	FILE *f;

	ASSERT_GET("bootcode.bin", "bootcode\n");
	ASSERT_GET("/bootcode.bin", "bootcode\n");
	ASSERT_QUIET_MISS("bootcode.bin/");
	ASSERT_QUIET_MISS("bootcode.bin/.");
	memset(sector, 0xff, sizeof(sector));
	sector[510] = 0x55;
	sector[511] = (char)0xaa;
	snprintf(p, sizeof(p), "%s/root/start.elf", top);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	ck_assert_uint_eq(fwrite(sector, 1, sizeof(sector), f),
	    sizeof(sector));
	fclose(f);
	ck_assert_int_eq(resolve_open(rootfd, "start.elf", 9, &src,
	    last_why, sizeof(last_why)), SOURCE_OK);
	ck_assert_uint_eq(src->size, sizeof(sector));
	source_close(src);
	/* Empty and tiny files. */
	put("root/empty.bin", "");
	ASSERT_GET("empty.bin", "");
	ASSERT_QUIET_MISS("start4.elf");
	ASSERT_QUIET_MISS("config.txt");
	ASSERT_QUIET_MISS("abcd1234/nothere.elf");
	ASSERT_QUIET_MISS("ab000001/nothere.elf");
	ASSERT_QUIET_MISS("1234beef/nothere.elf");
}
END_TEST

/* A FIFO, a socket, a character and a block device in each place a name
 * can reach: refused at once and never opened. In the root and behind a
 * root symlink "file not found"; beneath a directory entry "access
 * violation" (dirsource's rule for what is not a regular file). */
START_TEST(special_files_never_opened)
{
	char p[PATH_MAX * 2], name[64], target[64];

	mk("spec");
	for (int k = 0; k < NODE_KINDS; k++) {
		const char *kind = node_kind_name[k];
		int in_root, in_dir, in_spec;

		snprintf(p, sizeof(p), "%s/root/node-%s", top, kind);
		if (node_make(p, (enum node_kind)k) == -1) {
			fprintf(stderr, "note: cannot make a %s node: %s\n",
			    kind, strerror(errno));
			continue;
		}
		in_root = node_watch(p, watch_ok);
		snprintf(p, sizeof(p), "%s/mnt/pi/node-%s", top, kind);
		ck_assert_int_eq(node_make(p, (enum node_kind)k), 0);
		in_dir = node_watch(p, watch_ok);
		snprintf(p, sizeof(p), "%s/spec/node-%s", top, kind);
		ck_assert_int_eq(node_make(p, (enum node_kind)k), 0);
		in_spec = node_watch(p, watch_ok);

		/* In the root. */
		snprintf(name, sizeof(name), "node-%s", kind);
		assert_refused_every_spelling(name, k == NODE_BLK ?
		    "boot entry" : "never opened");
		if (k != NODE_BLK) {
			snprintf(name, sizeof(name), "node-%s/config.txt",
			    kind);
			ASSERT_REFUSED(name);
		}
		/* As the target of a root symlink. */
		snprintf(name, sizeof(name), "link-%s", kind);
		snprintf(target, sizeof(target), "../spec/node-%s", kind);
		snprintf(p, sizeof(p), "root/%s", name);
		link_(target, p);
		assert_refused_every_spelling(name, "boot entry");
		if (k != NODE_BLK) {
			snprintf(name, sizeof(name), "link-%s/config.txt",
			    kind);
			ASSERT_REFUSED(name);
		}
		/* Inside a directory entry, and behind a symlink there. */
		snprintf(name, sizeof(name), "abcd1234/node-%s", kind);
		ck_assert_int_eq(get(name, p, sizeof(p)), SOURCE_DENIED);
		snprintf(name, sizeof(name), "abcd1234/link-%s", kind);
		snprintf(target, sizeof(target), "node-%s", kind);
		snprintf(p, sizeof(p), "mnt/pi/link-%s", kind);
		link_(target, p);
		ck_assert_int_eq(get(name, p, sizeof(p)), SOURCE_DENIED);

		node_assert_unopened(in_root, "a node in the root");
		node_assert_unopened(in_dir, "a node in a directory entry");
		node_assert_unopened(in_spec, "a node behind a root symlink");
	}
}
END_TEST

static Suite *
resolve_suite(void)
{
	Suite *s = suite_create("tftpd_resolve");
	TCase *tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, serves_the_layout);
	tcase_add_test(tc, not_found_is_not_found);
	tcase_add_test(tc, traversal_refused);
	tcase_add_test(tc, symlinks_out_of_target_refused);
	tcase_add_test(tc, source_names_are_printable);
	tcase_add_test(tc, fifo_neither_opened_nor_hangs);
	tcase_add_test(tc, repointing_takes_effect);
	tcase_add_test(tc, long_and_odd_names);
	tcase_add_test(tc, default_entry);
	tcase_add_test(tc, netascii_conversion);
	suite_add_tcase(s, tc);

	tc = tcase_create("one component");
	tcase_add_unchecked_fixture(tc, make_images, remove_images);
	tcase_add_checked_fixture(tc, setup_images, teardown);
	tcase_add_test(tc, entries_are_never_files);
	tcase_add_test(tc, machine_without_entry_never_gets_default_whole);
	tcase_add_test(tc, broken_entry_never_boots_default);
	tcase_add_test(tc, root_symlink_is_not_followed);
	tcase_add_test(tc, images_and_entry_names_in_the_root);
	tcase_add_test(tc, plain_files_still_served);
	tcase_add_test(tc, special_files_never_opened);
	tcase_add_test(tc, entry_in_ceph_refused);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(resolve_suite)
