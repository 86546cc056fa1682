/* The steps that edit the image for its distribution: recognise it, the
 * kernel command line and its source, fstab, the first-boot steps, and
 * the end: ownership, mode and the rename into place. */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "fstab.h"
#include "kcmdline.h"
#include "prep.h"
#include "run.h"
#include "shvars.h"

void
step_recognise(struct prep *p)
{
	struct image_facts f;
	uint8_t *osr, *cmd, *cfg;
	size_t len;

	memset(&f, 0, sizeof(f));
	osr = root_read_file(p, "/etc/os-release", &len);
	if (osr == NULL)
		osr = root_read_file(p, "/usr/lib/os-release", &len);
	f.os_release = (const char *)osr;
	f.rpi_issue = root_exists(p, "/etc/rpi-issue");
	f.sys_mods = root_exists(p, "/usr/lib/raspberrypi-sys-mods");
	f.raspi_firmware = root_exists(p, "/etc/default/raspi-firmware");
	f.flash_kernel = root_exists(p, "/usr/sbin/flash-kernel");
	cmd = fat_read_file(p, "cmdline.txt", &len);
	cfg = fat_read_file(p, "config.txt", &len);
	f.cmdline_txt = cmd != NULL;
	f.config_txt = cfg != NULL;
	recognise(&f, &p->rec);
	free(osr);
	free(cmd);
	free(cfg);
	if (p->rec.distro == DISTRO_UNKNOWN)
		prep_fail(p, "recognise", "%s: not an image netboot-prep "
		    "knows: %s", p->image, p->rec.why);
	log_info("recognise: %s, %s (%s)", distro_name(p->rec.distro),
	    p->rec.name, p->rec.why);
}

void
step_cmdline(struct prep *p)
{
	struct kcmdline_edit e = { p->server, p->name, p->root.number };
	char out[KCMDLINE_MAX], removed[KCMDLINE_MAX], why[512];
	uint8_t *cmd;
	size_t len;

	if ((cmd = fat_read_file(p, "cmdline.txt", &len)) == NULL)
		prep_fail(p, "cmdline", "no cmdline.txt in the FAT partition");
	switch (kcmdline_rewrite((char *)cmd, len, &e, out, sizeof(out),
	    removed, sizeof(removed))) {
	case KCMDLINE_OK:
		break;
	case KCMDLINE_TOO_LONG:
		prep_fail(p, "cmdline", "cmdline.txt would be longer than %d "
		    "bytes", KCMDLINE_MAX);
	case KCMDLINE_BAD:
		prep_fail(p, "cmdline", "cmdline.txt is empty or holds control "
		    "characters: not a kernel command line");
	}
	free(cmd);
	if (fat_write_file(p, "cmdline.txt", out, strlen(out), why,
	    sizeof(why)) == -1)
		prep_fail(p, "cmdline", "writing cmdline.txt: %s", why);
	out[strcspn(out, "\n")] = '\0';
	log_info("cmdline: cmdline.txt: %s", out);
	if (removed[0])
		log_info("cmdline: removed the SD card's first-boot steps: %s",
		    removed);

	if (p->rec.distro != DISTRO_DEBIAN)
		return;
	/* raspi-firmware writes cmdline.txt anew on each kernel update:
	 * root=$ROOTPART from /etc/default/raspi-firmware, then the words
	 * of /etc/default/raspi-extra-cmdline. */
	{
		char dev[NBD_DEV_MAX], *buf = malloc(65536);
		uint8_t *def, *extra;
		size_t dl, el = 0;
		struct kcmdline_edit ex = { p->server, p->name, 0 };
		char eout[KCMDLINE_MAX], erem[KCMDLINE_MAX];

		if (buf == NULL)
			prep_fail(p, "cmdline", "out of memory");
		if ((def = root_read_file(p, "/etc/default/raspi-firmware",
		    &dl)) == NULL)
			prep_fail(p, "cmdline", "/etc/default/raspi-firmware: "
			    "%s", strerror(errno));
		nbd_partition(p->root.number, dev);
		snprintf(why, sizeof(why), "not a text file, or too long");
		if (shvar_set((char *)def, dl, "ROOTPART", dev, buf, 65536) ==
		    -1 || root_write_file(p, "/etc/default/raspi-firmware",
		    buf, strlen(buf), 0644, why, sizeof(why)) == -1)
			prep_fail(p, "cmdline", "/etc/default/raspi-firmware: "
			    "%s", why);
		free(def);
		extra = root_read_file(p, "/etc/default/raspi-extra-cmdline",
		    &el);
		if (kcmdline_rewrite(extra ? (char *)extra : "", el, &ex, eout,
		    sizeof(eout), erem, sizeof(erem)) != KCMDLINE_OK)
			prep_fail(p, "cmdline", "/etc/default/raspi-extra-"
			    "cmdline: control characters, or too long");
		free(extra);
		if (root_write_file(p, "/etc/default/raspi-extra-cmdline",
		    eout, strlen(eout), 0644, why, sizeof(why)) == -1)
			prep_fail(p, "cmdline", "%s", why);
		eout[strcspn(eout, "\n")] = '\0';
		log_info("cmdline: for kernel updates (raspi-firmware): "
		    "ROOTPART=%s, raspi-extra-cmdline: %s", dev, eout);
		free(buf);
	}
}

void
step_fstab(struct prep *p)
{
	char *out = malloc(FSTAB_MAX), why[512];
	struct fstab_report rep;
	uint8_t *in;
	size_t len;

	if (out == NULL)
		prep_fail(p, "fstab", "out of memory");
	if ((in = root_read_file(p, "/etc/fstab", &len)) == NULL)
		prep_fail(p, "fstab", "/etc/fstab: %s", strerror(errno));
	switch (fstab_rewrite((char *)in, len, p->root.number, p->boot.number,
	    out, FSTAB_MAX, &rep)) {
	case FSTAB_OK:
		break;
	case FSTAB_TOO_LONG:
		prep_fail(p, "fstab", "/etc/fstab is too long");
	case FSTAB_NO_ROOT:
		prep_fail(p, "fstab", "/etc/fstab has no line for \"/\": "
		    "not the root file system of a Pi image");
	case FSTAB_BAD:
		prep_fail(p, "fstab", "/etc/fstab holds a NUL byte: not a "
		    "text file");
	}
	free(in);
	if (rep.boot_line == 0)
		log_warn("fstab: no line mounts the boot partition: kernel "
		    "updates will not reach the Pi's boot files");
	if (root_write_file(p, "/etc/fstab", out, strlen(out), 0644, why,
	    sizeof(why)) == -1)
		prep_fail(p, "fstab", "%s", why);
	log_info("fstab: / on /dev/nbd0p%d%s%s%s", p->root.number,
	    rep.boot_line ? ", " : "", rep.boot_dir,
	    rep.boot_line ? " on the export's boot partition" : "");
	free(out);
}

/* Debian's raspi images (image-specs) grow the root on first boot with
 * rpi-resizerootfs.service; Ubuntu with cloud-init's growpart and
 * resize_rootfs. The image is sized on the server (-S); over NBD the
 * disk is the export, and nothing must grow it. */
void
step_firstboot(struct prep *p)
{
	static const char cloud[] =
	    "# netboot-prep: the image is sized on the boot server "
	    "(netboot-prep -S);\n# its root is on NBD, not on an SD card "
	    "to grow into.\ngrowpart:\n  mode: off\nresize_rootfs: false\n";
	static const char *const wants[] = {
		"/etc/systemd/system/multi-user.target.wants/"
		    "rpi-resizerootfs.service",
		"/etc/systemd/system/basic.target.requires/"
		    "rpi-resizerootfs.service",
		"/etc/systemd/system/sysinit.target.wants/"
		    "rpi-resizerootfs.service",
	};
	char why[512], f[PATH_MAX * 2];

	if (p->rec.distro == DISTRO_UBUNTU && root_exists(p, "/etc/cloud")) {
		if (root_write_file(p, "/etc/cloud/cloud.cfg.d/"
		    "99-netboot-prep.cfg", cloud, sizeof(cloud) - 1, 0644,
		    why, sizeof(why)) == -1)
			prep_fail(p, "first boot", "%s", why);
		log_info("first boot: cloud-init's growpart and resize_rootfs "
		    "off (/etc/cloud/cloud.cfg.d/99-netboot-prep.cfg)");
	}
	for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++) {
		if (!root_exists(p, wants[i]))
			continue;
		snprintf(f, sizeof(f), "%s%s", p->mnt, wants[i]);
		if (unlink(f) == -1)
			prep_fail(p, "first boot", "%s: %s", wants[i],
			    strerror(errno));
		log_info("first boot: rpi-resizerootfs.service disabled");
	}
}

void
step_nbd_client(struct prep *p)
{
	char names[INITRAMFS_MAX][FAT_FILE_NAME];
	char **fat;
	size_t nfat, n, len;
	uint8_t *cfg;

	if ((cfg = fat_read_file(p, "config.txt", &len)) == NULL)
		prep_fail(p, "nbd-client", "no config.txt in the FAT partition");
	fat = fat_list_root(p, &nfat);
	n = config_initramfs((char *)cfg, len, (const char *const *)fat, nfat,
	    names, INITRAMFS_MAX);
	free(cfg);
	for (size_t i = 0; i < nfat; i++)
		free(fat[i]);
	free(fat);
	initrd_prepare(p, names, n);
}

void
step_finish(struct prep *p)
{
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;
	int mode, lockfd = -1;
	char why[512];
	const char *fsck[] = { "e2fsck", "-f", "-n", NULL, NULL };

	prep_unmount(p);
	/* The file system as the Pi will find it: clean. */
	{
		char off[32], len[32];
		const char *argv[] = { "losetup", "--find", "--show", "-r",
		    "-o", off, "--sizelimit", len, p->work, NULL };
		struct run_io io = { .out_fd = -1 };

		snprintf(off, sizeof(off), "%llu",
		    (unsigned long long)p->root.start);
		snprintf(len, sizeof(len), "%llu",
		    (unsigned long long)p->root.length);
		if (run(argv, &io, why, sizeof(why)) == -1)
			prep_fail(p, "finish", "losetup: %s", why);
		snprintf(p->loopdev, sizeof(p->loopdev), "%.*s",
		    (int)strcspn((char *)io.out, "\n"), (char *)io.out);
		free(io.out);
		fsck[3] = p->loopdev;
		if (run(fsck, NULL, why, sizeof(why)) == -1)
			prep_fail(p, "finish", "e2fsck -n of the prepared root: "
			    "%s", why);
		{
			const char *d[] = { "losetup", "-d", p->loopdev, NULL };

			(void)run(d, NULL, why, sizeof(why));
			p->loopdev[0] = '\0';
		}
	}

	if ((pw = getpwnam(p->user)) == NULL)
		prep_fail(p, "finish", "no user %s: create it (adduser --system "
		    "--group --no-create-home %s) or name nbdd's user with -u",
		    p->user, p->user);
	if ((gr = getgrnam(p->group)) == NULL)
		prep_fail(p, "finish", "no group %s: create it (addgroup "
		    "--system %s) or name one with -g", p->group, p->group);
	uid = p->shared ? 0 : pw->pw_uid;
	gid = gr->gr_gid;
	mode = p->mode >= 0 ? p->mode : p->shared ? 0440 : 0640;
	if (p->shared && (mode & 0222))
		prep_fail(p, "finish", "-b with -m %04o: a shared base has no "
		    "write bit at all (nbdd(8), SHARED BASES)", mode);
	if (fchown(p->fd, uid, gid) == -1 || fchmod(p->fd, (mode_t)mode) == -1)
		prep_fail(p, "finish", "%s: %s", p->work, strerror(errno));
	if (fsync(p->fd) == -1)
		prep_fail(p, "finish", "%s: %s", p->work, strerror(errno));
	/* Held while renaming, so nbdd cannot claim the old image between
	 * the check and the rename. */
	if ((lockfd = open(p->target, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    flock(lockfd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK)
		prep_fail(p, "finish", "%s is held by nbdd (a Pi is using it): "
		    "shut that Pi down first", p->target);
	if (rename(p->work, p->target) == -1)
		prep_fail(p, "finish", "rename to %s: %s", p->target,
		    strerror(errno));
	p->work[0] = '\0';
	if (lockfd >= 0)
		close(lockfd);
	log_info("finish: %s, %s %s:%s %04o, %llu MiB", p->target,
	    p->shared ? "a shared base" : "a Pi's own image",
	    p->shared ? "root" : p->user, p->group, mode,
	    (unsigned long long)(p->img_size >> 20));
}
