#!/bin/bash
# Builds a Debian arm64 Raspberry Pi image from Debian's own packages, as
# Debian's raspi images (raspi.debian.net, salsa raspi-team/image-specs)
# are made, for the arm64 guest test (tests/arm64/prep.sh):
#
#   MBR
#   partition 1  FAT32 "RASPIFIRM"  what raspi-firmware's hooks put in
#                                   /boot/firmware: firmware, device trees,
#                                   vmlinuz-VERSION, initrd.img-VERSION,
#                                   config.txt and cmdline.txt
#   partition 2  ext4 "RASPIROOT"   bookworm (minbase, systemd, udev,
#                                   linux-image-arm64, raspi-firmware,
#                                   initramfs-tools), no nbd-client
#
# fstab and /etc/default/raspi-firmware name the partitions by label, as
# the image-specs do; cmdline.txt is the one raspi-firmware's kernel hook
# writes. The image has no nbd-client: netboot-prep must add it. Beside
# it, debs/ holds the arm64 nbd-client and the packages it needs that the
# image lacks, for netboot-prep --deb (so that a test run needs no
# network once the image is built), and root-check.service, a unit the
# guest runs after booting to report what it sees and power off.
#
# Needs root, mmdebstrap, qemu-user-static with binfmt_misc (an arm64
# host needs neither), mtools, dosfstools, e2fsprogs, fdisk. Everything
# the Pi runs is emulated, so the build takes many minutes; the result is
# cached in OUTDIR keyed by this script's contents (older images there
# are removed), and a second run only prints the path.
#
# Debian's default initramfs (MODULES=most) takes 20 minutes and more to
# build under emulation, MODULES=list about half of that; the image uses
# list, naming what "most" would have brought that the boot needs: the
# virtual board's bus drivers (a Pi's are built into its kernel) and
# ext4. busybox is there as an install with Recommends has it (mmdebstrap
# leaves Recommends out): initramfs-tools takes its tools from it.
#
# usage: tests/arm64/make-image.sh OUTDIR     prints the path of the image
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-image.sh OUTDIR}
SUITE=bookworm
MIRROR=${ARM64_MIRROR:-http://deb.debian.org/debian}

key=$(cat "$here/make-image.sh" "$here/root-check" "$here/root-check.service" |
	sha256sum | cut -c1-12)
# The root file system alone (the long part) is kept apart, keyed by the
# mmdebstrap command below, so that a change to the assembly does not
# build it again.
rootkey=$(sed -n '/^mmdebstrap /,/>&2 ||/p' "$here/make-image.sh" | sha256sum | cut -c1-12)
roottar=$out/root-$SUITE-$rootkey.tar
debs=$out/debs-$SUITE-$rootkey
dir=$out/$SUITE-$key
img=$dir/raspi.img
if [ -s "$img" ] && [ -e "$dir/ok" ]; then
	echo "$img"
	exit 0
fi

die() { echo "make-image: $*" >&2; exit 1; }
for c in mmdebstrap mkfs.vfat mcopy mkfs.ext4 sfdisk; do
	command -v "$c" >/dev/null || die "$c not installed (tests/deps.sh)"
done
if [ "$(dpkg --print-architecture)" != arm64 ]; then
	[ -e /proc/sys/fs/binfmt_misc/status ] ||
		die "binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
		die "no binfmt_misc entry qemu-aarch64: install qemu-user-static, or register /usr/lib/binfmt.d/qemu-aarch64.conf"
fi

mkdir -p "$out"
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

start=$(date +%s)
if [ ! -s "$roottar" ]; then
	echo "make-image: mmdebstrap arm64 $SUITE (emulated; many minutes)" >&2
	debs_tmp=$out/.debs.tmp
	rm -rf "$debs_tmp" "$out/.root.tmp" "$out/.root.tmp.tar"
	mkdir -p "$debs_tmp"
	# setup: the initramfs configuration exists before the packages
	# that read it are configured.
mmdebstrap --arch=arm64 --variant=minbase --components=main,non-free-firmware \
	--include=systemd-sysv,udev,kmod,initramfs-tools,linux-image-arm64,raspi-firmware,e2fsprogs,zstd,busybox \
	--dpkgopt=force-confold \
	--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/boot/firmware"' \
	--setup-hook='printf "MODULES=list\n" > "$1/etc/initramfs-tools/conf.d/modules-list.conf"' \
	--setup-hook='printf "virtio_pci\nvirtio_mmio\next4\n" > "$1/etc/initramfs-tools/modules"' \
	--customize-hook='sed -i "s/^#\?ROOTPART=.*/ROOTPART=LABEL=RASPIROOT/" "$1/etc/default/raspi-firmware"' \
	--customize-hook='grep -q "^ROOTPART=LABEL=RASPIROOT" "$1/etc/default/raspi-firmware"' \
	--customize-hook="chroot \"\$1\" apt-get install -y -q --download-only nbd-client >&2 && cp \"\$1\"/var/cache/apt/archives/*.deb $debs_tmp/" \
	"$SUITE" "$out/.root.tmp" "$MIRROR" >&2 || die "mmdebstrap failed"
	tar -C "$out/.root.tmp" --numeric-owner -cf "$out/.root.tmp.tar" . ||
		die "tar of the root failed"
	rm -rf "$out/.root.tmp"
	# Roots and packages of older versions of this script go.
	rm -rf "$out"/root-*.tar "$out"/debs-*
	mv "$debs_tmp" "$debs"
	mv "$out/.root.tmp.tar" "$roottar"
	echo "make-image: root built in $(( $(date +%s) - start )) s" >&2
fi
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$roottar"
# raspi-firmware's kernel hook as a kernel install runs it, now that
# ROOTPART is set: kernel, initramfs and device trees into /boot/firmware,
# config.txt and cmdline.txt written from /etc/default/raspi-firmware.
mount -t proc proc "$root/proc"
DEB_MAINT_PARAMS=configure chroot "$root" /etc/kernel/postinst.d/z50-raspi-firmware >&2 ||
	{ umount "$root/proc"; die "raspi-firmware's kernel hook failed"; }
umount "$root/proc"
# The packages nbd-client needs that the image lacks (apt's cache held
# every package mmdebstrap installed).
mkdir -p "$work/debs"
for d in "$debs"/*.deb; do
	pkg=$(dpkg-deb -f "$d" Package)
	dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q ' installed$' || cp "$d" "$work/debs/"
done
ls "$work/debs"/nbd-client_*.deb >/dev/null 2>&1 || die "no nbd-client package among $debs"

printf 'LABEL=RASPIROOT / ext4 rw 0 1\nLABEL=RASPIFIRM /boot/firmware vfat rw 0 2\n' > "$root/etc/fstab"
echo raspi > "$root/etc/hostname"
install -m 755 "$here/root-check" "$root/usr/local/sbin/root-check"
install -m 644 "$here/root-check.service" "$root/etc/systemd/system/root-check.service"
ln -s /etc/systemd/system/root-check.service "$root/etc/systemd/system/multi-user.target.wants/root-check.service"
passwd -R "$root" -d root >/dev/null 2>&1 || true

# The boot partition gets what the hooks left in /boot/firmware.
fw=$work/firmware
mv "$root/boot/firmware" "$fw"
mkdir "$root/boot/firmware"
ls "$fw" > "$work/fw.list"
grep -q '^cmdline.txt$' "$work/fw.list" || die "raspi-firmware wrote no cmdline.txt"
grep -q '^initrd.img-' "$work/fw.list" || die "no initrd.img-VERSION in /boot/firmware"

fat_mib=256
root_mib=$(( $(du -sm "$root" | cut -f1) * 13 / 10 + 64 ))
img_mib=$(( 4 + fat_mib + root_mib ))
truncate -s "${img_mib}M" "$work/raspi.img"
sfdisk -q "$work/raspi.img" <<PT
label: dos
start=4MiB, size=${fat_mib}MiB, type=c
start=$(( 4 + fat_mib ))MiB, type=83
PT
mkfs.vfat -F 32 -S 512 -s 1 -n RASPIFIRM --offset $(( 4 * 2048 )) "$work/raspi.img" $(( fat_mib * 1024 )) >/dev/null 2>&1
mcopy -s -i "$work/raspi.img@@$(( 4 << 20 ))" "$fw"/* ::/
# Its "Creating regular file" line goes to stdout even with -q, and this
# script's stdout is the image's path alone.
mkfs.ext4 -q -F -L RASPIROOT -d "$root" "$work/root.ext4" "${root_mib}M" >&2
dd if="$work/root.ext4" of="$work/raspi.img" bs=1M seek=$(( 4 + fat_mib )) conv=notrunc,sparse status=none

for old in "$out"/*/raspi.img; do
	[ -e "$old" ] && [ "$old" != "$img" ] && rm -rf "$(dirname "$old")"
done
rm -rf "$dir"
mkdir -p "$dir"
mv "$work/debs" "$dir/debs"
cp "$fw/cmdline.txt" "$dir/cmdline.txt.orig"
mv "$work/raspi.img" "$img"
touch "$dir/ok"
echo "make-image: built $img ($img_mib MiB) in $(( $(date +%s) - start )) s" >&2
echo "$img"
