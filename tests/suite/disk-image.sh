#!/bin/bash
# The disk assembler that the image tests build on, tests/lib/make-disk.sh,
# makes what its header says, as a user of the image would check it with
# sfdisk, minfo, mcopy, dumpe2fs and debugfs: partitions where asked, with
# the type, the bootable flag and the disk identifier asked; the FAT's
# label and cluster size, every file read back byte for byte; "fit"
# sized to the files; the ext4's label, size and files; random data with
# a zero tail; the ext4 alone; a partition to the end of a larger disk.
# And what it must never do: leave an image behind when the files do not
# fit or the sizes contradict each other, or take a usage error for work.
# Plain pass only: no daemon runs here, only the tools; the sanitizers
# would have nothing to watch.
. "$(dirname "$0")/../lib/lib.sh"
need sfdisk mkfs.vfat mkfs.ext4 mcopy minfo dumpe2fs debugfs python3
export MTOOLS_SKIP_CHECK=1
DISK=$TOP/tests/lib/make-disk.sh

# parts IMG: one line per partition: start size type [bootable].
parts() {
	sfdisk -J "$1" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(p["start"], p["size"], p["type"], "bootable" if p.get("bootable") else "")' |
		sed 's/ $//'
}
# fat_info IMG@@OFFSET FIELD: a field of minfo's boot sector.
fat_info() { minfo -i "$1" | sed -n "s/^$2[:=] *//p" | head -1; }
# ext4_part IMG START SIZE: the partition, in $T/part.ext4.
ext4_part() {
	dd if="$1" of="$T/part.ext4" bs=512 skip="$2" count="$3" status=none
}
ext4_info() { dumpe2fs -h "$T/part.ext4" 2>/dev/null | sed -n "s/^$1: *//p"; }

mkdir -p "$T/boot/overlays" "$T/root/etc"
head -c 2252800 /dev/urandom > "$T/boot/start4.elf"
head -c 52593 /dev/urandom > "$T/boot/bcm2711-rpi-4-b.dtb"
head -c 4283 /dev/urandom > "$T/boot/overlays/vc4-kms-v3d.dtbo"
echo 'console=serial0,115200 root=/dev/nbd0p2' > "$T/boot/cmdline.txt"
echo 'pi' > "$T/root/etc/hostname"

# --- a Raspberry Pi OS shape: FAT at 4 MiB, ext4 after it ------------------
"$DISK" --start 8192 --label-id 0x4e639091 --bootable \
	--fat fit --fat-flags "-s 1" --fat-label system-boot --fat-dir "$T/boot" \
	--ext4 16 --ext4-label writable --ext4-dir "$T/root" "$T/pi.img"
got=$(parts "$T/pi.img")
want="8192 131072 c bootable
139264 32768 83"
[ "$got" = "$want" ] || fail "partitions: $got; want $want"
sfdisk -d "$T/pi.img" | has '^label-id: 0x4e639091$' || fail "disk identifier not 0x4e639091"
[ "$(stat -c %s "$T/pi.img")" = $(( (139264 + 32768) * 512 )) ] ||
	fail "image of $(stat -c %s "$T/pi.img") bytes, not ending with partition 2"
fat=$T/pi.img@@$(( 8192 * 512 ))
[ "$(fat_info "$fat" 'disk label')" = '"system-boot"' ] || fail "FAT label: $(fat_info "$fat" 'disk label')"
[ "$(fat_info "$fat" 'cluster size')" = '1 sectors' ] || fail "--fat-flags -s 1 not applied"
mkdir "$T/back"
mcopy -s -n -i "$fat" ::/ "$T/back/" || fail "mcopy cannot read the FAT back"
diff -r "$T/boot" "$T/back" || fail "the FAT's files do not read back as given"
ext4_part "$T/pi.img" 139264 32768
[ "$(ext4_info 'Filesystem volume name')" = writable ] || fail "ext4 label: $(ext4_info 'Filesystem volume name')"
[ $(( $(ext4_info 'Block count') * $(ext4_info 'Block size') )) = $(( 16 << 20 )) ] ||
	fail "ext4 not 16 MiB"
[ "$(debugfs -R 'cat /etc/hostname' "$T/part.ext4" 2>/dev/null)" = pi ] ||
	fail "the ext4's /etc/hostname is not the directory's"

# --- fit grows with the files; random data with a zero tail ----------------
head -c $(( 70 << 20 )) /dev/urandom > "$T/boot/initrd.img"
"$DISK" --fat fit --fat-dir "$T/boot" --random 8 --zero-tail 3 "$T/storm.img"
fit=$(( $(du -sb "$T/boot" | cut -f1) / 1048576 ))
fit=$(( fit * 5 / 4 + 16 ))
got=$(parts "$T/storm.img")
want="2048 $(( fit * 2048 )) c
$(( 2048 + fit * 2048 )) 16384 83"
[ "$got" = "$want" ] || fail "fit partitions: $got; want $want"
mcopy -n -i "$T/storm.img@@1M" ::initrd.img "$T/initrd.back" || fail "no initrd.img in the FAT"
assert_same_file "$T/initrd.back" "$T/boot/initrd.img"
python3 - "$T/storm.img" $(( (2048 + fit * 2048) * 512 )) <<'PY' || fail "random data or zero tail wrong"
import sys
f = open(sys.argv[1], 'rb'); f.seek(int(sys.argv[2])); M = 1 << 20
mib = [f.read(M) for _ in range(8)]
assert all(m.count(0) < M // 64 for m in mib[:5]), "data not random"
assert all(m == bytes(M) for m in mib[5:]), "tail not zero"
assert f.read() == b"", "image goes on past the data"
PY

# --- the ext4 alone; a last partition to the end of a larger disk ----------
"$DISK" --label-id 0x12345679 --ext4 20 --ext4-label root "$T/nofat.img"
[ "$(parts "$T/nofat.img")" = "2048 40960 83" ] || fail "nofat: $(parts "$T/nofat.img")"
ext4_part "$T/nofat.img" 2048 40960
[ "$(ext4_info 'Filesystem volume name')" = root ] || fail "nofat: no ext4 labelled root"
"$DISK" --bootable --fat 64 --fat-label system-boot --ext4 10 --disk 100 "$T/ubuntu.img"
want="2048 131072 c bootable
133120 $(( 100 * 2048 - 133120 )) 83"
[ "$(parts "$T/ubuntu.img")" = "$want" ] || fail "--disk: $(parts "$T/ubuntu.img"); want $want"
[ "$(stat -c %s "$T/ubuntu.img")" = $(( 100 << 20 )) ] || fail "--disk 100: not 100 MiB"
ext4_part "$T/ubuntu.img" 133120 20480
[ $(( $(ext4_info 'Block count') * $(ext4_info 'Block size') )) = $(( 10 << 20 )) ] ||
	fail "--disk: the ext4 is not its own 10 MiB"

# --- what must not happen --------------------------------------------------
# Files that do not fit: an error naming the step and the image, and no
# image (not even the old one) or scratch file left.
cp "$T/pi.img" "$T/full.img"
rc=0
"$DISK" --fat 64 --fat-dir "$T/boot" "$T/full.img" 2> "$T/full.err" || rc=$?
[ "$rc" = 1 ] || fail "files that do not fit: exit $rc, not 1"
assert_log "$T/full.err" "mcopy of $T/boot into $T/full.img failed: .*full"
[ ! -e "$T/full.img" ] || fail "a half-made image was left behind"
[ -z "$(find "$T" -maxdepth 1 -name '.make-disk*')" ] || fail "scratch files left behind"
rc=0
"$DISK" --fat 64 --ext4 40 --disk 100 "$T/small.img" 2> "$T/small.err" || rc=$?
[ "$rc" = 1 ] || fail "a disk smaller than its partitions: exit $rc, not 1"
[ ! -e "$T/small.img" ] || fail "a disk smaller than its partitions was made"
assert_log "$T/small.err" 'smaller than the partitions'
for args in "--frob 1" "--fat 6x" "--fat 64 --ext4 8 --random 8" "--fat-label x" \
    "--fat 64 --random 4 --zero-tail 5" "--fat fit" ""; do
	rc=0
	# shellcheck disable=SC2086 # ARGS are words
	"$DISK" $args "$T/usage.img" 2> "$T/usage.err" || rc=$?
	[ "$rc" = 2 ] || fail "make-disk $args: exit $rc, not 2 (a usage error)"
	assert_log "$T/usage.err" '^usage: '
	[ ! -e "$T/usage.img" ] || fail "make-disk $args made an image"
done
echo ok
