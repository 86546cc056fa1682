#!/bin/bash
# The boot storm's template image, shaped like a Raspberry Pi OS image
# (tests/lib/make-disk.sh assembles it): MBR; partition 1 at 4 MiB, FAT32
# with a Pi 4's boot files, sized to them, in 512-byte clusters;
# partition 2 with root data. Every Pi boots a copy of it.
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

# Partition 2 is random data but for the write area, its last 4 MiB.
boot_start=8192				# sectors: 4 MiB, as Pi images align
"$(dirname "$0")/../lib/make-disk.sh" --start "$boot_start" --bootable \
	--fat fit --fat-flags "-s 1" --fat-label system-boot --fat-dir "$work/boot" \
	--random "$ROOT_MIB" --zero-tail 4 "$img"

rm -rf "$ref"
mkdir -p "$ref"
MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "$img@@$((boot_start * 512))" ::/ "$ref/"
for f in config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb \
	overlays/overlay_map.dtb overlays/vc4-kms-v3d.dtbo kernel8.img initrd.img; do
	cmp -s "$work/boot/$f" "$ref/$f" || { echo "make-image: $f not read back intact" >&2; exit 1; }
done
