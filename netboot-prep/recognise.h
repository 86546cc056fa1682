/* layer: pure */
/* Which distribution an image holds, from facts read out of it, and what
 * that means for preparing it. Pure. The facts and what each
 * distribution does with its boot partition:
 *
 * - Raspberry Pi OS (bookworm and later): /etc/rpi-issue and
 *   raspberrypi-sys-mods; partitions "bootfs" and "rootfs", the first
 *   mounted on /boot/firmware by PARTUUID; cmdline.txt is the user's
 *   and no package writes it on a kernel update (the kernel packages'
 *   hooks copy kernel and initramfs, as initramfs8, initramfs_2712 and
 *   the like, which config.txt's auto_initramfs=1 loads). First boot:
 *   init=/usr/lib/raspberrypi-sys-mods/firstboot (bookworm) or the
 *   "resize" word (trixie) resizes partition 2 and changes the disk
 *   identifier (RPi-Distro/raspberrypi-sys-mods).
 * - Ubuntu for Raspberry Pi (server and desktop): ID=ubuntu,
 *   flash-kernel; partitions "system-boot" and "writable" by label;
 *   config.txt loads vmlinuz and initrd.img, which flash-kernel copies
 *   on a kernel update, and cmdline.txt (root=LABEL=writable) is
 *   written once by the image build, not by flash-kernel. First boot:
 *   cloud-init's growpart and resize_rootfs.
 * - Debian's raspi images: ID=debian and /etc/default/raspi-firmware;
 *   partitions RASPIFIRM and RASPIROOT; raspi-firmware's kernel hook
 *   (/etc/kernel/postinst.d/z50-raspi-firmware) writes cmdline.txt anew
 *   on every kernel update from ROOTPART in /etc/default/raspi-firmware
 *   and the words in /etc/default/raspi-extra-cmdline, so those are set,
 *   not only the file. */
#ifndef NETBOOT_PREP_RECOGNISE_H
#define NETBOOT_PREP_RECOGNISE_H

#include <stddef.h>

enum distro {
	DISTRO_UNKNOWN,
	DISTRO_RASPIOS,
	DISTRO_UBUNTU,
	DISTRO_DEBIAN,
};

struct image_facts {
	const char *os_release;		/* /etc/os-release, NULL if none */
	int rpi_issue;			/* /etc/rpi-issue */
	int sys_mods;			/* /usr/lib/raspberrypi-sys-mods */
	int raspi_firmware;		/* /etc/default/raspi-firmware */
	int flash_kernel;		/* /usr/sbin/flash-kernel */
	int cmdline_txt;		/* cmdline.txt in the FAT partition */
	int config_txt;			/* config.txt in the FAT partition */
};

struct recognition {
	enum distro distro;
	char name[128];		/* PRETTY_NAME, or ID and VERSION_ID */
	char why[256];		/* what was found, or why it is unknown */
};

void recognise(const struct image_facts *f, struct recognition *out);

const char *distro_name(enum distro d);

/* The value of KEY in os-release text, unquoted, into buf; "" when
 * absent. */
void os_release_value(const char *text, const char *key, char *buf,
    size_t len);

#define INITRAMFS_MAX	16
#define FAT_FILE_NAME	256

/* The initramfs files a Pi may load, from config.txt (every
 * "initramfs FILE" line, whatever its section) and, with
 * auto_initramfs=1, the files of fat_names that the firmware picks
 * itself (initramfs7, initramfs7l, initramfs8, initramfs_2712, ...).
 * Returns how many went into names. */
size_t config_initramfs(const char *config, size_t len,
    const char *const *fat_names, size_t nfat,
    char names[][FAT_FILE_NAME], size_t max);

#endif
