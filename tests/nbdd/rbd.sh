#!/bin/bash
# nbdd serving images in a real Ceph cluster (tests/lib/ceph.inc, one start
# for every check): every command on rbd:POOL/IMAGE with the bytes
# compared with `rbd export` and BLOCK_STATUS with `rbd diff`; 32
# requests in flight on one connection; TLS; a snapshot as a shared base
# that is never written, and a class re-pointed at a new snapshot; one
# writer across two servers; bad targets, no -C, a cluster down at
# start, and one that goes away under load.
#
#   srva 10.99.0.11  nbdd A (and the one without -C, the TLS one)
#   srvb 10.99.0.12  nbdd B
#   cli1 10.99.0.21, cli2 10.99.0.22   client hosts
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/ceph.inc"
. "$TOP/tests/lib/tls.inc"
need nbdinfo nbdcopy nbdsh qemu-img qemu-io
PY="/usr/bin/python3 $TOP/tests/nbdd/rbd.py"
PYB="/usr/bin/python3 $TOP/tests/nbdd/bases.py"
MIB=$((1 << 20))

ceph_start
for h in srva:11 srvb:12 cli1:21 cli2:22; do
	netns_add "${h%:*}"
	ceph_attach "${h%:*}" "10.99.0.${h#*:}"
done
NSA=${NS_PREFIX}srva NSB=${NS_PREFIX}srvb
in_ns() { local ns=$NS_PREFIX$1; shift; ip netns exec "$ns" "$@"; }
CA=$(ceph_client srva)
CB=$(ceph_client srvb)
# Requests the cluster does not answer fail after 10 s here, not nbdd's
# default 30 s, so that the test of a cluster gone away stays short.
for c in "$CA" "$CB"; do echo "rados osd op timeout = 10" >>"${c#*@}"; done

# The image: data in some 4 MiB objects, none in the others (`rbd import`
# writes no object that holds only zeros).
truncate -s 64M "$T/pi.raw"
for o in 0 3 5 10; do
	head -c 4M /dev/urandom |
		dd of="$T/pi.raw" bs=4M seek="$o" conv=notrunc status=none
done
rbd import --no-progress "$T/pi.raw" rbd/pi >/dev/null || fail "rbd import"
rbd info rbd/pi | has 'exclusive-lock' || fail "rbd/pi has no exclusive lock"
# A class's base: image gold, snapshot s1.
head -c 16M /dev/urandom >"$T/gold.raw"
rbd import --no-progress "$T/gold.raw" rbd/gold >/dev/null || fail "rbd import gold"
rbd snap create rbd/gold@s1 >/dev/null || fail "rbd snap create"

mkdir -p "$T/root/boot" "$T/ovl"
head -c 8M /dev/urandom >"$T/root/file.img"
ln -s rbd:rbd/pi "$T/root/pi.img"
ln -s rbd:rbd/gold@s1 "$T/root/class.img"
ln -s rbd:nopool/pi "$T/root/nopool.img"
ln -s rbd:rbd/nothere "$T/root/noimage.img"
ln -s rbd:rbd/pi@nosnap "$T/root/nosnap.img"
ln -s rbd:rbd "$T/root/malformed.img"
ln -s ../pi.img "$T/root/boot/abcd1234"

port=$(free_port tcp)
start_bg nbdd-a ip netns exec "$NSA" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 10.99.0.11 \
	-p "$port" -C "$CA" -v
pida=$LAST_PID
wait_port tcp "$port" "$NSA"
A=nbd://10.99.0.11:$port
B=nbd://10.99.0.12:$port

# --- every command; bytes and allocation as Ceph has them --------------
in_ns cli1 nbdinfo "$A/pi" >"$T/info" || fail "nbdinfo pi: $(cat "$T/info")"
has "export-size: $((64 * MIB))" <"$T/info" || fail "pi's size: $(cat "$T/info")"
rbd_alloc() {	# the allocated objects, merged, as `rbd diff --whole-object` says:
		# nbdd asks librbd as it does, through the object map (fast-diff)
	rbd diff --whole-object --format json "$1" | python3 -c '
import json, sys
ext = []
for e in sorted(json.load(sys.stdin), key=lambda e: e["offset"]):
    if e["exists"] not in ("true", True): continue
    if ext and ext[-1][0] + ext[-1][1] == e["offset"]: ext[-1][1] += e["length"]
    else: ext.append([e["offset"], e["length"]])
for o, l in ext: print(o, l)'
}
rbd_export() {	# rbd_export IMAGE FILE: FILE as `rbd export` writes it
	rm -f "$2"
	rbd export --no-progress "$1" "$2" >/dev/null 2>&1 || fail "rbd export $1"
}
in_ns cli1 $PY map "$A/pi" "$T/map.nbd" || fail "BLOCK_STATUS on pi"
rbd_alloc rbd/pi >"$T/map.rbd"
diff "$T/map.rbd" "$T/map.nbd" >&2 || fail "BLOCK_STATUS differs from rbd diff"
[ "$(wc -l <"$T/map.nbd")" = 4 ] || fail "expected 4 data extents: $(cat "$T/map.nbd")"
in_ns cli1 nbdcopy "$A/pi" "$T/read.raw" || fail "nbdcopy from pi"
assert_same_file "$T/pi.raw" "$T/read.raw"

cp "$T/pi.raw" "$T/model.raw"
in_ns cli1 $PY ops "$A/pi" "$T/model.raw" || fail "commands on pi"
rbd_export rbd/pi "$T/export.raw"
assert_same_file "$T/model.raw" "$T/export.raw"
in_ns cli1 $PY map "$A/pi" "$T/map.nbd" || fail "BLOCK_STATUS on pi"
rbd_alloc rbd/pi >"$T/map.rbd"
diff "$T/map.rbd" "$T/map.nbd" >&2 || fail "BLOCK_STATUS differs from rbd diff after TRIM"

# --- many requests in flight on one connection -------------------------
head -c 64M /dev/urandom >"$T/big.raw"
in_ns cli1 nbdcopy --connections=1 --requests=32 --request-size=65536 \
	"$T/big.raw" "$A/pi" || fail "nbdcopy QD32 to pi"
rbd_export rbd/pi "$T/export.raw"
assert_same_file "$T/big.raw" "$T/export.raw"
in_ns cli1 qemu-img compare -f raw -F raw "$T/big.raw" "$A/pi" >/dev/null ||
	fail "qemu-img compare with pi"
in_ns cli1 qemu-io -f raw -c 'aio_write -P 0x5a 1M 1M' -c 'aio_flush' \
	-c 'read -P 0x5a 1M 1M' "$A/pi" >"$T/qio" || fail "qemu-io: $(cat "$T/qio")"
head -c 1M /dev/zero | tr '\0' '\132' |
	dd of="$T/big.raw" bs=1M seek=1 conv=notrunc status=none

# --- over TLS: the Pi abcd1234 reaches pi through its boot entry ---------
tls_make "$T/tls" 10.99.0.11
tport=$(free_port tcp)
start_bg nbdd-tls ip netns exec "$NSA" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" \
	-l 10.99.0.11 -p "$tport" -C "$CA" -X "$TLS_SERVER" -v
pidt=$LAST_PID
wait_port tcp "$tport" "$NSA"
S="nbds://10.99.0.11:$tport/pi?tls-certificates=$TLS_CLIENT/abcd1234"
in_ns cli1 nbdcopy --requests=32 "$S" "$T/tls.raw" || fail "nbdcopy over TLS"
assert_same_file "$T/big.raw" "$T/tls.raw"
dd if=/dev/urandom of="$T/big.raw" bs=64K count=16 seek=7 conv=notrunc status=none
in_ns cli1 nbdcopy "$T/big.raw" "$S" || fail "nbdcopy to pi over TLS"
stop_pid "$pidt"
rbd_export rbd/pi "$T/export.raw"
assert_same_file "$T/big.raw" "$T/export.raw"

# --- a snapshot is a shared base, never written ------------------------
rbd_export rbd/gold@s1 "$T/s1.before"
in_ns cli1 $PY base "$A/class" "$T/gold.raw" $((2 * MIB)) 17 || fail "cli1 on the base"
in_ns cli2 $PY base "$A/class" "$T/gold.raw" $((3 * MIB)) 34 || fail "cli2 on the base"
rbd_export rbd/gold@s1 "$T/s1.after"
assert_same_file "$T/s1.before" "$T/s1.after"
assert_same_file "$T/gold.raw" "$T/s1.after"
for h in 21 22; do
	assert_log "$T/nbdd-a.log" "10\.99\.0\.$h: export class: a fresh overlay over the shared base"
done

# --- a class re-pointed at a new snapshot ------------------------------
# As a new base renamed over a file (bases.sh): a host connected
# before the change keeps the old snapshot and its own writes, a second
# connection of its and its return within the grace period too; a new
# host gets the new snapshot; once the first host is done (DISC), it gets
# the new one. Neither snapshot is written.
head -c $((4 * MIB)) /dev/urandom >"$T/v1.raw"
head -c $((6 * MIB)) /dev/urandom >"$T/v2.raw"
rbd import --no-progress "$T/v1.raw" rbd/upd >/dev/null || fail "rbd import upd"
rbd snap create rbd/upd@v1 >/dev/null || fail "rbd snap create upd@v1"
rbd resize --no-progress --size 6M rbd/upd >/dev/null || fail "rbd resize upd"
ip netns exec "$CEPH_NS" qemu-img convert -n -f raw -O raw "$T/v2.raw" \
	"rbd:rbd/upd:conf=$CEPH_CONF" || fail "qemu-img convert into rbd/upd"
rbd snap create rbd/upd@v2 >/dev/null || fail "rbd snap create upd@v2"
rbd_export rbd/upd@v1 "$T/v1.before"
assert_same_file "$T/v1.raw" "$T/v1.before"
rbd_export rbd/upd@v2 "$T/v2.before"
assert_same_file "$T/v2.raw" "$T/v2.before"
ln -s rbd:rbd/upd@v1 "$T/root/upd.img"
U=$A/upd
# cli1's overlay: v1 with its own 64 KiB at 1 MiB (written, then the
# connection lost without DISC), held by a connection of its.
cp "$T/v1.raw" "$T/mine.raw"
head -c 65536 /dev/zero | tr '\0' '\021' |
	dd of="$T/mine.raw" bs=64K seek=16 conv=notrunc status=none
in_ns cli1 $PYB write "$U" "$MIB" 65536 11 nodisc || fail "cli1's write into upd"
start_bg hold-upd ip netns exec "${NS_PREFIX}cli1" $PYB hold "$U" "$T/release-upd" \
	0 $((4 * MIB)) "@$T/mine.raw"
holdu=$LAST_PID
for _ in $(seq 100); do has holding "$T/hold-upd.log" && break; sleep 0.1; done
has holding "$T/hold-upd.log" || fail "cli1 could not hold upd: $(cat "$T/hold-upd.log")"
ln -sfn rbd:rbd/upd@v2 "$T/root/upd.img"
in_ns cli1 $PYB read "$U" 0 $((4 * MIB)) "@$T/mine.raw" $((4 * MIB)) ||
	fail "cli1's second connection did not get v1 and its own writes"
in_ns cli2 $PYB read "$U" 0 $((6 * MIB)) "@$T/v2.raw" $((6 * MIB)) ||
	fail "a new host did not get v2"
assert_log "$T/nbdd-a.log" "10\.99\.0\.22: export upd: a fresh overlay over the shared base \($((6 * MIB)) bytes\)"
touch "$T/release-upd"
wait "$holdu" || fail "cli1's holder: $(cat "$T/hold-upd.log")"
in_ns cli1 $PYB read "$U" 0 $((4 * MIB)) "@$T/mine.raw" $((4 * MIB)) ||
	fail "cli1 back within its grace period: not v1 and its own writes"
assert_log "$T/nbdd-a.log" '10\.99\.0\.21: export upd: back within the grace period, the host keeps its overlay and the base it was made over \(the image was replaced since\)'
# That read ended with DISC: the overlay and v1 are gone for cli1.
for _ in $(seq 50); do
	has '10\.99\.0\.21: export upd: overlay discarded' "$T/nbdd-a.log" && break
	sleep 0.1
done
assert_log "$T/nbdd-a.log" '10\.99\.0\.21: export upd: overlay discarded'
in_ns cli1 $PYB read "$U" 0 $((6 * MIB)) "@$T/v2.raw" $((6 * MIB)) ||
	fail "cli1 after DISC: not v2"
rbd_export rbd/upd@v1 "$T/v1.after"
assert_same_file "$T/v1.raw" "$T/v1.after"
rbd_export rbd/upd@v2 "$T/v2.after"
assert_same_file "$T/v2.raw" "$T/v2.after"

# --- one writer across two servers -------------------------------------
start_bg nbdd-b ip netns exec "$NSB" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 10.99.0.12 \
	-p "$port" -C "$CB" -v
pidb=$LAST_PID
wait_port tcp "$port" "$NSB"
start_bg holder ip netns exec "${NS_PREFIX}cli1" $PY hold "$A/pi" "$T/release"
holder=$LAST_PID
for _ in $(seq 100); do has holding "$T/holder.log" && break; sleep 0.1; done
has holding "$T/holder.log" || fail "cli1 could not take pi on A"
in_ns cli2 $PY refused "$B/pi" "server policy prevents NBD_OPT_GO" >"$T/refused" ||
	fail "cli2 was not refused pi on B"
note "$(cat "$T/refused")"
assert_log "$T/nbdd-b.log" 'image pi is in use by 10\.99\.0\.21 through nbdd on .*Ceph client\.'
touch "$T/release"
wait "$holder" || fail "the holder failed"
for _ in $(seq 100); do has 'releases image pi' "$T/nbdd-a.log" && break; sleep 0.1; done
in_ns cli2 $PY hold "$B/pi" "$T/release" >/dev/null ||
	fail "cli2 did not get pi on B after cli1 let go"

# --- bad targets --------------------------------------------------------
for e in nopool noimage nosnap malformed; do
	in_ns cli1 nbdinfo "$A/$e" >/dev/null 2>&1 && fail "export $e was served"
done
assert_log "$T/nbdd-a.log" 'rbd:nopool/pi: .*pool nopool'
assert_log "$T/nbdd-a.log" 'rbd:rbd/nothere: no image nothere in pool rbd'
assert_log "$T/nbdd-a.log" 'rbd:rbd/pi@nosnap: no image pi with a snapshot nosnap'
assert_log "$T/nbdd-a.log" 'malformed.*rbd:POOL/IMAGE'
in_ns cli1 nbdinfo "$A/file" >/dev/null || fail "file image not served beside bad targets"

# --- no -C: rbd: entries refused, files served --------------------------
nport=$(free_port tcp)
start_bg nbdd-noc ip netns exec "$NSA" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 10.99.0.11 \
	-p "$nport" -v
pidn=$LAST_PID
wait_port tcp "$nport" "$NSA"
in_ns cli1 $PY refused "nbd://10.99.0.11:$nport/pi" handshake >/dev/null ||
	fail "pi not refused without -C"
assert_log "$T/nbdd-noc.log" 'an image in Ceph \(rbd:rbd/pi\), but nbdd was started without -C'
in_ns cli1 nbdcopy "nbd://10.99.0.11:$nport/file" "$T/file.read" || fail "file without -C"
assert_same_file "$T/root/file.img" "$T/file.read"
stop_pid "$pidn"

# --- the cluster goes away under load -----------------------------------
stop_pid "$pidb"
rm -f "$T/release" "$T/stop"
start_bg load ip netns exec "${NS_PREFIX}cli1" $PY load "$A/pi" "$T/acked" "$T/stop" 40
load=$LAST_PID
start_bg reader ip netns exec "${NS_PREFIX}cli2" $PY reader "$A/file" "$T/root/file.img" "$T/stop"
reader=$LAST_PID
for _ in $(seq 100); do [ "$( { wc -l <"$T/acked"; } 2>/dev/null || echo 0)" -gt 20 ] && break; sleep 0.1; done
gone=$(date +%s)
# The cluster goes away from A: its packets to the cluster are dropped,
# as when the storage network fails. (ceph_stop_osd would lose the
# memstore's objects: the OSD's fast shutdown does not save them; and a
# single OSD frozen with SIGSTOP kept its requests stuck once continued.)
ip -n "$NSA" route add blackhole "$CEPH_ADDR/32"
# The RBD client gets an error reply within the op timeout; the file
# client reads on.
for _ in $(seq 400); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
kill -0 "$load" 2>/dev/null && fail "the RBD client neither got a reply nor an error in 40 s"
wait "$load" || fail "RBD client under load: $(cat "$T/load.log")"
has '^error' "$T/acked" || fail "no RBD request failed with the cluster gone"
note "RBD request failed $(( $(date +%s) - gone )) s after the cluster went: $(grep '^error' "$T/acked")"
assert_alive "$reader"
assert_log "$T/nbdd-a.log" 'export pi: (WRITE|READ) of [0-9]+ bytes at [0-9]+: .*\(the Ceph cluster did not answer in time'
ip -n "$NSA" route del blackhole "$CEPH_ADDR/32"
touch "$T/stop"
wait "$reader" || fail "the file client was affected: $(cat "$T/reader.log")"
# Back: a new connection is served, and every write nbdd acknowledged is
# there (the block holds that write's counter or a later one).
for _ in $(seq 300); do
	in_ns cli1 nbdinfo "$A/pi" >/dev/null 2>&1 && break; sleep 0.2
done
in_ns cli1 nbdcopy "$A/pi" "$T/after.raw" || fail "pi not served after the cluster came back"
$PY acked "$T/acked" "$T/after.raw" || fail "a write nbdd acknowledged is missing"

# --- a cluster down at nbdd's start -------------------------------------
stop_pid "$pida"
# No monitor: no client can connect.
ceph_stop_mon
start_bg nbdd-down ip netns exec "$NSB" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 10.99.0.12 \
	-p "$port" -C "$CB" -v
pidd=$LAST_PID
wait_port tcp "$port" "$NSB"
in_ns cli1 nbdcopy "$B/file" "$T/file.read2" || fail "file not served with the cluster down"
assert_same_file "$T/root/file.img" "$T/file.read2"
in_ns cli1 $PY refused "$B/pi" handshake >"$T/refused" || fail "pi not refused with the cluster down"
note "$(cat "$T/refused")"
# The first attempt to connect gives up after client_mount_timeout (15 s).
for _ in $(seq 300); do has 'cannot connect' "$T/nbdd-down.log" && break; sleep 0.1; done
assert_log "$T/nbdd-down.log" 'Ceph cluster \(client\.srvb, .*\): cannot connect: .*; images in Ceph are refused until it answers'
assert_log "$T/nbdd-down.log" 'GO refused: export "pi": rbd:rbd/pi: '
ceph_start_mon
up=$(date +%s)
for _ in $(seq 600); do
	in_ns cli1 nbdinfo "$B/pi" >/dev/null 2>&1 && break; sleep 0.2
done
in_ns cli1 nbdinfo "$B/pi" >/dev/null || fail "pi not served after the cluster came up"
note "pi served $(( $(date +%s) - up )) s after the cluster was started"
assert_log "$T/nbdd-down.log" 'Ceph cluster: connected as client\.srvb'
stop_pid "$pidd"
