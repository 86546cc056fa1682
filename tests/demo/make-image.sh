#!/bin/bash
# Builds an image shaped like a Raspberry Pi OS image (tests/lib/
# make-disk.sh assembles it): MBR; partition 1 at 4 MiB, FAT32
# "system-boot" (128 MiB) with the boot files; partition 2 ext4 "writable"
# (64 MiB) holding the root file system.
#
# usage: make-image.sh IMAGE NBDROOT
#   NBDROOT goes into cmdline.txt, e.g. 127.0.0.1:10809/demo
#
# The firmware, kernel and initramfs are STAND-INS of realistic size: the
# demo's client fetches and checks them but nothing executes them.
set -euo pipefail

img=$1
nbdroot=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

standin() {	# standin FILE SIZE WHAT: labelled filler of SIZE bytes
	{
		printf 'STAND-IN %s for the netboot demo: not a real %s.\n' "$1" "$3"
		head -c "$2" /dev/urandom
	} | head -c "$2" > "$work/boot/$1"
}

mkdir -p "$work/boot/overlays" "$work/root/etc" "$work/root/boot/firmware"
cat > "$work/boot/config.txt" <<CFG
# Raspberry Pi 4, netbooted: root file system on NBD
[pi4]
arm_64bit=1
kernel=vmlinuz
initramfs initrd.img followkernel
dtoverlay=vc4-kms-v3d
[all]
CFG
echo "console=serial0,115200 ip=dhcp nbdroot=$nbdroot root=/dev/nbd0p2 rootwait ro" \
	> "$work/boot/cmdline.txt"
standin start4.elf 2252800 "GPU firmware"
standin fixup4.dat 5400 "firmware fixup table"
standin bcm2711-rpi-4-b.dtb 52593 "device tree"
standin overlays/overlay_map.dtb 5287 "overlay map"
standin overlays/vc4-kms-v3d.dtbo 4283 "device tree overlay"
standin vmlinuz 8921088 "Linux kernel"
standin initrd.img 31457280 "initramfs"

echo "demo" > "$work/root/etc/hostname"
printf 'LABEL=writable / ext4 defaults 0 1\nLABEL=system-boot /boot/firmware vfat defaults 0 1\n' \
	> "$work/root/etc/fstab"

"$(dirname "$0")/../lib/make-disk.sh" --start 8192 --bootable \
	--fat 128 --fat-label system-boot --fat-dir "$work/boot" \
	--ext4 64 --ext4-label writable --ext4-dir "$work/root" "$img"
