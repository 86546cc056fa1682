#!/bin/bash
# nbdd exporting a block device, as an administrator exports an LVM
# volume: NAME.img is a symlink to the device node (here a loop device
# over a file of the test's). Checked: the size comes from the device,
# reads and writes (small, and large enough to pass the 64 KiB sendfile
# threshold a regular file would take) land on the device, TRIM and WRITE
# ZEROES leave zeroes, block status answers "all data", a device opened
# read-only by the kernel is a shared base, and two names for one
# device are one image to the one-writer rule.
. "$(dirname "$0")/../lib/lib.sh"
need losetup qemu-io nbdinfo nbdcopy blockdev
[ "$(id -u)" = 0 ] || skip "needs root for loop devices"
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
SIZE=$((48 * 1024 * 1024))

mkdir "$T/root"
head -c $SIZE /dev/urandom >"$T/backing"
dev=$(losetup --find --show "$T/backing" 2>"$T/losetup.err") ||
    skip "no loop device here: $(cat "$T/losetup.err")"
CLEANUPS+=("blockdev --setrw $dev; losetup -d $dev")
# A device's read-only flag outlives its detach: start from read-write.
blockdev --setrw "$dev" || fail "blockdev --setrw $dev"
ln -s "$dev" "$T/root/lv.img"
ln -s "$dev" "$T/root/alias.img"

port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
URI="nbd://127.0.0.1:$port/lv"

# Size from BLKGETSIZE64, listed beside any file exports, writable.
nbdinfo --json "$URI" >"$T/info.json" || fail "nbdinfo on the device export"
/usr/bin/python3 - "$T/info.json" "$SIZE" <<'EOF' || fail "nbdinfo: $(cat "$T/info.json")"
import json, sys
j = json.load(open(sys.argv[1]))["exports"][0]
assert j["export-size"] == int(sys.argv[2]), j["export-size"]
assert j["is_read_only"] is False, "device exported read-only"
EOF
nbdinfo --list "nbd://127.0.0.1:$port" | has 'export="lv"' ||
    fail "the device is not listed"

# The whole device reads back as it is, in large requests.
nbdcopy "$URI" "$T/copy" || fail "nbdcopy from the device"
assert_same_file "$T/backing" "$T/copy"

# Writes reach the device: a pattern, a FUA write, then a flush.
qemu-io -f raw -c 'write -P 0x3c 1M 3M' -c 'write -P 0xc3 -f 8M 512k' \
    -c 'flush' "$URI" >"$T/qio" 2>&1 || fail "qemu-io write: $(cat "$T/qio")"
cmp <(dd if="$dev" bs=1M skip=1 count=3 iflag=direct status=none) \
    <(head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' '\74') ||
    fail "the device does not hold the written pattern"
cmp <(dd if="$dev" bs=512k skip=16 count=1 iflag=direct status=none) \
    <(head -c $((512 * 1024)) /dev/zero | tr '\0' '\303') ||
    fail "the device does not hold the FUA write"
# Bytes around the writes are untouched.
cmp -n $((1024 * 1024)) "$dev" "$T/copy" || fail "bytes before the write changed"

# TRIM and WRITE ZEROES on a device: zeroes read back (from nbdd and
# from the device itself).
qemu-io -f raw -c 'discard 16M 2M' -c 'write -z 20M 1M' \
    -c 'read -P 0 20M 1M' "$URI" >"$T/qio" 2>&1 ||
    fail "qemu-io discard/zero: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "WRITE ZEROES left data"
cmp <(dd if="$dev" bs=1M skip=20 count=1 iflag=direct status=none) \
    <(head -c $((1024 * 1024)) /dev/zero) || fail "zeroed range not zero on the device"

# Block status: a device has no holes to report.
nbdinfo --map "$URI" >"$T/map" || fail "nbdinfo --map"
[ "$(wc -l <"$T/map")" = 1 ] && grep -q "^ *0 *$SIZE *0 *data" "$T/map" ||
    fail "block status of a device: $(cat "$T/map")"

# Two names, one device: while host 127.0.0.1 holds lv, another host is
# refused alias, named as the holder.
start_bg holder $RAW "$port" go-from lv 127.0.0.1 "ok:$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/holder.log" && break; sleep 0.1; done
grep -q holding "$T/holder.log" || fail "first host could not take the device"
$RAW "$port" go-from alias 127.0.0.2 "refused:127.0.0.1" ||
    fail "a second host got the same device under another name"
touch "$T/release"
wait "$holder" || fail "holder failed"
assert_alive "$pid"
stop_pid "$pid"

# A device the kernel holds read-only is a shared base: each host
# writes its own overlay, reads back its own, and the device is never
# written.
blockdev --setro "$dev" || fail "blockdev --setro"
sum=$(sha256sum <"$dev")
start_bg nbdd2 "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -o "$T"
pid=$LAST_PID
wait_port tcp "$port"
$RAW "$port" shared-base lv 127.0.0.1 || fail "read-only device not a shared base"
$RAW "$port" shared-base lv 127.0.0.2 || fail "read-only device, a second host"
qemu-io -f raw -c 'read -P 0x3c 1M 3M' -c 'write -P 0x5a 1M 64k' \
    -c 'read -P 0x5a 1M 64k' -c 'read -P 0x3c 1088k 64k' \
    "nbd://127.0.0.1:$port/lv" >"$T/qio" 2>&1 ||
    fail "read and write a read-only device's overlay: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "read-only device's overlay reads wrong"
nbdinfo --map "nbd://127.0.0.1:$port/lv" >"$T/map" || fail "nbdinfo --map"
[ "$(wc -l <"$T/map")" = 1 ] && grep -q "^ *0 *$SIZE *0 *data" "$T/map" ||
    fail "block status of a device base: $(cat "$T/map")"
[ "$(sha256sum <"$dev")" = "$sum" ] || fail "the read-only device was written"
assert_alive "$pid"
stop_pid "$pid"
