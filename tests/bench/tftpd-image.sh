#!/bin/bash
# Image mode against directory mode: the same 64 MiB file served by our
# tftpd from a directory (abcd1234 -> ../mnt) and from the FAT32 boot
# partition of an Ubuntu-shaped OS image (abcd1234 -> ../pi.img), by two
# tftpd processes side by side, measured in the same run, interleaved:
#   - one transfer at blksize 1468, lock-step like a Pi (best of ROUNDS);
#   - CLIENTS concurrent Pi-like clients (pi-tftp bench), best of ROUNDS,
#     and the server's CPU seconds per GiB served (/proc/PID/stat).
# The target is image within 10% of directory (ratio >= 0.90 for rates,
# <= 1.10 for CPU). No root needed: loopback only.
# usage: tests/bench/tftpd-image.sh   (BUILD, ROUNDS, CLIENTS, SIZE_MIB)
. "$(dirname "$0")/../lib/lib.sh"
need mkfs.vfat mcopy sfdisk
PITFTP=$BIN/tools/pi-tftp
[ -x "$BIN/tftpd" ] && [ -x "$PITFTP" ] || fail "build first: make BUILD=$BUILD"
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-32}
SIZE_MIB=${SIZE_MIB:-64}
BYTES=$((SIZE_MIB * 1024 * 1024))
HZ=$(getconf CLK_TCK)
export MTOOLS_SKIP_CHECK=1

# The file, in a directory and in the image's FAT32 partition (the file and
# 256 MiB, at 1 MiB, clusters as mkfs.vfat chooses), both in the page cache.
mkdir -p "$T/dir/boot" "$T/dir/mnt" "$T/img/boot"
head -c "$BYTES" /dev/urandom > "$T/dir/mnt/big.img"
"$TOP/tests/lib/make-disk.sh" --fat $((SIZE_MIB + 256)) --fat-label system-boot \
	--fat-dir "$T/dir/mnt" "$T/img/pi.img"
ln -s ../mnt "$T/dir/boot/abcd1234"
ln -s ../pi.img "$T/img/boot/abcd1234"
cat "$T/dir/mnt/big.img" "$T/img/pi.img" > /dev/null
mcopy -n -i "$T/img/pi.img@@1M" ::big.img "$T/check"
cmp -s "$T/check" "$T/dir/mnt/big.img" || fail "mcopy does not give the file back"
CS=$(minfo -i "$T/img/pi.img@@1M" | awk '/sector size:/ {b=$3} /cluster size:/ {c=$3} END {print b*c}')

PDIR=$(free_port udp)
start_bg dir "$BIN/tftpd" -r "$T/dir/boot" -l 127.0.0.1 -p "$PDIR"
DIRPID=$LAST_PID
PIMG=$(free_port udp)
start_bg img "$BIN/tftpd" -r "$T/img/boot" -l 127.0.0.1 -p "$PIMG"
IMGPID=$LAST_PID
wait_port udp "$PDIR"
wait_port udp "$PIMG"

# The image really is served from the image, byte for byte.
"$PITFTP" -p "$PIMG" -b 1468 get abcd1234/big.img "$T/got" >/dev/null
assert_same_file "$T/got" "$T/dir/mnt/big.img"
rm -f "$T/got" "$T/check"

cpu_ns() {	# cpu_ns PID: nanoseconds of CPU so far
	awk -v hz="$HZ" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat"
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }
# single PORT: MB/s of one lock-step transfer.
single() {
	local out
	out=$("$PITFTP" -p "$1" -b 1468 get abcd1234/big.img -)
	awk -v b="$BYTES" '{ printf "%.1f", b / $4 / 1e6 }' <<<"$out"
}
# many PORT PID: "MB/s CPU-ns" for CLIENTS concurrent clients.
many() {
	local before after out
	before=$(cpu_ns "$2")
	out=$("$PITFTP" -p "$1" -b 1468 -n "$CLIENTS" bench abcd1234/big.img)
	grep -q " failed 0 " <<<"$out" || fail "port $1: $out"
	after=$(cpu_ns "$2")
	echo "$(awk '{ print $10 }' <<<"$out") $((after - before))"
}

note "single transfers, best of $ROUNDS, interleaved"
s_dir=0 s_img=0
for _ in $(seq "$ROUNDS"); do
	s_dir=$(max "$s_dir" "$(single "$PDIR")")
	s_img=$(max "$s_img" "$(single "$PIMG")")
done
note "$CLIENTS clients x $SIZE_MIB MiB, best of $ROUNDS, interleaved"
m_dir=0 m_img=0 c_dir=0 c_img=0
for _ in $(seq "$ROUNDS"); do
	read -r r t < <(many "$PDIR" "$DIRPID")
	m_dir=$(max "$m_dir" "$r"); c_dir=$((c_dir + t))
	read -r r t < <(many "$PIMG" "$IMGPID")
	m_img=$(max "$m_img" "$r"); c_img=$((c_img + t))
done
gib() { awk -v t="$1" -v b=$((BYTES * CLIENTS * ROUNDS)) 'BEGIN { printf "%.2f", t / 1e9 / (b / 1073741824) }'; }
c_dir=$(gib "$c_dir"); c_img=$(gib "$c_img")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n%-36s %10s %10s %12s\n' "$SIZE_MIB MiB, blksize 1468" directory image "image/dir"
printf '%-36s %10s %10s %12s\n' "single transfer, MB/s" "$s_dir" "$s_img" "$(ratio "$s_img" "$s_dir")"
printf '%-36s %10s %10s %12s\n' "$CLIENTS clients aggregate, MB/s" "$m_dir" "$m_img" "$(ratio "$m_img" "$m_dir")"
printf '%-36s %10s %10s %12s\n' "$CLIENTS clients, CPU s per GiB" "$c_dir" "$c_img" "$(ratio "$c_img" "$c_dir")"
printf '(image: MBR, FAT32 partition at 1 MiB, %s-byte clusters)\n\n' "$CS"
stop_pid "$DIRPID"
stop_pid "$IMGPID"
