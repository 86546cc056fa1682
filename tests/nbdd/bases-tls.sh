#!/bin/bash
# Shared bases over TLS: an overlay belongs to (address, identity). Two
# Pis with certificates of their own behind one address (a network
# namespace, 10.77.0.11) each get their own overlay, their own -q, and
# one's DISC leaves the other's overlay alone; a new Pi that takes over
# a dead Pi's address within its grace period starts from the base, and
# the dead Pi, back within it, finds its writes. Real clients: nbdsh's
# libnbd (bases.py) and qemu-io with tls-creds-x509.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need_root
need qemu-io nbdinfo
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "python3-libnbd not installed"
PY="/usr/bin/python3 $TOP/tests/nbdd/bases.py"
MIB=1048576

tls_make "$T/tls" 10.77.0.1
for pi in 1111aaaa 2222bbbb 3333cccc; do tls_add_client "$pi"; done
C=$TLS_CLIENT

# A class: every Pi's boot entry points at the base.
mkdir -p "$T/root/boot" "$T/ovl"
head -c $((8 * MIB)) /dev/urandom >"$T/root/lab.img"
chmod 444 "$T/root/lab.img"
for pi in 1111aaaa 2222bbbb 3333cccc; do ln -s ../lab.img "$T/root/boot/$pi"; done
sum=$(sha256sum <"$T/root/lab.img")

netns_add srv
SRV=${NS_PREFIX}srv
ip -n "$SRV" link add br0 type bridge
ip -n "$SRV" addr add 10.77.0.1/24 dev br0
ip -n "$SRV" link set br0 up
# plug NS: a namespace of the LAN, at 10.77.0.11.
plug() {
	netns_add "$1"
	ip -n "$SRV" link add "v$1" type veth peer name eth0 netns "$NS_PREFIX$1"
	ip -n "$SRV" link set "v$1" master br0 up
	ip -n "$NS_PREFIX$1" addr add 10.77.0.11/24 dev eth0
	ip -n "$NS_PREFIX$1" link set eth0 up
}
on() { local ns=$1; shift; ip netns exec "$NS_PREFIX$ns" "$@"; }
U() { echo "nbds://10.77.0.1/lab?tls-certificates=$C/$1"; }
plug a

start_bg nbdd ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" \
	-X "$TLS_SERVER" -y -g 60 -q 1M -v
pid=$LAST_PID
wait_port tcp 10809 "$SRV"

# --- two identities from one address -----------------------------------
# Pi 1111aaaa writes, and its connection is lost (no DISC): its overlay
# is in its grace period.
on a $PY write "$(U 1111aaaa)" 0 65536 aa nodisc || fail "1111aaaa: write"
for _ in $(seq 50); do
	grep -q '10\.77\.0\.11 as 1111aaaa: export lab: last connection gone' "$T/nbdd.log" && break
	sleep 0.1
done
# Pi 2222bbbb, from the same address: the base, not 1111aaaa's disk.
on a $PY read "$(U 2222bbbb)" 0 65536 "@$T/root/lab.img" "" nodisc ||
	fail "2222bbbb read 1111aaaa's overlay from the same address"
assert_log "$T/nbdd.log" '10\.77\.0\.11 as 2222bbbb: export lab: a fresh overlay over the shared base'
# It writes the same blocks and says it is done (DISC): its overlay
# goes, 1111aaaa's stays.
on a $PY write "$(U 2222bbbb)" 0 65536 bb disc || fail "2222bbbb: write"
assert_log "$T/nbdd.log" '10\.77\.0\.11 as 2222bbbb: export lab: the client disconnected cleanly'
on a $PY read "$(U 1111aaaa)" 0 65536 aa "" nodisc ||
	fail "1111aaaa lost its writes to 2222bbbb's DISC"
assert_log "$T/nbdd.log" '10\.77\.0\.11 as 1111aaaa: export lab: back within the grace period'

# Each identity has its own -q (1 MiB): both write 768 KiB from the one
# address, at once, with qemu-io.
x509() { echo "tls-creds-x509,id=t0,dir=$C/$1,endpoint=client"; }
img="driver=nbd,host=10.77.0.1,export=lab,tls-creds=t0"
on a qemu-io --object "$(x509 1111aaaa)" --image-opts "$img" \
	-c 'write -P 0x1a 1M 768k' -c 'read -P 0x1a 1M 768k' >"$T/qa" 2>&1 &
qa=$!
on a qemu-io --object "$(x509 2222bbbb)" --image-opts "$img" \
	-c 'write -P 0x2b 1M 768k' -c 'read -P 0x2b 1M 768k' >"$T/qb" 2>&1 ||
	fail "2222bbbb: 768 KiB under its own 1 MiB: $(cat "$T/qb")"
wait $qa || fail "1111aaaa: 768 KiB under its own 1 MiB: $(cat "$T/qa")"
grep -q 'Pattern verification failed' "$T/qa" "$T/qb" && fail "qemu-io read another Pi's bytes"
# ... and one identity still stops at its own.
on a qemu-io --object "$(x509 1111aaaa)" --image-opts "$img" \
	-c 'write -P 0x1a 4M 2M' >"$T/qa2" 2>&1 && fail "1111aaaa wrote 2 MiB past its 1 MiB"
grep -q 'No space left on device' "$T/qa2" || fail "past -q: $(cat "$T/qa2")"

# --- a new Pi takes over a dead Pi's address within its grace period ----
# 1111aaaa writes and dies (no DISC); its namespace goes, and the address
# comes back as another Pi's.
on a $PY write "$(U 1111aaaa)" $((6 * MIB)) 65536 cc nodisc || fail "1111aaaa: write"
for _ in $(seq 50); do
	[ "$(grep -c '10\.77\.0\.11 as 1111aaaa: export lab: last connection gone' "$T/nbdd.log")" -ge 3 ] && break
	sleep 0.1
done
ip netns del "${NS_PREFIX}a"
plug b
on b $PY read "$(U 3333cccc)" $((6 * MIB)) 65536 "@$T/root/lab.img" ||
	fail "a new Pi at a dead Pi's address read the dead Pi's disk"
on b $PY write "$(U 3333cccc)" $((6 * MIB)) 65536 3c disc || fail "3333cccc: write"
# The dead Pi, back within its grace period (same address, its own
# certificate): its writes, untouched by the newcomer's DISC.
on b $PY read "$(U 1111aaaa)" $((6 * MIB)) 65536 cc || fail "1111aaaa, back, lost its writes"
[ "$(sha256sum <"$T/root/lab.img")" = "$sum" ] || fail "the base was written"
assert_alive "$pid"
stop_pid "$pid"
[ -z "$(ls -A "$T/ovl")" ] || fail "overlay files left: $(ls -A "$T/ovl")"
echo "ok: overlays per address and identity"
