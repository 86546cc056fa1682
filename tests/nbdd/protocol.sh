#!/bin/bash
# nbdd: the handshake and requests byte by byte (bad options, bad names,
# out-of-range and unknown requests), listing with nbd-client and nbdinfo,
# and an image copied in showing up without a restart.
. "$(dirname "$0")/../lib/lib.sh"
need nbd-client nbdinfo
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

mkdir "$T/root"
truncate -s 64M "$T/root/pi4.img"
truncate -s 1M "$T/root/.hidden.img" "$T/root/other.raw"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -v
pid=$LAST_PID
wait_port tcp "$port"

$RAW "$port" options pi4 || fail "option haggling"
$RAW "$port" huge-option || fail "4 GiB option"
$RAW "$port" bad-flags || fail "unknown client flags"
$RAW "$port" requests pi4 || fail "requests"
$RAW "$port" list pi4 || fail "LIST"
assert_log "$T/nbdd.log" 'GO refused: .*not a valid export name'
assert_log "$T/nbdd.log" 'option of 4294967295 bytes: closing'
assert_log "$T/nbdd.log" 'WRITE of 4294967295 bytes at 0, over the 33554432-byte maximum: dropping the client without reading it'

# Real clients list what is there now.
nbd-client -l 127.0.0.1 "$port" >"$T/list" 2>&1 || fail "nbd-client -l: $(cat "$T/list")"
grep -qx pi4 "$T/list" || fail "nbd-client -l does not show pi4: $(cat "$T/list")"
cp --sparse=always "$T/root/pi4.img" "$T/root/fresh.img"
nbd-client -l 127.0.0.1 "$port" >"$T/list" 2>&1
grep -qx fresh "$T/list" || fail "a copied-in image is not listed"
$RAW "$port" list pi4 fresh || fail "LIST after copy"
nbdinfo --list "nbd://127.0.0.1:$port" >"$T/info" 2>&1 || fail "nbdinfo --list: $(cat "$T/info")"
grep -q 'export="fresh"' "$T/info" || fail "nbdinfo --list lacks fresh"
grep -q 'block_size_maximum: 33554432' "$T/info" || fail "no block size info"
grep -q 'can_multi_conn: true' "$T/info" || fail "multi-conn not offered"
nbdinfo "nbd://127.0.0.1:$port/fresh" >"$T/info1" 2>&1 || fail "nbdinfo on fresh"
grep -q 'export-size: 67108864' "$T/info1" || fail "fresh size wrong"
# ... and gone when removed.
rm "$T/root/fresh.img"
nbdinfo "nbd://127.0.0.1:$port/fresh" >/dev/null 2>&1 && fail "removed image still served"

assert_alive "$pid"
stop_pid "$pid"
