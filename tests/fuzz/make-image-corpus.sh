#!/bin/sh
# Regenerates the seed corpus of fuzz_tftpd_image: small OS images made with
# the real tools (sfdisk, fdisk, sgdisk, mkfs.vfat, mtools), stored in the
# harness's sparse form (u64 size, then { u32 sector, u16 length, bytes }
# for each stretch of non-zero sectors), so that each seed is a few KiB
# however large the image. Also a few damaged variants.
# usage: tests/fuzz/make-image-corpus.sh
set -eu
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/fuzz_tftpd_image
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
export MTOOLS_SKIP_CHECK=1

# sparse IMAGE NAME: writes the image's non-zero sectors to $out/NAME.
sparse() {
	python3 - "$1" "$out/$2" <<'PY'
import struct, sys
img = open(sys.argv[1], 'rb').read()
out = bytearray(struct.pack('<Q', len(img)))
sec, n = 0, len(img) // 512
while sec < n:
    if not any(img[sec * 512:(sec + 1) * 512]):
        sec += 1
        continue
    start = sec
    while sec < n and sec - start < 64 and any(img[sec * 512:(sec + 1) * 512]):
        sec += 1
    chunk = img[start * 512:sec * 512]
    out += struct.pack('<IH', start, len(chunk)) + chunk
open(sys.argv[2], 'wb').write(out)
PY
}

# files IMAGE@@OFFSET: a few boot files, a long name, a subdirectory.
files() {
	echo 'arm_64bit=1' > "$tmp/config.txt"
	head -c 1500 /dev/zero | tr '\0' 'k' > "$tmp/kernel8.img"
	mcopy -i "$1" "$tmp/config.txt" "$tmp/kernel8.img" ::
	mcopy -i "$1" "$tmp/config.txt" "::a long name.txt"
	mmd -i "$1" ::overlays ::a ::a/b ::a/b/c
	mcopy -i "$1" "$tmp/config.txt" ::overlays/a.dtbo
	mcopy -i "$1" "$tmp/config.txt" ::a/b/c/d
}

cd "$tmp"
mkfs.vfat -C -F 12 floppy.img 160 >/dev/null
files floppy.img

truncate -s 4M mbr16.img
printf 'label: dos\nstart=2048, size=6144, type=6\n' | sfdisk -q mbr16.img
mkfs.vfat -F 16 -s 1 --offset 2048 mbr16.img 3072 >/dev/null
files mbr16.img@@1M

truncate -s 40M gpt32.img
sgdisk -n 1:2048:0 -t 1:ef00 gpt32.img >/dev/null
mkfs.vfat -F 32 -s 1 --offset 2048 gpt32.img 39900 >/dev/null
files gpt32.img@@1M

truncate -s 4M ext.img
printf 'label: dos\nstart=2048, type=5\nstart=4096, size=2048, type=1\n' |
    sfdisk -q ext.img
mkfs.vfat -F 12 --offset 4096 ext.img 1024 >/dev/null
files ext.img@@2M

truncate -s 16M mbr4k.img
printf 'o\nn\np\n1\n256\n+8M\nt\nc\nw\n' | fdisk -b 4096 mbr4k.img >/dev/null
mkfs.vfat -S 4096 --offset 256 mbr4k.img 8192 >/dev/null
files mbr4k.img@@1M

# Damaged: EBR linking to itself, GPT header CRC, a FAT chain loop.
cp ext.img ext-loop.img
printf '\005' | dd of=ext-loop.img bs=1 seek=$((2048 * 512 + 446 + 16 + 4)) \
    conv=notrunc status=none
cp gpt32.img gpt-crc.img
printf 'X' | dd of=gpt-crc.img bs=1 seek=$((512 + 60)) conv=notrunc status=none
cp mbr16.img fat-loop.img
# kernel8.img's second cluster links back to its first.
printf '\003\000' | dd of=fat-loop.img bs=1 \
    seek=$((1048576 + 512 * 1 + 2 * 4)) conv=notrunc status=none

cd - >/dev/null
for i in floppy mbr16 gpt32 ext mbr4k ext-loop gpt-crc fat-loop; do
	sparse "$tmp/$i.img" "$i"
done
ls -l "$out"
