#!/bin/bash
# Who takes nbdd's connection slots (nbdd(8), -m, -c, WHICH HOSTS ARE
# SERVED):
#   1. -m 4 -c 2 -A 127.0.0.2: refused hosts holding sockets take no slot;
#      the allowed host gets in, refused hosts still read why, each for a
#      few seconds, a few at a time.
#   2. A flood of connections that never finish the handshake or TLS's:
#      one host gets two in the handshake at once, all together half of
#      -m; a client being served goes on being served, a new one gets in.
#   3. -c counts an IPv6 host off the server's networks by its /64, one on
#      them by its address (namespaces: a routed /64 and the server's LAN).
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need ss nbdinfo
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
NOT_ALLOWED='is not in the networks this server allows (nbdd -A)'

mkdir "$T/root"
truncate -s 8M "$T/root/pi.img"

# --- 1. refused hosts take no slot --------------------------------------
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -m 4 -c 2 \
	-A 127.0.0.2 -v
pid=$LAST_PID
wait_port tcp "$port"
# Two refused hosts, two sockets each: all four slots, were they slots.
start_bg hold3 $RAW "$port" hold-sockets 127.0.0.3 2 silent "$T/release1"
h3=$LAST_PID
start_bg hold4 $RAW "$port" hold-sockets 127.0.0.4 3 silent "$T/release1"
h4=$LAST_PID
for _ in $(seq 100); do
	grep -q admitted "$T/hold3.log" && grep -q admitted "$T/hold4.log" && break
	sleep 0.1
done
grep -q 'admitted 2 refused 0' "$T/hold3.log" || fail "127.0.0.3: $(cat "$T/hold3.log")"
# A third from one refused host is closed at once.
grep -q 'admitted 2 refused 1' "$T/hold4.log" || fail "127.0.0.4: $(cat "$T/hold4.log")"
# The allowed host gets in, twice (-c 2), and reads and writes.
start_bg go2 $RAW "$port" go-from pi 127.0.0.2 "ok:$T/release2"
g2=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/go2.log" && break; sleep 0.1; done
grep -q holding "$T/go2.log" || fail "the allowed host was locked out: $(cat "$T/go2.log")"
$RAW "$port" requests pi 2>"$T/req.err" && fail "127.0.0.1 (outside -A) was served"
NBD_SRC=127.0.0.2 $RAW "$port" requests pi ||
	fail "the allowed host's second connection: $(cat "$T/req.err")"
# Refused hosts are still told why, while the others hold their sockets.
$RAW "$port" go-from pi 127.0.0.5 "refused:host 127.0.0.5 $NOT_ALLOWED" >/dev/null ||
	fail "a refused host was not told why"
assert_log "$T/nbdd.log" '127\.0\.0\.3:[0-9]+: NBD connection refused: not in the allowed networks \(127\.0\.0\.2\); -A 127\.0\.0\.3 would allow it'
grep -q 'refused: already' "$T/nbdd.log" && fail "a limit turned someone away: $(grep 'refused: already' "$T/nbdd.log")"
# A refused host has a few seconds, not -T (20), to read why.
sleep 6
touch "$T/release1"
wait "$h3" || fail "holder 127.0.0.3"
wait "$h4" || fail "holder 127.0.0.4"
grep -q 'closed 2' "$T/hold3.log" || fail "refused sockets kept open: $(cat "$T/hold3.log")"
# A scan of refused connections meanwhile: the allowed host still in.
python3 - "$port" <<'PY'
import socket, sys
for i in range(200):
    c = socket.socket()
    c.bind(("127.0.0.%d" % (10 + i % 40), 0))
    c.connect(("127.0.0.1", int(sys.argv[1])))
    c.close()
PY
NBD_SRC=127.0.0.2 $RAW "$port" requests pi || fail "the allowed host after a scan"
touch "$T/release2"
wait "$g2" || fail "the allowed host's held connection"
assert_alive "$pid"
stop_pid "$pid"

# --- 2. a flood of handshakes that never finish --------------------------
tls_make "$T/tls"
C=$TLS_CLIENT
truncate -s 4M "$T/root/other.img"
port=$(free_port tcp)
start_bg nbdd-tls "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -m 8 -T 60 \
	-X "$TLS_SERVER" -y -w admin -v
pid=$LAST_PID
wait_port tcp "$port"
# A client served before the flood, reading all along.
start_bg served $RAW "$port" tls-serve-until "$C/admin" pi 127.0.0.2 "$T/stop"
served=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/served.log" && break; sleep 0.1; done
grep -q holding "$T/served.log" || fail "TLS client: $(cat "$T/served.log")"
# A flooding host: four connections that stop after the greeting; two
# at a time get in.
start_bg flood3 $RAW "$port" hold-sockets 127.0.0.3 4 flags "$T/stop"
for _ in $(seq 100); do grep -q admitted "$T/flood3.log" && break; sleep 0.1; done
grep -q 'admitted 2 refused 2' "$T/flood3.log" || fail "flood from 127.0.0.3: $(cat "$T/flood3.log")"
assert_log "$T/nbdd-tls.log" '127\.0\.0\.3:[0-9]+: refused: already 2 connections from this host in the handshake \(at most 2\)'
# A new client with a certificate gets in, by nbdinfo.
nbdinfo --size "nbds://127.0.0.1:$port/other?tls-certificates=$C/admin" >"$T/size" 2>&1 ||
	fail "a new TLS client was locked out by the flood: $(cat "$T/size")"
[ "$(cat "$T/size")" = 4194304 ] || fail "nbdinfo: $(cat "$T/size")"
# Another, stalling after STARTTLS's ACK with no ClientHello, fills the
# handshakes (half of -m 8): newcomers are refused until -T drops those
# (-T 60 here, longer than this test), but the slots of the clients being
# served stay theirs.
start_bg flood4 $RAW "$port" hold-sockets 127.0.0.4 4 starttls "$T/stop"
for _ in $(seq 100); do grep -q admitted "$T/flood4.log" && break; sleep 0.1; done
grep -q 'admitted 2 refused 2' "$T/flood4.log" || fail "flood from 127.0.0.4: $(cat "$T/flood4.log")"
NBD_SRC=127.0.0.6 $RAW "$port" expect-refused || fail "a fifth handshake at once was let in"
assert_log "$T/nbdd-tls.log" '127\.0\.0\.6:[0-9]+: refused: already 4 connections in the handshake \(at most 4: half of -m\)'
touch "$T/stop"
wait "$served" || fail "the TLS client being served: $(cat "$T/served.log")"
note "TLS client served during the flood: $(tail -1 "$T/served.log")"
assert_alive "$pid"
stop_pid "$pid"

# --- 3. IPv6: -c by /64 off the server's networks ------------------------
need_root
need ip
netns_add srv
netns_add cli
SRV=${NS_PREFIX}srv CLI=${NS_PREFIX}cli
ip -n "$SRV" link add lan0 type veth peer name eth0 netns "$CLI"
ip -n "$SRV" link set lan0 up
ip -n "$CLI" link set eth0 up
ip -n "$SRV" addr add fd00:1::1/64 dev lan0 nodad
for a in fd00:1::2 fd00:1::10 fd00:1::11; do
	ip -n "$CLI" addr add "$a/64" dev eth0 nodad
done
# A routed /64 behind the client namespace: one machine's addresses.
for a in fd00:2::a fd00:2::b fd00:2::c; do
	ip -n "$CLI" addr add "$a/128" dev lo
done
ip -n "$SRV" route add fd00:2::/64 via fd00:1::2
for i in 1 2 3; do truncate -s 1M "$T/root/v6-$i.img"; done
port=$(free_port tcp)
start_bg nbdd6 ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -p "$port" -c 2 \
	-A local -A fd00:2::/64 -v
pid=$LAST_PID
wait_port tcp "$port" "$SRV"
raw6() { ip netns exec "$CLI" env NBD_HOST=fd00:1::1 $RAW "$port" "$@"; }
# Two connections from fd00:2::a, then fd00:2::b is the same host.
start_bg v6a ip netns exec "$CLI" env NBD_HOST=fd00:1::1 NBD_SRC=fd00:2::a \
	$RAW "$port" hold v6-1 2 "$T/stop6"
v6a=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/v6a.log" && break; sleep 0.1; done
grep -q holding "$T/v6a.log" || fail "IPv6 host: $(cat "$T/v6a.log")"
raw6 expect-refused fd00:2::b || fail "-c 2 let a third connection from one /64 in"
assert_log "$T/nbdd6.log" 'fd00:2::b\]?:[0-9]+: refused: already 2 connections from fd00:2::/64 \(-c 2\)'
# On the server's own LAN each address is a host of its own.
start_bg v6l ip netns exec "$CLI" env NBD_HOST=fd00:1::1 NBD_SRC=fd00:1::10 \
	$RAW "$port" hold v6-2 2 "$T/stop6"
v6l=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/v6l.log" && break; sleep 0.1; done
grep -q holding "$T/v6l.log" || fail "on-link IPv6 host: $(cat "$T/v6l.log")"
raw6 go-from v6-3 fd00:1::11 ok >/dev/null ||
	fail "a Pi on the server's LAN was counted with its neighbour"
touch "$T/stop6"
wait "$v6a" || fail "IPv6 holder"
wait "$v6l" || fail "on-link IPv6 holder"
stop_pid "$pid"
