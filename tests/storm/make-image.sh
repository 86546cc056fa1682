#!/bin/bash
# The boot storm's template image, shaped like a Raspberry Pi OS image
# (no root and no loop device needed): MBR; partition 1 FAT32 with a Pi 4's
# boot files; partition 2 with root data. Every Pi boots a copy of it.
#
# usage: make-image.sh IMAGE REFDIR
#   REFDIR receives the boot files as mtools reads them back out of the
#   image (mcopy): the reference the clients check every TFTP byte against.
# Sizes, in bytes unless named otherwise (defaults are check-sized):
#   START4_BYTES   start4.elf            (a real one is 2252800)
#   KERNEL_BYTES   kernel8.img           (a real arm64 kernel: ~8-9 MB)
#   INITRD_BYTES   initrd.img            (Debian/Ubuntu: 20-60 MB)
#   ROOT_MIB       partition 2, MiB; its last 4 MiB are where the Pis
#                  write (tests/tools/pi-boot.c), the rest is random data
#                  they read
#
# The firmware, kernel and initramfs are STAND-INS (random bytes behind a
# label): the clients fetch and check them, nothing executes them. The
# cmdline.txt here names no export; each Pi's copy gets its own.
set -euo pipefail

img=$1
ref=$2
START4_BYTES=${START4_BYTES:-786432}
KERNEL_BYTES=${KERNEL_BYTES:-1048576}
INITRD_BYTES=${INITRD_BYTES:-1572864}
ROOT_MIB=${ROOT_MIB:-32}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

standin() {	# standin FILE SIZE WHAT: labelled filler of SIZE bytes
	{
		printf 'STAND-IN %s for the boot storm: not a real %s.\n' "$1" "$3"
		head -c "$2" /dev/urandom
	} | head -c "$2" > "$work/boot/$1"
}

mkdir -p "$work/boot/overlays"
cat > "$work/boot/config.txt" <<CFG
# Raspberry Pi 4, netbooted: root file system on NBD
[pi4]
arm_64bit=1
kernel=kernel8.img
initramfs initrd.img followkernel
dtoverlay=vc4-kms-v3d
[all]
CFG
echo "console=serial0,115200 console=tty1 ip=dhcp nbdroot=@NBDROOT@ root=/dev/nbd0p2 rootwait" \
	> "$work/boot/cmdline.txt"
standin start4.elf "$START4_BYTES" "GPU firmware"
standin fixup4.dat 5400 "firmware fixup table"
standin bcm2711-rpi-4-b.dtb 52593 "device tree"
standin overlays/overlay_map.dtb 5287 "overlay map"
standin overlays/vc4-kms-v3d.dtbo 4283 "device tree overlay"
standin kernel8.img "$KERNEL_BYTES" "Linux kernel"
standin initrd.img "$INITRD_BYTES" "initramfs"

# FAT32 needs 65525 clusters or more: at least 64 MiB of 512-byte
# clusters, and room for the files.
total=$(du -sb "$work/boot" | cut -f1)
boot_mib=$(( total / 1048576 * 5 / 4 + 16 ))
[ "$boot_mib" -ge 64 ] || boot_mib=64
boot_start=8192				# sectors: 4 MiB, as Pi images align
boot_sectors=$((boot_mib * 2048))
root_start=$((boot_start + boot_sectors))
root_sectors=$((ROOT_MIB * 2048))

rm -f "$img"
truncate -s $(( (root_start + root_sectors) * 512 )) "$img"
sfdisk -q "$img" <<PARTS
label: dos
start=$boot_start, size=$boot_sectors, type=c, bootable
start=$root_start, size=$root_sectors, type=83
PARTS
mkfs.vfat -F 32 -s 1 -n system-boot --offset=$boot_start "$img" \
	$((boot_sectors / 2)) >/dev/null 2>&1	# (warns: sizes given, label case)
export MTOOLS_SKIP_CHECK=1
mcopy -s -i "$img@@$((boot_start * 512))" "$work/boot/"* ::/

# Root data: random, so that a misplaced read cannot pass for a right one;
# the write area (the last 4 MiB) stays zero.
head -c $(( (ROOT_MIB - 4) * 1048576 )) /dev/urandom |
	dd of="$img" bs=1M seek=$((root_start * 512)) oflag=seek_bytes \
		conv=notrunc status=none

rm -rf "$ref"
mkdir -p "$ref"
mcopy -s -n -i "$img@@$((boot_start * 512))" ::/ "$ref/"
for f in config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb \
	overlays/overlay_map.dtb overlays/vc4-kms-v3d.dtbo kernel8.img initrd.img; do
	cmp -s "$work/boot/$f" "$ref/$f" || { echo "make-image: $f not read back intact" >&2; exit 1; }
done
