#!/bin/bash
# Assembles a disk image shaped like a Raspberry Pi's OS image, without
# root, loop devices or mounts, for every test that needs one: an MBR
# (sfdisk); partition 1 FAT32 (mkfs.vfat --offset, filled with mcopy -i
# IMAGE@@OFFSET); the next partition ext4 (mkfs.ext4 -d into a file of its
# own, then dd into place) or random data. The callers keep what is their
# own: the files, the sizes, the checks.
#
# usage: tests/lib/make-disk.sh [OPTION...] IMAGE
#   --start SECTORS     where partition 1 starts (default 2048: 1 MiB;
#                       Raspberry Pi OS aligns to 8192)
#   --label-id ID       the MBR's disk identifier, e.g. 0x4e639091, which
#                       PARTUUID=4e639091-02 names (default: random)
#   --fat MIB|fit       partition 1 is FAT32 (type c) of MIB MiB; "fit":
#                       the --fat-dir's files x 5/4 + 16 MiB, at least
#                       64 MiB (FAT32 needs 65525 clusters). Without
#                       --fat, partition 1 is the ext4 one.
#   --fat-label NAME    the FAT's volume label, as given (mkfs.vfat warns
#                       of lower case; Pi images use it anyway)
#   --fat-flags FLAGS   more mkfs.vfat flags, e.g. "-S 512 -s 1" for
#                       clusters of one 512-byte sector
#   --fat-dir DIR       what DIR holds goes to the FAT's root (mcopy -s)
#   --bootable          partition 1 is marked active
#   --ext4 MIB          the next partition is ext4 (type 83) of MIB MiB
#   --ext4-label NAME   its label
#   --ext4-dir DIR      its content (mkfs.ext4 -d); else it is empty
#   --random MIB        instead of ext4, MIB MiB of random data (type 83),
#   --zero-tail MIB     of which the last MIB MiB stay zero
#   --disk MIB          the image is MIB MiB and its last partition ends
#                       there (larger than the file system in it);
#                       default: the image ends where the partitions do
#
# IMAGE is replaced; nothing is printed but errors, which say which step
# failed and what the tool said.
set -euo pipefail

me=make-disk
usage() {
	echo "usage: $me [--start SECTORS] [--label-id ID] [--fat MIB|fit]" \
		"[--fat-label NAME] [--fat-flags FLAGS] [--fat-dir DIR]" \
		"[--bootable] [--ext4 MIB [--ext4-label NAME] [--ext4-dir DIR]" \
		"| --random MIB [--zero-tail MIB]] [--disk MIB] IMAGE" >&2
	exit 2
}
die() { echo "$me: $*" >&2; exit 1; }
number() {	# number OPTION VALUE: VALUE must be a decimal count
	[[ $2 =~ ^[0-9]+$ ]] || { echo "$me: $1 wants a number, not '$2'" >&2; usage; }
}

start=2048 label_id='' fat='' fat_label='' fat_flags='' fat_dir='' bootable=''
ext4='' ext4_label='' ext4_dir='' random='' zero_tail=0 disk='' img=
while [ $# -gt 0 ]; do
	case $1 in
	--bootable) bootable=", bootable"; shift; continue ;;
	--*) [ $# -ge 2 ] || { echo "$me: $1 wants a value" >&2; usage; } ;;
	esac
	case $1 in
	--start) number "$1" "$2"; start=$2 ;;
	--label-id) label_id=$2 ;;
	--fat) [ "$2" = fit ] || number "$1" "$2"; fat=$2 ;;
	--fat-label) fat_label=$2 ;;
	--fat-flags) fat_flags=$2 ;;
	--fat-dir) fat_dir=$2 ;;
	--ext4) number "$1" "$2"; ext4=$2 ;;
	--ext4-label) ext4_label=$2 ;;
	--ext4-dir) ext4_dir=$2 ;;
	--random) number "$1" "$2"; random=$2 ;;
	--zero-tail) number "$1" "$2"; zero_tail=$2 ;;
	--disk) number "$1" "$2"; disk=$2 ;;
	-*) echo "$me: unknown option $1" >&2; usage ;;
	*) [ -z "$img" ] || usage; img=$1; shift; continue ;;
	esac
	shift 2
done
[ -n "$img" ] || usage
[ -z "$ext4" ] || [ -z "$random" ] || { echo "$me: --ext4 or --random, not both" >&2; usage; }
[ -n "$fat" ] || [ -n "$ext4" ] || { echo "$me: no partition: give --fat, --ext4 or both" >&2; usage; }
[ -n "$fat" ] || [ -z "$random" ] || { echo "$me: --random needs --fat before it" >&2; usage; }
[ -n "$fat" ] || [ -z "$fat_dir$fat_label$fat_flags" ] || { echo "$me: --fat-* without --fat" >&2; usage; }
[ -n "$ext4" ] || [ -z "$ext4_dir$ext4_label" ] || { echo "$me: --ext4-* without --ext4" >&2; usage; }
[ "$zero_tail" -le "${random:-0}" ] || { echo "$me: --zero-tail larger than --random" >&2; usage; }
for d in "$fat_dir" "$ext4_dir"; do
	[ -z "$d" ] || [ -d "$d" ] || die "$d: not a directory"
done

if [ "$fat" = fit ]; then
	[ -n "$fat_dir" ] || { echo "$me: --fat fit needs --fat-dir" >&2; usage; }
	files_mib=$(( $(du -sb "$fat_dir" | cut -f1) / 1048576 ))
	fat=$(( files_mib * 5 / 4 + 16 ))
	[ "$fat" -ge 64 ] || fat=64
fi

# The partitions, in sectors: the FAT, then the ext4 or the data, or the
# ext4 alone. With --disk the last one is left open: sfdisk ends it where
# the disk ends.
second=${ext4:-$random}
tail_start=$(( start + ${fat:-0} * 2048 ))
end=$(( tail_start + ${second:-0} * 2048 ))
if [ -n "$disk" ]; then
	[ $(( disk * 2048 )) -ge "$end" ] ||
		die "--disk $disk MiB is smaller than the partitions ($(( end / 2048 )) MiB)"
	end=$(( disk * 2048 ))
fi
size() {	# size SECTORS LAST: sfdisk's size field, none if LAST and --disk
	[ -n "$disk" ] && [ "$2" = last ] || echo ", size=$1"
}
table="label: dos"
[ -z "$label_id" ] || table+=$'\n'"label-id: $label_id"
if [ -n "$fat" ]; then
	table+=$'\n'"start=$start$(size $(( fat * 2048 )) "${second:-last}"), type=c$bootable"
	bootable=
fi
[ -z "$second" ] ||
	table+=$'\n'"start=$tail_start$(size $(( second * 2048 )) last), type=83$bootable"

rm -f "$img"
work=$(mktemp -d "$(dirname "$img")/.make-disk.XXXXXX")
on_exit() {	# no half-made image is left behind
	local status=$?
	rm -rf "$work"
	[ "$status" -eq 0 ] || rm -f "$img"
}
trap on_exit EXIT
run() {	# run WHAT CMD...: CMD, quiet unless it fails
	local out
	out=$("${@:2}" 2>&1) || die "$1 failed: $out"
}

truncate -s $(( end * 512 )) "$img"
run "sfdisk on $img" sfdisk -q "$img" <<< "$table"

if [ -n "$fat" ]; then
	export MTOOLS_SKIP_CHECK=1
	# shellcheck disable=SC2086 # FLAGS are words
	run "mkfs.vfat on $img" mkfs.vfat -F 32 $fat_flags ${fat_label:+-n "$fat_label"} \
		--offset "$start" "$img" $(( fat * 1024 ))
	if [ -n "$fat_dir" ]; then
		shopt -s nullglob dotglob
		files=("$fat_dir"/*)
		shopt -u nullglob dotglob
		[ ${#files[@]} -eq 0 ] ||
			run "mcopy of $fat_dir into $img" \
				mcopy -s -i "$img@@$(( start * 512 ))" "${files[@]}" ::/
	fi
fi

if [ -n "$ext4" ]; then
	run "mkfs.ext4 for $img" mkfs.ext4 -q -F ${ext4_label:+-L "$ext4_label"} \
		${ext4_dir:+-d "$ext4_dir"} "$work/part.ext4" "${ext4}M"
	run "dd of the ext4 into $img" dd if="$work/part.ext4" of="$img" bs=1M \
		seek=$(( tail_start * 512 )) oflag=seek_bytes conv=notrunc,sparse status=none
elif [ -n "$random" ] && [ "$random" -gt "$zero_tail" ]; then
	# Random, so that a misplaced read cannot pass for a right one.
	head -c $(( (random - zero_tail) * 1048576 )) /dev/urandom > "$work/part.data"
	run "dd of the data into $img" dd if="$work/part.data" of="$img" bs=1M \
		seek=$(( tail_start * 512 )) oflag=seek_bytes conv=notrunc status=none
fi
