#!/bin/bash
# Builds the OS image that the netboot test (tests/e2e/
# netboot.sh) boots, shaped like a Raspberry Pi OS image:
#
#   MBR
#   partition 1  FAT32 "BOOT"   vmlinuz (stock Debian kernel), initrd.img
#                               (initramfs-tools with nbd-client's nbdroot=
#                               support, and our NBD-over-TLS hook and boot
#                               script, idle without credentials:
#                               tests/e2e/make-tls-initrd.sh adds them)
#   partition 2  ext4 "root"    busybox (with its libraries) and /sbin/init
#                               (tests/e2e/init) that writes /marker and a
#                               file on partition 1, syncs and powers off
#
# Assembled by tests/lib/make-disk.sh (no root, loop devices or mounts;
# partition 1 at 1 MiB in 512-byte clusters). The result is cached in
# OUTDIR keyed by the kernel version and the contents of make-image.sh,
# make-disk.sh, init and the TLS pieces, so a second run only prints the
# path; stale images there are removed.
#
# usage: tests/e2e/make-image.sh OUTDIR     prints the path of the image
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-image.sh OUTDIR}

# The newest stock kernel (linux-image-amd64).
kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -1)
[ -n "$kver" ] || { echo "make-image: no /boot/vmlinuz-* (install linux-image-amd64)" >&2; exit 1; }
[ -d "/lib/modules/$kver" ] || { echo "make-image: no /lib/modules/$kver" >&2; exit 1; }

tlsex=$here/../../examples/initramfs-tools
key=$(cat "$here"/make-image.sh "$here"/../lib/make-disk.sh "$here"/init \
	"$tlsex"/hooks/nbd-tls "$tlsex"/scripts/nbd-tls-client | sha256sum | cut -c1-12)
dir=$out/$kver-$key
img=$dir/netboot.img
if [ -s "$img" ]; then
	echo "$img"
	exit 0
fi

mkdir -p "$out"
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- initramfs: Debian's initramfs-tools, nbd-client's hook and script ----
# BOOT=local, as on Debian and Ubuntu Pi images: initramfs-tools has only
# the local and nfs boot methods, and the nbd-client package hooks into
# local: its scripts/local-top/nbd runs configure_networking (ip=dhcp) and
# nbd-client for nbdroot= before the local script mounts root=/dev/nbd0p2.
# Its hook (hooks/nbd-client) adds the nbd module, the network drivers and
# /sbin/nbd-client. MODULES=list keeps the initramfs small (it travels
# over TFTP); the modules listed are loaded early by init.
[ -x /usr/share/initramfs-tools/scripts/local-top/nbd ] ||
	{ echo "make-image: nbd-client's initramfs script is missing" >&2; exit 1; }
conf=$work/initramfs
mkdir -p "$conf/conf.d" "$conf/scripts" "$conf/hooks"
cat > "$conf/initramfs.conf" <<CONF
MODULES=list
BUSYBOX=auto
KEYMAP=n
COMPRESS=zstd
BOOT=local
DEVICE=
NFSROOT=auto
RUNSIZE=10%
FSTYPE=ext4
CONF
cat > "$conf/modules" <<MODS
virtio_pci
virtio_net
nbd
ext4
crc32c_generic
vfat
nls_cp437
nls_ascii
nls_utf8
MODS
# Installed as the documentation says, with no credentials yet: the hook
# must then leave the initramfs as it was, but for the boot script.
install -m 755 "$tlsex/hooks/nbd-tls" "$conf/hooks/nbd-tls"
install -m 755 "$tlsex/scripts/nbd-tls-client" "$conf/scripts/nbd-tls-client"
echo "make-image: mkinitramfs for $kver (takes a minute)" >&2
mkdir -p "$work/boot"
mkinitramfs -d "$conf" -o "$work/boot/initrd.img" "$kver" >&2
lsinitramfs "$work/boot/initrd.img" > "$work/initrd.list"
for f in scripts/local-top/nbd sbin/nbd-client nbd.ko virtio_net.ko ext4.ko vfat.ko \
    scripts/nbd-tls-client; do
	grep -q "$f\$" "$work/initrd.list" ||
		{ echo "make-image: initramfs lacks $f" >&2; exit 1; }
done
! grep -q 'nbd-tls$' "$work/initrd.list" ||
	{ echo "make-image: the TLS hook acted without credentials" >&2; exit 1; }

# --- root file system: busybox with its libraries, and our init ----------
root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,run,tmp,etc,boot/firmware}
cp /bin/busybox "$root/bin/busybox"
# Debian's busybox is dynamically linked: bring its loader and libraries.
ldd /bin/busybox | grep -o '/[^ ]*' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
for a in sh mount umount sync cat echo sed poweroff sleep; do
	ln -s busybox "$root/bin/$a"
done
install -m 755 "$here/init" "$root/sbin/init"

# --- boot partition: FAT32 with the kernel and the initramfs --------------
cp "/boot/vmlinuz-$kver" "$work/boot/vmlinuz"
payload=$(( ($(stat -c %s "$work/boot/vmlinuz") + $(stat -c %s "$work/boot/initrd.img")) / 1048576 ))
fat_mib=$(( payload + 48 ))		# FAT32 wants 65525 clusters or more
[ "$fat_mib" -ge 64 ] || fat_mib=64
root_mib=32
"$here/../lib/make-disk.sh" --bootable --fat "$fat_mib" --fat-flags "-S 512 -s 1" \
	--fat-label BOOT --fat-dir "$work/boot" \
	--ext4 "$root_mib" --ext4-label root --ext4-dir "$root" "$work/netboot.img"

# Images of older kernels or older versions of these files are stale.
for old in "$out"/*/netboot.img; do
	[ -e "$old" ] && [ "$old" != "$img" ] && rm -rf "$(dirname "$old")"
done
mkdir -p "$dir"
mv "$work/netboot.img" "$dir/netboot.img.tmp"
mv "$dir/netboot.img.tmp" "$img"
echo "make-image: built $img ($(( 1 + fat_mib + root_mib )) MiB;" \
	"initrd $(stat -c %s "$work/boot/initrd.img") bytes)" >&2
echo "$img"
