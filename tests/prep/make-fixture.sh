#!/bin/bash
# Builds a small image shaped like a distribution's Raspberry Pi image,
# for netboot-prep's tests without the network or a real image: the boot
# partition's cmdline.txt, config.txt and initramfs and the root's
# os-release, fstab and first-boot pieces as the public images have them
# (Raspberry Pi OS: raspberrypi-sys-mods' firstboot and the documentation's
# cmdline.txt; Ubuntu: the preinstalled raspi image's cmdline.txt, fstab,
# flash-kernel and cloud-init; both with the partition labels they use).
# Kernels and firmware are stand-ins: no Pi boots these images, but
# tests/tools/pi-boot does what a Pi 4's bootloader does with them.
#
#   raspios   bookworm; initramfs8 already carries nbd-client
#   ubuntu    24.04; nbd-client installed in the root but not in
#             initrd.img: netboot-prep appends it (this machine's amd64
#             nbd-client, its libraries and this machine's kernel modules
#             stand in for the image's own)
#   unknown   a root whose os-release says ID=fedora
#   nofat     one ext4 partition, no FAT
#
# Assembled by tests/lib/make-disk.sh: FAT32 at 1 MiB (64 MiB) and ext4
# (48 MiB), or for nofat the ext4 alone (112 MiB).
#
# usage: tests/prep/make-fixture.sh KIND OUT.img
set -euo pipefail

kind=${1:?usage: make-fixture.sh KIND OUT.img}
out=${2:?usage: make-fixture.sh KIND OUT.img}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
fat=$work/fat
mkdir -p "$root"/{etc,boot/firmware,usr/lib,usr/sbin,usr/share/initramfs-tools/scripts/local-top,etc/initramfs-tools} "$fat/overlays"
printf 'update_initramfs=yes\nbackup_initramfs=no\n' > "$root/etc/initramfs-tools/update-initramfs.conf"
echo 'stand-in kernel' > "$fat/kernel8.img"
# A Pi 4's firmware and device tree, as both images carry them, so that
# tests/tools/pi-boot can netboot the prepared image.
for f in start4.elf:65536 fixup4.dat:5400 bcm2711-rpi-4-b.dtb:52593 \
    overlays/overlay_map.dtb:5287 overlays/vc4-kms-v3d.dtbo:4283; do
	{ echo "stand-in ${f%%:*}"; head -c "${f##*:}" /dev/urandom; } |
		head -c "${f##*:}" > "$fat/${f%%:*}"
done

# An initramfs with what initramfs-tools' own always has: init, the
# scripts, their ORDER, a module tree for kernel $kver.
kver=$(ls /lib/modules | sort -V | tail -1)
initramfs() {	# initramfs DIR OUT [nbd]
	local d=$1
	mkdir -p "$d"/{scripts/local-top,conf,sbin,usr/lib/modules/$kver}
	echo '#!/bin/sh' > "$d/init"
	printf '/scripts/local-top/cryptroot "$@"\n[ -e /conf/param.conf ] && . /conf/param.conf\n' \
		> "$d/scripts/local-top/ORDER"
	echo '#!/bin/sh' > "$d/scripts/local-top/cryptroot"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "/lib/modules/$kver/$f" "$d/usr/lib/modules/$kver/" 2>/dev/null || true
	done
	ln -s usr/lib "$d/lib"
	if [ "${3:-}" = nbd ]; then
		echo 'stand-in nbd-client' > "$d/sbin/nbd-client"
		cp /usr/share/initramfs-tools/scripts/local-top/nbd "$d/scripts/local-top/nbd"
	fi
	(cd "$d" && find . | sort | cpio -o -H newc --quiet | gzip -n -9) > "$2"
}

case $kind in
raspios)
	bootlabel=bootfs rootlabel=rootfs diskid=0x4e639091
	cat > "$fat/cmdline.txt" <<CMD
console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cfg80211.ieee80211_regdom=GB
CMD
	cat > "$fat/config.txt" <<'CFG'
# For more options and information see
# http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[cm4]
otg_mode=1

[all]
CFG
	initramfs "$work/i8" "$fat/initramfs8" nbd
	cp "$fat/initramfs8" "$fat/initramfs_2712"
	cat > "$root/etc/os-release" <<'OS'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
OS
	echo 'Raspberry Pi reference 2024-11-19' > "$root/etc/rpi-issue"
	mkdir -p "$root/usr/lib/raspberrypi-sys-mods"
	echo '#!/bin/bash' > "$root/usr/lib/raspberrypi-sys-mods/firstboot"
	cat > "$root/etc/fstab" <<'FSTAB'
proc            /proc           proc    defaults          0       0
PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1
FSTAB
	;;
ubuntu)
	bootlabel=system-boot rootlabel=writable diskid=0x1a2b3c4d
	cat > "$fat/cmdline.txt" <<CMD
console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 root=LABEL=writable rootfstype=ext4 rootwait fixrtc quiet splash
CMD
	cat > "$fat/config.txt" <<'CFG'
[all]
kernel=vmlinuz
cmdline=cmdline.txt
initramfs initrd.img followkernel

[pi4]
max_framebuffers=2
arm_boost=1

[all]
# Enable the audio output, I2C and SPI interfaces on the GPIO header.
dtparam=audio=on
dtparam=i2c_arm=on
dtparam=spi=on
disable_overscan=1
enable_uart=1
arm_64bit=1
CFG
	echo 'stand-in kernel' > "$fat/vmlinuz"
	initramfs "$work/i" "$fat/initrd.img"
	cp "$fat/initrd.img" "$root/boot/initrd.img-$kver"
	cat > "$root/etc/os-release" <<'OS'
PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
OS
	echo '#!/bin/sh' > "$root/usr/sbin/flash-kernel"
	chmod 755 "$root/usr/sbin/flash-kernel"
	mkdir -p "$root/etc/cloud/cloud.cfg.d"
	printf 'cloud_init_modules:\n - growpart\n - resizefs\n' > "$root/etc/cloud/cloud.cfg"
	cat > "$root/etc/fstab" <<'FSTAB'
LABEL=writable	/	ext4	discard,errors=remount-ro	0 1
LABEL=system-boot       /boot/firmware  vfat    defaults        0       1
FSTAB
	# nbd-client as the package installs it, and what it needs.
	cp /usr/sbin/nbd-client "$root/usr/sbin/nbd-client"
	cp /usr/share/initramfs-tools/scripts/local-top/nbd \
		"$root/usr/share/initramfs-tools/scripts/local-top/nbd"
	ldd /usr/sbin/nbd-client | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	m=/lib/modules/$kver
	mkdir -p "$root$m"
	for f in modules.order modules.builtin modules.builtin.modinfo modules.dep; do
		cp "$m/$f" "$root$m/$f"
	done
	mods=$(for mod in kernel/drivers/block/nbd.ko \
	    kernel/drivers/net/virtio_net.ko \
	    kernel/drivers/net/wireless/virtual/mac80211_hwsim.ko; do
		line=$(grep "^$mod[.a-z]*:" "$m/modules.dep" || true)
		echo "${line%%:*} ${line#*:}"
	done)
	for mod in $mods; do
		for f in "$m/$mod"; do
			[ -e "$f" ] || continue
			mkdir -p "$root$(dirname "$f")"
			cp "$f" "$root$f"
		done
	done
	;;
unknown)
	bootlabel=BOOT rootlabel=root diskid=0x12345678
	echo 'root=/dev/mmcblk0p2 rootwait' > "$fat/cmdline.txt"
	echo 'arm_64bit=1' > "$fat/config.txt"
	printf 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n' > "$root/etc/os-release"
	echo 'LABEL=root / ext4 defaults 0 1' > "$root/etc/fstab"
	;;
nofat)
	rootlabel=root diskid=0x12345679
	echo 'ID=debian' > "$root/etc/os-release"
	;;
*)
	echo "make-fixture: unknown kind $kind" >&2; exit 2 ;;
esac

disk=$(dirname "$0")/../lib/make-disk.sh
if [ "$kind" = nofat ]; then
	"$disk" --label-id "$diskid" \
		--ext4 112 --ext4-label "$rootlabel" --ext4-dir "$root" "$work/img"
else
	"$disk" --label-id "$diskid" \
		--fat 64 --fat-label "${bootlabel^^}" --fat-dir "$fat" \
		--ext4 48 --ext4-label "$rootlabel" --ext4-dir "$root" "$work/img"
fi
mv "$work/img" "$out"
