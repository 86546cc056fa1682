/* libFuzzer harness over tftpd's name resolution (resolve_open) on a real
 * tree, built once in a scratch directory (removed at exit):
 *
 *   root/bootcode.bin                     a plain file of the root
 *   root/1234abcd -> ../mnt/pi            a directory entry: boot files,
 *                                         and symlinks a hostile Pi made
 *                                         to the sentinel, /etc/passwd, /
 *   root/abcd1234, dc-a6-32-01-36-c2, default, lab -> ../img/pi.img
 *   root/ab000002 -> ../img/pi.img#1
 *   root/lab2                             a hard link to the image
 *   root/fw.bin -> ../outside/sentinel    root symlinks to files (an
 *   root/passwd -> /etc/passwd            entry, never followed whole)
 *   root/fifo, mnt/pi/fifo, root/null, mnt/pi/null   FIFOs and devices
 *   root/aaaa0001 -> ../nosuch.img        broken entries: dangling, the
 *   root/aaaa0005 -> pi.img               wrong way, a loop, to a FIFO;
 *   root/aaaa0002 -> aaaa0002             a Pi's name, so a fallback to
 *   root/aaaa0003 -> ../outside/fifo      default would serve its files
 *   outside/sentinel                      never to be served
 *
 * The image is an MBR with a FAT16 boot partition and a second partition;
 * before it was partitioned and formatted, every byte was a marker
 * pattern, so free clusters, the gap before the partition, the second
 * partition and every slack byte hold the marker. The sentinels hold it
 * too. For each input (a requested name, any bytes) resolve_open must
 * return no source, or one whose bytes are exactly one of the files that
 * may be sent (bootcode.bin, the directory entry's files, the image's FAT
 * files) and hold no marker; a name beneath a broken entry gets nothing
 * at all (never default's files). The FIFOs and devices must never be opened
 * (an inotify watch on each; a writer is held on each FIFO so that a
 * wrong open shows instead of hanging). The same bytes go to the pure
 * split (exposure.h) too: its parts must be what resolve_open walks (no
 * leading '/', no "." or ".." entry, a root file with no '/', an entry
 * no longer than a file name), and a name it refuses gets nothing. */
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tftpd/exposure.h"
#include "tftpd/resolve.h"

#define MARKER		"XMARKERX"
#define MAX_SERVED	(4u << 20)	/* larger than every allowed file */

static char top[64];
static int rootfd = -1;
static int watch = -1;

struct allowed {
	uint8_t *bytes;
	size_t len;
};
static struct allowed allowed[16];
static size_t nallowed;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_tftpd_resolve: %s: %s\n", what, strerror(errno));
	abort();
}

static const char *
at(const char *rel)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

/* Writes len bytes of a pattern that differs per seed, and records them
 * as a file that may be sent. */
static void
make_allowed(const char *rel, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	uint8_t *b = malloc(len ? len : 1);
	FILE *f;

	if (b == NULL)
		die("malloc");
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	if (memmem(b, len, MARKER, strlen(MARKER)) != NULL)
		abort();	/* pick another seed */
	if ((f = fopen(at(rel), "w")) == NULL)
		die(rel);
	if (fwrite(b, 1, len, f) != len || fclose(f) != 0)
		die(rel);
	allowed[nallowed].bytes = b;
	allowed[nallowed++].len = len;
}

static void
run(const char *cmd)
{
	char full[2048];

	snprintf(full, sizeof(full), "cd '%s' && { %s ; } >>fixture.log 2>&1",
	    top, cmd);
	if (system(full) != 0) {
		fprintf(stderr, "fuzz_tftpd_resolve: fixture failed: %s "
		    "(see %s/fixture.log)\n", cmd, top);
		abort();
	}
}

/* Kernels before 5.13 report an O_PATH open as IN_OPEN: the watches could
 * not tell a look from an open there, and are left out. */
static int watching = 1;

static void
watch_usable(void)
{
	char ev[4096];
	int fd, w;

	run("touch probe");
	if ((w = inotify_add_watch(watch, at("probe"), IN_OPEN)) == -1)
		die("probe");
	if ((fd = open(at("probe"), O_PATH | O_CLOEXEC)) == -1)
		die("probe");
	close(fd);
	if (read(watch, ev, sizeof(ev)) > 0) {
		fprintf(stderr, "fuzz_tftpd_resolve: note: this kernel reports "
		    "O_PATH opens; FIFOs and devices are not watched\n");
		watching = 0;
	}
	inotify_rm_watch(watch, w);
	while (read(watch, ev, sizeof(ev)) > 0)
		;
}

static void
watch_node(const char *rel)
{
	if (!watching)
		return;
	if (inotify_add_watch(watch, at(rel), IN_OPEN | IN_ACCESS) == -1)
		die(rel);
}

/* A FIFO with a writer held open: a reader that opens it does not block,
 * and the watch sees the open. */
static void
make_fifo(const char *rel)
{
	if (mkfifo(at(rel), 0644) == -1)
		die(rel);
	if (open(at(rel), O_RDWR | O_CLOEXEC) == -1)
		die(rel);
	watch_node(rel);
}

static void
make_chr(const char *rel)
{
	if (mknod(at(rel), S_IFCHR | 0644, makedev(1, 3)) == -1) {
		fprintf(stderr, "fuzz_tftpd_resolve: note: no device node "
		    "%s: %s\n", rel, strerror(errno));
		return;
	}
	watch_node(rel);
}

static void
remove_tree(void)
{
	char cmd[128];

	if (top[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
}

static void
build_tree(void)
{
	char cmd[1024];
	FILE *f;

	strlcpy(top, "/tmp/fuzz-resolve.XXXXXX", sizeof(top));
	if (mkdtemp(top) == NULL)
		die("mkdtemp");
	atexit(remove_tree);
	run("mkdir -p root mnt/pi/overlays img outside src");
	if ((f = fopen(at("outside/sentinel"), "w")) == NULL)
		die("sentinel");
	fputs("sentinel " MARKER " outside the root\n", f);
	fclose(f);

	make_allowed("root/bootcode.bin", 1234, 1);
	make_allowed("mnt/pi/start4.elf", 5000, 2);
	make_allowed("mnt/pi/config.txt", 40, 3);
	make_allowed("mnt/pi/overlays/x.dtbo", 700, 4);
	make_allowed("mnt/pi/empty.bin", 0, 5);
	run("ln -s ../outside/sentinel mnt/pi/rel && "
	    "ln -s \"$PWD/outside/sentinel\" mnt/pi/abs && "
	    "ln -s /etc/passwd mnt/pi/passwd && ln -s / mnt/pi/slash && "
	    "ln -s overlays mnt/pi/ovl && ln -s ../mnt/pi root/1234abcd");

	/* The image: the marker everywhere first, then the table, the file
	 * system and the files over it. */
	make_allowed("src/start4.elf", 70000, 6);
	make_allowed("src/config.txt", 33, 7);
	make_allowed("src/cmdline.txt", 80, 8);
	make_allowed("src/vc4.dtbo", 3911, 9);
	make_allowed("src/deep.bin", 2049, 10);
	snprintf(cmd, sizeof(cmd), "export MTOOLS_SKIP_CHECK=1 && "
	    "yes %s | tr -d '\\n' | head -c 8M > img/pi.img && "
	    "printf 'label: dos\\nstart=2048, size=8192, type=6\\n"
	    "start=10240, type=83\\n' | sfdisk -q --wipe never img/pi.img && "
	    "mkfs.vfat -F 16 -s 1 --offset 2048 img/pi.img 4096 && "
	    "mcopy -i img/pi.img@@1M src/start4.elf src/config.txt "
	    "src/cmdline.txt :: && mmd -i img/pi.img@@1M ::overlays ::d1 && "
	    "mcopy -i img/pi.img@@1M src/vc4.dtbo ::overlays/vc4.dtbo && "
	    "mcopy -i img/pi.img@@1M src/deep.bin ::d1/deep.bin && "
	    "grep -c %s img/pi.img", MARKER, MARKER);
	run(cmd);
	run("for e in abcd1234 dc-a6-32-01-36-c2 default lab; do "
	    "ln -s ../img/pi.img root/$e; done && "
	    "ln -s '../img/pi.img#1' root/ab000002 && "
	    "ln img/pi.img root/lab2 && ln -s ../outside/sentinel root/fw.bin && "
	    "ln -s ../mnt/pi/start4.elf root/fw2.bin && "
	    "ln -s /etc/passwd root/passwd");

	if ((watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		die("inotify");
	watch_usable();
	make_fifo("root/fifo");
	make_fifo("mnt/pi/fifo");
	make_fifo("outside/fifo");
	run("ln -s ../outside/fifo root/fifolink && "
	    "ln -s ../../outside/fifo mnt/pi/fifolink && "
	    "ln -s ../nosuch.img root/aaaa0001 && "
	    "ln -s pi.img root/aaaa0005 && ln -s aaaa0002 root/aaaa0002 && "
	    "ln -s ../outside/fifo root/aaaa0003");
	make_chr("root/null");
	make_chr("mnt/pi/null");

	if ((rootfd = open(at("root"), O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		die("root");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("tftpd", 0, 0);
	build_tree();
	return 0;
}

static void
check_source(struct source *src, const char *name, size_t len)
{
	static uint8_t buf[MAX_SERVED + 1468];
	uint64_t off = 0;
	ssize_t n;

	if (src->size > MAX_SERVED) {
		fprintf(stderr, "%.*s: served %ju bytes, more than any file "
		    "that may be sent\n", (int)len, name,
		    (uintmax_t)src->size);
		abort();
	}
	while (off <= MAX_SERVED &&
	    (n = source_read(src, buf + off, 1468, off)) > 0)
		off += (uint64_t)n;
	if (memmem(buf, off, MARKER, strlen(MARKER)) != NULL) {
		fprintf(stderr, "%.*s: served bytes holding the marker\n",
		    (int)len, name);
		abort();
	}
	for (size_t i = 0; i < nallowed; i++)
		if (allowed[i].len == off &&
		    memcmp(allowed[i].bytes, buf, off) == 0)
			return;
	fprintf(stderr, "%.*s: served %ju bytes that are no file that may be "
	    "sent\n", (int)len, name, (uintmax_t)off);
	abort();
}

/* Whether the request's first component (after any leading '/') is one
 * of the broken entries. */
static int
beneath_broken_entry(const uint8_t *data, size_t size)
{
	static const char *const broken[] = {
		"aaaa0001", "aaaa0005", "aaaa0002", "aaaa0003",
	};

	while (size > 0 && *data == '/') {
		data++;
		size--;
	}
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		if (size >= 8 && memcmp(data, broken[i], 8) == 0 &&
		    (size == 8 || data[8] == '/'))
			return 1;
	return 0;
}

/* The split of data as exposure.h gives it, checked against its promises;
 * returns its status. */
static enum source_status
check_split(const uint8_t *data, size_t size)
{
	struct exposure_name n;
	enum source_status st;
	size_t plen;

	if ((st = exposure_split((const char *)data, size, &n)) != SOURCE_OK)
		return st;
	plen = strlen(n.path);
	if (plen == 0 || n.path[0] == '/' || n.first_len == 0 ||
	    n.first_len > plen || (n.path[0] == '.' && (n.first_len == 1 ||
	    (n.first_len == 2 && n.path[1] == '.'))))
		abort();
	if (n.root_file) {
		if (plen != n.first_len || memchr(n.path, '/', plen) ||
		    n.rest[0] != '\0')
			abort();
	} else if (n.first_len > NAME_MAX || n.path[n.first_len] != '/' ||
	    n.rest <= n.path + n.first_len || n.rest >= n.path + plen ||
	    n.rest[0] == '/' || n.beneath) {
		abort();
	}
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source *src = NULL;
	char ev[4096], why[SOURCE_WHY_LEN];
	enum source_status st, split;

	split = check_split(data, size);
	memset(why, 'x', sizeof(why));
	st = resolve_open(rootfd, (const char *)data, size, &src, why,
	    sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	if (st == SOURCE_OK) {
		if (src == NULL)
			abort();
		if (beneath_broken_entry(data, size)) {
			fprintf(stderr, "%.*s: served beneath a broken entry\n",
			    (int)size, (const char *)data);
			abort();
		}
		check_source(src, (const char *)data, size);
		source_close(src);
	} else if (src != NULL) {
		abort();
	}
	if (split != SOURCE_OK && (st != split || why[0] != '\0'))
		abort();
	/* A reason only for a refusal that is told, a broken image or an
	 * error; never for a file served or a traversal refused. */
	if (why[0] != '\0' && st != SOURCE_NOT_FOUND && st != SOURCE_BROKEN &&
	    st != SOURCE_ERROR)
		abort();
	if (read(watch, ev, sizeof(ev)) > 0) {
		fprintf(stderr, "%.*s: a FIFO or device was opened\n",
		    (int)size, (const char *)data);
		abort();
	}
	return 0;
}
