#!/bin/bash
# nbdd with qemu-io, qemu-img and nbdinfo: reads, writes, discard, write
# zeroes and block status, checked against the image file; TRIM shrinks
# the file's allocation; FLUSH and FUA reach fdatasync / RWF_DSYNC.
. "$(dirname "$0")/../lib/lib.sh"
need qemu-io qemu-img nbdinfo strace

mkdir "$T/root"
truncate -s 32M "$T/root/disk.img"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
URI="nbd://127.0.0.1:$port/disk"
# strace, attached for the first writes, sees the durability calls
# without changing what nbdd does.
start_bg strace strace -f -qq -p "$pid" -e trace=fdatasync,pwritev2 \
    -o "$T/strace.out"
spid=$LAST_PID
for _ in $(seq 50); do grep -q 'attached' "$T/strace.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5

qemu-io -f raw -c 'write -P 0x5a 0 4M' -c 'write -P 0xa5 -f 8M 1M' \
    -c 'flush' -c 'read -P 0x5a 0 4M' -c 'read -P 0xa5 8M 1M' \
    "$URI" >"$T/qio" 2>&1 || fail "qemu-io write/read: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "pattern mismatch"
cmp -n 4194304 "$T/root/disk.img" <(head -c 4194304 /dev/zero | tr '\0' '\132') ||
    fail "file does not hold what was written"
kill -TERM "$spid"; wait "$spid" || true	# strace detaches
grep -q 'fdatasync' "$T/strace.out" || fail "FLUSH did not fdatasync"
grep -q 'RWF_DSYNC' "$T/strace.out" || fail "FUA write did not use RWF_DSYNC"

# TRIM punches holes: the allocation shrinks, the data reads as zeroes.
sync
before=$(stat -c %b "$T/root/disk.img")
qemu-io -f raw -c 'discard 0 4M' "$URI" >"$T/qio" 2>&1 || fail "discard: $(cat "$T/qio")"
after=$(stat -c %b "$T/root/disk.img")
[ "$after" -lt "$before" ] || fail "TRIM did not shrink the file ($before -> $after blocks)"
qemu-io -f raw -c 'read -P 0 0 4M' "$URI" >"$T/qio" 2>&1 || fail "read after discard"
grep -q 'Pattern verification failed' "$T/qio" && fail "discarded range not zero"

# Write zeroes, with and without holes allowed.
qemu-io -f raw -c 'write -z 8M 512k' -c 'write -z -u 8704k 512k' \
    -c 'read -P 0 8M 1M' "$URI" >"$T/qio" 2>&1 || fail "write zeroes: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "zeroed range not zero"
cmp -n 1048576 -i 8388608:0 "$T/root/disk.img" /dev/zero || fail "file not zeroed"

# Block status from SEEK_DATA/SEEK_HOLE.
qemu-io -f raw -c 'write -P 1 16M 64k' "$URI" >/dev/null 2>&1
nbdinfo --map "$URI" >"$T/map" 2>&1 || fail "nbdinfo --map: $(cat "$T/map")"
grep -Eq '^ *16777216 +65536 +0 +data' "$T/map" || fail "map lacks the data extent: $(cat "$T/map")"
grep -Eq '^ *0 +[0-9]+ +3 +hole,zero' "$T/map" || fail "map lacks the leading hole: $(cat "$T/map")"

# qemu-img convert out and compare with the file.
qemu-img convert -f raw -O raw "$URI" "$T/copy.img" || fail "qemu-img convert"
assert_same_file "$T/root/disk.img" "$T/copy.img"

assert_alive "$pid"
stop_pid "$pid"
