#!/bin/bash
# One writer across servers when a server fails, against a real Ceph
# cluster (tests/lib/ceph.inc, osd client watch timeout 5 s):
#  - server A, serving a client that wrote and FLUSHed, is killed with
#    SIGKILL; the client, retrying as nbd-client -persist does, is served
#    by server B with the bytes A acknowledged as flushed. A's process
#    died, its connections closed, so Ceph knew at once.
#  - server B's host dies (its network first, then SIGKILL: nothing tells
#    Ceph): the client is refused by A' while B's watch on the image
#    lives, and served once it has expired. The seconds the image stays
#    locked in each case are printed (nbdd(8) quotes them).
#  - server A', serving a client that writes with FUA, is stopped
#    (SIGSTOP, not dead); B' takes the image over once A''s watch
#    expires and Ceph blocklists A'; A', continued, acknowledges nothing
#    more, says why and disconnects its client; every write it
#    acknowledged is there.
#
#   srva 10.99.0.11, srvb 10.99.0.12   the servers (one root directory)
#   cli1 10.99.0.21, cli2 10.99.0.22   client hosts
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/ceph.inc"
need nbdsh
PY="/usr/bin/python3 $TOP/tests/nbdd/rbd.py"
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
rbd create --size 32M rbd/pi || fail "rbd create"
mkdir -p "$T/root"
ln -s rbd:rbd/pi "$T/root/pi.img"
port=$(free_port tcp)
start_bg nbdd-a ip netns exec "$NSA" "$BIN/nbdd" -r "$T/root" -l 10.99.0.11 \
	-p "$port" -C "$CA" -v
pida=$LAST_PID
start_bg nbdd-b ip netns exec "$NSB" "$BIN/nbdd" -r "$T/root" -l 10.99.0.12 \
	-p "$port" -C "$CB" -v
pidb=$LAST_PID
wait_port tcp "$port" "$NSA"
wait_port tcp "$port" "$NSB"
A=nbd://10.99.0.11:$port/pi
B=nbd://10.99.0.12:$port/pi

# failover SERVER_PID NEXT_URI OFF WHAT: a client writes and FLUSHes 4 MiB
# at OFF through the server at CUR_URI, the server dies (WHAT: "process":
# SIGKILL; "host": its network goes first, so nothing tells Ceph), and the
# client retries at NEXT_URI until served; it reads the flushed bytes
# there. Sets LOCKED_SECS and leaves the retry's report in $T/retry.
failover() {
	local pid=$1 next=$2 off=$3 what=$4 ns=$5 killed writer
	head -c 4M /dev/urandom >"$T/flushed"
	rm -f "$T/writer.log"
	start_bg writer ip netns exec "${NS_PREFIX}cli1" $PY flushed "$CUR_URI" "$off" $((4 * MIB)) "$T/flushed"
	writer=$LAST_PID
	for _ in $(seq 300); do has flushed "$T/writer.log" && break; sleep 0.1; done
	has flushed "$T/writer.log" || fail "the client did not write and flush"
	[ "$what" = process ] || ip -n "$ns" link set eth-store down
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	killed=$(date +%s.%N)
	in_ns cli1 $PY retry "$next" "server policy prevents NBD_OPT_GO" \
		"$off" "$T/flushed" >"$T/retry" ||
		fail "failover after the $what died failed"
	LOCKED_SECS=$(echo "$(date +%s.%N) - $killed" | bc)
	kill "$writer" 2>/dev/null || true
	[ "$what" = process ] || ip -n "$ns" link set eth-store up
	note "$(printf 'image locked %.1f s after its server %s died (osd client watch timeout %s s): %s' \
		"$LOCKED_SECS" "$what" "$CEPH_WATCH_TIMEOUT" "$(cat "$T/retry")")"
}

# --- A's process dies: its connections close, Ceph knows at once -------
CUR_URI=$A
failover "$pida" "$B" $((16 * MIB)) process "$NSA"
assert_log "$T/nbdd-b.log" '10\.99\.0\.21 claims image pi'
ceph osd blocklist ls 2>/dev/null | has '10\.99\.0\.11:0/' ||
	fail "Ceph did not blocklist the dead server A"

# --- B's host dies: nothing tells Ceph; the watch expires ----------------
start_bg nbdd-a2 ip netns exec "$NSA" "$BIN/nbdd" -r "$T/root" -l 10.99.0.11 \
	-p "$port" -C "$CA" -v
pida=$LAST_PID
wait_port tcp "$port" "$NSA"
CUR_URI=$B
failover "$pidb" "$A" $((20 * MIB)) host "$NSB"
assert_log "$T/nbdd-a2.log" '10\.99\.0\.21 claims image pi'
ceph osd blocklist ls 2>/dev/null | has '10\.99\.0\.12:0/' ||
	fail "Ceph did not blocklist the dead server B"
start_bg nbdd-b2 ip netns exec "$NSB" "$BIN/nbdd" -r "$T/root" -l 10.99.0.12 \
	-p "$port" -C "$CB" -v
pidb=$LAST_PID
wait_port tcp "$port" "$NSB"

# --- A' stopped, not dead: blocklisted, never acknowledges --------------
rm -f "$T/stop"
start_bg load ip netns exec "${NS_PREFIX}cli1" $PY load "$A" "$T/acked" "$T/stop" 300
load=$LAST_PID
for _ in $(seq 100); do [ "$( { wc -l <"$T/acked"; } 2>/dev/null || echo 0)" -gt 20 ] && break; sleep 0.1; done
kill -STOP "$pida"
stopped=$(date +%s.%N)
head -c 4096 /dev/zero >"$T/zeros"
in_ns cli2 $PY retry "$B" "server policy prevents NBD_OPT_GO" \
	$((28 * MIB)) "$T/zeros" >"$T/retry" ||
	fail "B' never took the image from the stopped A'"
note "$(printf "B' took the image over %.1f s after A' stopped: %s" \
	"$(echo "$(date +%s.%N) - $stopped" | bc)" "$(cat "$T/retry")")"
a2=$(sed -n 's/.*Ceph cluster: connected as .* at \([0-9.]*:0\/[0-9]*\),.*/\1/p' "$T/nbdd-a2.log")
[ -n "$a2" ] || fail "A' did not say its address in the cluster"
ceph osd blocklist ls 2>/dev/null | has -F "$a2" ||
	fail "B' took the image, but Ceph did not blocklist the stopped A' ($a2)"
kill -CONT "$pida"
for _ in $(seq 600); do kill -0 "$load" 2>/dev/null || break; sleep 0.1; done
kill -0 "$load" 2>/dev/null && fail "A''s client still served 60 s after A' was blocklisted"
wait "$load" || fail "A''s client: $(cat "$T/load.log")"
has '^error' "$T/acked" || fail "A''s client got no error once A' was blocklisted"
note "A''s client: $(grep '^error' "$T/acked")"
assert_log "$T/nbdd-a2.log" 'refused by Ceph .*disconnecting the client'
assert_alive "$pida"
# Every write A' acknowledged (with FUA) is in the image.
stop_pid "$pidb"
rm -f "$T/image"
rbd export --no-progress rbd/pi "$T/image" >/dev/null 2>&1 || fail "rbd export"
$PY acked "$T/acked" "$T/image" || fail "a write A' acknowledged is missing"
stop_pid "$pida"
