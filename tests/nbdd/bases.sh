#!/bin/bash
# Shared bases: an image nbdd may not write (mode 0444) served to many
# hosts at once, each through its own copy-on-write overlay. The hosts
# are network namespaces on a bridge with nbdd's (10.77.0.1); real
# clients (qemu-io, nbdcopy, nbdinfo, libnbd's Python bindings as nbdsh
# uses them) run in them. Checked: two and then eight hosts writing at
# once each read back only their own bytes (a random model with several
# connections per host, block status as the merged view); the base is
# never written; the grace period (-g) after a lost connection and none
# after a clean NBD_CMD_DISC; an image renamed over a base in use; the
# per-host limit (-q) and a full file system answer ENOSPC to that host
# only; a base cut short under a host; bad requests; the overlay
# directory (-o) refused at startup, named.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need qemu-io nbdcopy nbdinfo
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "python3-libnbd not installed"
PY="/usr/bin/python3 $TOP/tests/nbdd/bases.py"
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
MIB=1048576
GRACE=3

mkdir "$T/root" "$T/ovl"
# The base: data, with a hole at 12-14 MiB, 16 MiB and 2560 bytes long
# (a multiple of 512, not of 4096: its last block is short).
SIZE=$((16 * MIB + 2560))
head -c $((12 * MIB)) /dev/urandom >"$T/root/lab.img"
truncate -s $((14 * MIB)) "$T/root/lab.img"
head -c $((2 * MIB + 2560)) /dev/urandom >>"$T/root/lab.img"
chmod 444 "$T/root/lab.img"
sum=$(sha256sum <"$T/root/lab.img")

netns_add srv
SRV=${NS_PREFIX}srv
ip -n "$SRV" link add br0 type bridge
ip -n "$SRV" addr add 10.77.0.1/24 dev br0
ip -n "$SRV" link set br0 up
for i in $(seq 8); do
	netns_add "h$i"
	ip -n "$SRV" link add "v$i" type veth peer name eth0 netns "${NS_PREFIX}h$i"
	ip -n "$SRV" link set "v$i" master br0 up
	ip -n "${NS_PREFIX}h$i" addr add "10.77.0.$((10 + i))/24" dev eth0
	ip -n "${NS_PREFIX}h$i" link set eth0 up
done
on() { local i=$1; shift; ip netns exec "${NS_PREFIX}h$i" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

start_bg nbdd ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -g $GRACE -v
pid=$LAST_PID
wait_port tcp 10809 "$SRV"
U=nbd://10.77.0.1/lab
assert_log "$T/nbdd.log" "shared bases: overlays in $T/ovl, 4096 MiB per host, [0-9]+ MiB for all hosts together \(half the space free there now; -Q\), kept $GRACE s"

# A writable disk to every host, multi-conn, TRIM and zeroes.
on 1 nbdinfo --json "$U" >"$T/info.json" || fail "nbdinfo on a shared base"
/usr/bin/python3 - "$T/info.json" "$SIZE" <<'EOF' || fail "nbdinfo: $(cat "$T/info.json")"
import json, sys
j = json.load(open(sys.argv[1]))["exports"][0]
assert j["export-size"] == int(sys.argv[2]), j["export-size"]
assert j["is_read_only"] is False, "a shared base exported read-only"
for c in ("can_trim", "can_zero", "can_fast_zero", "can_multi_conn", "can_flush"):
    assert j[c] is True, c
assert "shared base" in j["description"], j["description"]
EOF
# Untouched, a host sees the base, holes and all.
on 2 nbdcopy "$U" "$T/copy" || fail "nbdcopy from a shared base"
assert_same_file "$T/root/lab.img" "$T/copy"
on 2 nbdinfo --map "$U" >"$T/map" || fail "nbdinfo --map"
grep -Eq "^ *$((12 * MIB)) +$((2 * MIB)) +3 +hole,zero" "$T/map" ||
    fail "the base's hole is not in the map: $(cat "$T/map")"

# Two hosts write the same range at once, each its own pattern (partial
# blocks at both ends), and each reads back its own.
on 1 qemu-io -f raw -c 'write -P 0x11 1000 1M' -c 'sleep 1500' \
    -c 'read -P 0x11 1000 1M' "$U" >"$T/q1" 2>&1 &
q1=$!
on 2 qemu-io -f raw -c 'write -P 0x22 1000 1M' -c 'sleep 1500' \
    -c 'read -P 0x22 1000 1M' "$U" >"$T/q2" 2>&1 || fail "host 2: $(cat "$T/q2")"
wait $q1 || fail "host 1: $(cat "$T/q1")"
grep -q 'Pattern verification failed' "$T/q1" "$T/q2" && fail "a host read another's writes"
# The bytes around the writes, in the same partial blocks, are the base's.
cat >"$T/edges.py" <<'EOF'
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1]); base = open(sys.argv[2], "rb").read()
h.pwrite(b"\x33" * 1000, 5000)
assert h.pread(8192, 4096) == base[4096:5000] + b"\x33" * 1000 + base[6000:12288]
h.shutdown()
EOF
on 3 /usr/bin/python3 "$T/edges.py" "$U" "$T/root/lab.img" || fail "partial block merge"
# Large reads over the overlay's and the base's blocks, in long runs and
# in short ones.
on 3 $PY runs "$U" "$T/root/lab.img" >"$T/runs" 2>&1 || fail "mixed runs: $(cat "$T/runs")"

# Eight hosts at once, three connections each: random reads, writes,
# trims and zeroes over 8 MiB, checked against a model per host.
mkdir "$T/barrier"
for i in $(seq 8); do
	on "$i" $PY model "$U" "$T/root/lab.img" "$i" 3 150 $((8 * MIB)) \
	    "$T/barrier" 8 "$((12 * MIB)):$((2 * MIB))" >"$T/model$i.log" 2>&1 &
	eval "m$i=$!"
done
for i in $(seq 8); do
	eval "wait \$m$i" || fail "host $i: $(cat "$T/model$i.log")"
done
[ "$(sha256sum <"$T/root/lab.img")" = "$sum" ] || fail "the base was written"
for i in $(seq 8); do
	assert_log "$T/nbdd.log" "10\.77\.0\.$((10 + i)): export lab: the client disconnected cleanly"
done

# The grace period: a host whose connection is lost (no DISC) finds its
# writes when it comes back within -g.
on 4 $PY write "$U" $MIB 4096 44 nodisc || fail "write without DISC"
on 4 $PY read "$U" $MIB 4096 44 "" nodisc || fail "writes lost within the grace period"
assert_log "$T/nbdd.log" '10\.77\.0\.14: export lab: back within the grace period'
# Merged block status, from a host back within its grace period: what
# it wrote into the base's hole is data, what it trimmed is a hole.
cat >"$T/map.py" <<'EOF'
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
h.pwrite(b"\x77" * 65536, 12 * 1048576)
h.trim(2 * 1048576, 2 * 1048576)
EOF
on 4 /usr/bin/python3 "$T/map.py" "$U" || fail "map writes"
on 4 nbdinfo --map "$U" >"$T/map4" || fail "nbdinfo --map within grace"
grep -Eq "^ *$((2 * MIB)) +$((2 * MIB)) +3 +hole,zero" "$T/map4" &&
grep -Eq "^ *$((4 * MIB)) +$((8 * MIB + 65536)) +0 +data" "$T/map4" &&
grep -Eq "^ *$((12 * MIB + 65536)) +$((2 * MIB - 65536)) +3 +hole,zero" "$T/map4" ||
    fail "merged block status: $(cat "$T/map4")"
# ... and after it, the overlay is gone (main's loop discards it, with
# no host coming or going), and the base is back.
on 4 $PY write "$U" $MIB 4096 45 nodisc || fail "write without DISC"
n=$(grep -c '10\.77\.0\.14: export lab: overlay discarded' "$T/nbdd.log")
sleep $((GRACE + 1))
[ "$(grep -c '10\.77\.0\.14: export lab: overlay discarded' "$T/nbdd.log")" = $((n + 1)) ] ||
    fail "the overlay outlived its grace period"
on 4 $PY read "$U" $MIB 4096 "@$T/root/lab.img" || fail "still the old overlay after the grace period"
# A clean DISC: the client is done, the overlay goes at once.
on 5 $PY write "$U" 0 4096 55 disc || fail "write with DISC"
on 5 $PY read "$U" 0 4096 "@$T/root/lab.img" || fail "overlay kept after DISC"

# Multi-conn across tools: while one connection of host 6 holds its
# overlay, nbdcopy (four connections) writes it and reads it back.
head -c $SIZE /dev/urandom >"$T/src"
on 6 $PY hold "$U" "$T/release6" >"$T/hold6.log" 2>&1 &
h6=$!
for _ in $(seq 100); do grep -q holding "$T/hold6.log" && break; sleep 0.05; done
on 6 nbdcopy -C 4 "$T/src" "$U" || fail "nbdcopy into a shared base"
on 6 nbdcopy -C 4 "$U" "$T/back" || fail "nbdcopy out of an overlay"
assert_same_file "$T/src" "$T/back"
on 7 nbdcopy "$U" "$T/copy7" || fail "nbdcopy, host 7"
assert_same_file "$T/root/lab.img" "$T/copy7"
touch "$T/release6"; wait $h6 || fail "holder 6: $(cat "$T/hold6.log")"

# Bad requests over an overlay: past the end, zero length, oversized,
# misaligned, and what follows them still works (from nbdd's own
# namespace, by loopback).
in_srv $RAW 10809 requests lab || fail "bad requests over an overlay"
in_srv $RAW 10809 options lab || fail "options on a shared base"
in_srv $RAW 10809 shared-base lab 127.0.0.2 || fail "shared base from 127.0.0.2"

# An image renamed over a base in use: connected hosts keep the base
# they started with (a second connection of theirs too), new ones get
# the new image.
head -c $((4 * MIB)) /dev/urandom >"$T/root/upd.img"
chmod 444 "$T/root/upd.img"
cp "$T/root/upd.img" "$T/old"
on 1 $PY hold nbd://10.77.0.1/upd "$T/release1" 0 65536 "@$T/old" >"$T/hold1.log" 2>&1 &
h1=$!
for _ in $(seq 100); do grep -q holding "$T/hold1.log" && break; sleep 0.05; done
head -c $((6 * MIB)) /dev/urandom >"$T/root/upd.new"
chmod 444 "$T/root/upd.new"
cp "$T/root/upd.new" "$T/new"
mv "$T/root/upd.new" "$T/root/upd.img"
on 1 $PY read nbd://10.77.0.1/upd 0 $((4 * MIB)) "@$T/old" $((4 * MIB)) ||
    fail "a host's second connection got the new base"
on 2 $PY read nbd://10.77.0.1/upd 0 $((6 * MIB)) "@$T/new" $((6 * MIB)) ||
    fail "a new host did not get the new base"
touch "$T/release1"; wait $h1 || fail "holder 1: $(cat "$T/hold1.log")"
on 1 $PY read nbd://10.77.0.1/upd 4096 4096 "@$T/old" $((4 * MIB)) ||
    fail "back within grace: not the old base"
assert_log "$T/nbdd.log" 'the base it was made over \(the image was replaced since\)'
# That read ended with DISC: the overlay, and the old base, are gone.
on 1 $PY read nbd://10.77.0.1/upd 4096 4096 "@$T/new" $((6 * MIB)) ||
    fail "after DISC: not the new base"
cmp -s "$T/old" "$T/new" && fail "test images equal"

# The base cut short under a connected host: EIO (or a dropped
# connection) past the cut, never other bytes; nbdd lives on.
head -c $((4 * MIB)) /dev/urandom >"$T/root/cut.img"
chmod 444 "$T/root/cut.img"
cp "$T/root/cut.img" "$T/cut"
on 3 $PY truncated nbd://10.77.0.1/cut "$T/cut" "$T/cut-now" >"$T/cut.log" 2>&1 &
hc=$!
for _ in $(seq 100); do grep -q holding "$T/cut.log" && break; sleep 0.05; done
truncate -s $((2 * MIB)) "$T/root/cut.img"
touch "$T/cut-now"
wait $hc || fail "base cut short: $(cat "$T/cut.log")"
assert_alive "$pid"

# A base that one host still writes directly (it was writable when it
# connected) is no base to others until that host is gone; a writable
# image with overlays over it is not written directly.
truncate -s $MIB "$T/root/flip.img"
start_bg flipw ip netns exec "$SRV" $RAW 10809 go-from flip 127.0.0.1 "ok:$T/release-flip"
fw=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/flipw.log" && break; sleep 0.05; done
chmod 444 "$T/root/flip.img"
in_srv $RAW 10809 go-from flip 127.0.0.2 "refused:in use by 127.0.0.1, which writes it directly" ||
    fail "a base still written directly was served as a base"
touch "$T/release-flip"
wait $fw || fail "writer: $(cat "$T/flipw.log")"
sleep 0.3
start_bg flipb ip netns exec "$SRV" $RAW 10809 go-from flip 127.0.0.3 "ok:$T/release-flip2"
fb=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/flipb.log" && break; sleep 0.05; done
chmod 644 "$T/root/flip.img"
in_srv $RAW 10809 go-from flip 127.0.0.4 "refused:in use as a shared base (1 overlay over it)" ||
    fail "an image with overlays over it was claimed for writing"
touch "$T/release-flip2"
wait $fb || fail "base user: $(cat "$T/flipb.log")"

[ "$(sha256sum <"$T/root/lab.img")" = "$sum" ] || fail "the base was written"
assert_alive "$pid"
stop_pid "$pid"
[ -z "$(ls -A "$T/ovl")" ] || fail "overlay files left: $(ls -A "$T/ovl")"

# The per-host limit (-q): the host at its limit gets ENOSPC, another
# host (connected all along) goes on writing.
start_bg nbdd-q ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -q 1M -g 0 -v
pid=$LAST_PID
wait_port tcp 10809 "$SRV"
on 6 $PY hold "$U" "$T/release-q" >"$T/holdq.log" 2>&1 &
hq=$!
for _ in $(seq 100); do grep -q holding "$T/holdq.log" && break; sleep 0.05; done
on 5 qemu-io -f raw -c 'write -P 0x55 0 2M' "$U" >"$T/q5" 2>&1 &&
    fail "host 5 wrote 2 MiB past its 1 MiB limit"
grep -q 'No space left on device' "$T/q5" || fail "over the limit: $(cat "$T/q5")"
assert_log "$T/nbdd-q.log" '10\.77\.0\.15: export lab: the host.s overlays are at its limit of 1024 KiB'
on 6 qemu-io -f raw -c 'write -P 0x66 0 512k' -c 'read -P 0x66 0 512k' "$U" >"$T/q6" 2>&1 ||
    fail "host 6 could not write beside host 5 at its limit: $(cat "$T/q6")"
grep -q 'Pattern verification failed' "$T/q6" && fail "host 6 reads wrong"
on 5 qemu-io -f raw -c 'write -P 0x55 0 512k' -c 'read -P 0x55 0 512k' "$U" >"$T/q5" 2>&1 ||
    fail "host 5, under its limit again, could not write: $(cat "$T/q5")"
touch "$T/release-q"; wait $hq || fail "holder: $(cat "$T/holdq.log")"
stop_pid "$pid"

# A full file system: ENOSPC to the host that fills it, nbdd lives on,
# another host still reads the base, and the space comes back when the
# host is gone.
mkdir "$T/small"
mount -t tmpfs -o size=2m tmpfs "$T/small" || skip "cannot mount a tmpfs"
CLEANUPS+=("umount $T/small")
start_bg nbdd-full ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -o "$T/small" -q 0 -g 0 -v
pid=$LAST_PID
wait_port tcp 10809 "$SRV"
on 7 qemu-io -f raw -c 'write -P 0x77 0 4M' "$U" >"$T/q7" 2>&1 &&
    fail "4 MiB written into a 2 MiB file system"
grep -q 'No space left on device' "$T/q7" || fail "full file system: $(cat "$T/q7")"
assert_alive "$pid"
on 8 nbdcopy "$U" "$T/copy8" || fail "another host, file system full"
assert_same_file "$T/root/lab.img" "$T/copy8"
for _ in $(seq 50); do
	[ "$(df --output=used -k "$T/small" | tail -1)" -lt 100 ] && break
	sleep 0.1
done
[ "$(df --output=used -k "$T/small" | tail -1)" -lt 100 ] ||
    fail "overlay space not given back: $(df -k "$T/small")"
on 8 qemu-io -f raw -c 'write -P 0x88 0 1M' -c 'read -P 0x88 0 1M' "$U" >"$T/q8" 2>&1 ||
    fail "writing after the space came back: $(cat "$T/q8")"
stop_pid "$pid"
[ "$(sha256sum <"$T/root/lab.img")" = "$sum" ] || fail "the base was written"

# The overlay directory named with -o must be usable, or nbdd does not
# start, and says which directory and why.
in_srv timeout 10 "$BIN/nbdd" -r "$T/root" -o "$T/nope" >"$T/nope.log" 2>&1 &&
    fail "nbdd started with a missing overlay directory"
assert_log "$T/nope.log" "overlay directory $T/nope: No such file or directory \(nbdd -o\)"
if id nobody >/dev/null 2>&1; then
	chmod 755 "$T" "$T/root"
	mkdir -m 755 "$T/rootonly"
	in_srv timeout 10 "$BIN/nbdd" -r "$T/root" -o "$T/rootonly" -u nobody >"$T/ro.log" 2>&1 &&
	    fail "nbdd started with an overlay directory it cannot write"
	assert_log "$T/ro.log" "overlay directory $T/rootonly: cannot create overlay files there: Permission denied"
fi
