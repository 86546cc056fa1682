#!/bin/bash
# Image mode on the other layouts: GPT with the FAT in an EFI system
# partition, a bare FAT12 superfloppy, FAT16 in a logical partition, and an
# MBR disk of 4096-byte sectors; an image reached through '#N'. Every file
# fetched equals what mcopy extracts.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/image.inc"

# GPT: Linux partition first, the EFI system partition (FAT16) second.
truncate -s 48M "$T/gpt.img"
sgdisk -n 1:2048:+8M -t 1:8300 -n 2:0:+32M -t 2:ef00 "$T/gpt.img" >/dev/null
mkfs.vfat -F 16 --offset 18432 "$T/gpt.img" 32768 >/dev/null 2>&1
populate "$T/gpt.img@@$((18432 * 512))"
ln -s ../gpt.img "$B/11111111"

# A superfloppy: FAT12, no partition table.
mkfs.vfat -C -F 12 -s 8 "$T/floppy.img" 16000 >/dev/null
populate "$T/floppy.img"
ln -s ../floppy.img "$B/22222222"

# Extended partition, the FAT16 in logical 6 picked by number.
truncate -s 64M "$T/ext.img"
printf 'label: dos\nstart=2048, size=8192, type=83\nstart=10240, type=5\nstart=12288, size=4096, type=83\nstart=18432, size=65536, type=6\n' |
	sfdisk -q "$T/ext.img"
mkfs.vfat -F 16 --offset 18432 "$T/ext.img" 32768 >/dev/null 2>&1
populate "$T/ext.img@@$((18432 * 512))"
ln -s '../ext.img#6' "$B/33333333"

# 4096-byte sectors (fdisk -b 4096), FAT32 in partition 1.
truncate -s 300M "$T/k4.img"
printf 'o\nn\np\n1\n256\n+260M\nt\nc\nw\n' | fdisk -b 4096 "$T/k4.img" >/dev/null 2>&1
mkfs.vfat -F 32 -S 4096 --offset 256 "$T/k4.img" 266240 >/dev/null 2>&1
populate "$T/k4.img@@1M"
ln -s ../k4.img "$B/44444444"

start_tftpd
check_image() {	# check_image SERIAL IMG@@OFFSET
	local n=0
	while read -r f; do
		want "$2" "$f"
		fetch_any "$1/$f" "$O/got" || fail "$1: fetch $f"
		assert_same_file "$O/got" "$O/want"
		n=$((n + 1))
	done < <(files "$2")
	[ "$n" -ge 20 ] || fail "$1: only $n files"
	note "$1 ($2): $n files equal mcopy's"
}
check_image 11111111 "$T/gpt.img@@$((18432 * 512))"
check_image 22222222 "$T/floppy.img"
check_image 33333333 "$T/ext.img@@$((18432 * 512))"
check_image 44444444 "$T/k4.img@@1M"

# The Pi-like client on the 4K image.
$PITFTP -p "$PORT" pi 44444444 "$O" start4.elf overlays/vc4-kms-v3d.dtbo \
	>/dev/null || fail "pi sequence on the 4K image"
want "$T/k4.img@@1M" start4.elf
assert_same_file "$O/start4.elf" "$O/want"
if grep -q warning "$T/tftpd.log"; then
	cat "$T/tftpd.log"; fail "warnings"
fi
stop_pid "$TFTPD_PID"
