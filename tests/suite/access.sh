#!/bin/bash
# Which hosts tftpd and nbdd serve (-A), on a LAN of namespaces:
#
#   pi      192.168.50.10  fd50::10   on the server's own LAN
#   server  192.168.50.1   fd50::1    tftpd, nbdd
#           10.99.0.1      fd99::1    link to the router
#   router  10.99.0.2      fd99::2    forwards
#           172.30.0.1     fd30::1
#   far     172.30.0.5     fd30::5    a routed host (behind a relay)
#
# By default the Pi is served and the routed host refused, with the
# protocol's error and a rate-limited log line naming the flag; -A admits
# it; -A without "local" shuts the LAN out; an interface that comes up
# later is followed; a scan does not flood the log or stop the service.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../tftpd/layout.inc"
need_root
need ip tftp curl busybox nbdinfo qemu-img nbd-client python3

make_layout
truncate -s 4M "$T/root/pi.img"
printf 'pi image marker' | dd of="$T/root/pi.img" conv=notrunc status=none

netns_add server
netns_add router
netns_add pi
netns_add far
SRV=${NS_PREFIX}server RTR=${NS_PREFIX}router PI=${NS_PREFIX}pi FAR=${NS_PREFIX}far
# IPv6 addresses usable at once, without duplicate address detection.
v6_nodad() { case $1 in *:*) echo nodad ;; esac; }
link() {	# link NS1 IF1 ADDRS1 NS2 IF2 ADDRS2
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
	for a in $3; do ip -n "$1" addr add "$a" dev "$2" $(v6_nodad "$a"); done
	for a in $6; do ip -n "$4" addr add "$a" dev "$5" $(v6_nodad "$a"); done
}
link "$SRV" lan0 "192.168.50.1/24 fd50::1/64" "$PI" eth0 "192.168.50.10/24 fd50::10/64"
link "$SRV" up0 "10.99.0.1/30 fd99::1/64" "$RTR" down0 "10.99.0.2/30 fd99::2/64"
link "$RTR" far0 "172.30.0.1/24 fd30::1/64" "$FAR" eth0 "172.30.0.5/24 fd30::5/64"
ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$SRV" route add 172.30.0.0/24 via 10.99.0.2
ip -n "$SRV" route add fd30::/64 via fd99::2
ip -n "$RTR" route add 192.168.50.0/24 via 10.99.0.1
ip -n "$RTR" route add fd50::/64 via fd99::1
ip -n "$FAR" route add default via 172.30.0.1
ip -n "$FAR" route add default via fd30::1

TPORT=69 NPORT=10809
# start_daemons ARGS...: tftpd and nbdd in the server namespace with ARGS.
start_daemons() {
	start_bg tftpd ip netns exec "$SRV" "$BIN/tftpd" -r "$R" -v "$@"
	TFTPD_PID=$LAST_PID
	start_bg nbdd ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -v "$@"
	NBDD_PID=$LAST_PID
	wait_port udp "$TPORT" "$SRV"
	wait_port tcp "$NPORT" "$SRV"
}
stop_daemons() { stop_pid "$TFTPD_PID"; stop_pid "$NBDD_PID"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# served NS ADDR: bootcode.bin over TFTP with three clients and the NBD
# export's first bytes, byte for byte.
served() {
	local ns=$1 a=$2 url=$2
	case $a in *:*) url="[$a]" ;; esac
	rm -f "$T/out/"*
	in_ns "$ns" tftp "$a" -m binary -c get bootcode.bin "$T/out/hpa" >"$T/hpa.txt" 2>&1
	assert_same_file "$T/out/hpa" "$R/bootcode.bin"
	in_ns "$ns" curl -s -o "$T/out/curl" "tftp://$url/bootcode.bin" ||
		fail "curl from $ns to $a"
	assert_same_file "$T/out/curl" "$R/bootcode.bin"
	in_ns "$ns" nbdinfo --size "nbd://$url/pi" >"$T/size" 2>&1 ||
		fail "nbdinfo from $ns to $a: $(cat "$T/size")"
	[ "$(cat "$T/size")" = 4194304 ] || fail "nbdinfo size $(cat "$T/size")"
	in_ns "$ns" qemu-img convert -f raw -O raw "nbd://$url/pi" "$T/out/img" ||
		fail "qemu-img from $ns to $a"
	assert_same_file "$T/out/img" "$T/root/pi.img"
}

# refused NS ADDR: the protocol's error, not one byte of a file.
refused() {
	local ns=$1 a=$2 url=$2 out rc
	case $a in *:*) url="[$a]" ;; esac
	rm -f "$T/out/"*
	out=$(in_ns "$ns" tftp "$a" -m binary -c get bootcode.bin "$T/out/hpa" 2>&1 || true)
	case $out in
	*"Error code 2: Access violation"*) ;;
	*) fail "tftp from $ns to $a: expected an access violation, got: $out" ;;
	esac
	[ ! -s "$T/out/hpa" ] || fail "tftp from $ns to $a received bytes"
	# curl's exit status 69 is "permission problem on the TFTP server".
	rc=0; in_ns "$ns" curl -sS -o "$T/out/curl" "tftp://$url/bootcode.bin" \
		>"$T/curl.txt" 2>&1 || rc=$?
	[ "$rc" = 69 ] || fail "curl from $ns to $a: exit $rc: $(cat "$T/curl.txt")"
	[ ! -s "$T/out/curl" ] || fail "curl from $ns to $a received bytes"
	out=$(in_ns "$ns" busybox tftp -g -r bootcode.bin -l "$T/out/bb" "$a" 2>&1) &&
		fail "busybox tftp from $ns to $a was served"
	case $out in *"ccess violation"*) ;; *) fail "busybox tftp from $ns: $out" ;; esac
	[ ! -s "$T/out/bb" ] || fail "busybox tftp from $ns to $a received bytes"
	# libnbd shows the server's reason with LIBNBD_DEBUG=1.
	out=$(in_ns "$ns" env LIBNBD_DEBUG=1 nbdinfo "nbd://$url/pi" 2>&1) &&
		fail "nbdinfo from $ns to $a was served"
	case $out in
	*"server replied with error to opt_go"*) ;;
	*) fail "nbdinfo from $ns to $a: $out" ;;
	esac
	case $out in
	*"server error message: host "*" is not in the networks this server allows (nbdd -A)"*) ;;
	*) fail "nbdinfo from $ns to $a: no reason: $out" ;;
	esac
	in_ns "$ns" qemu-img convert -f raw -O raw "nbd://$url/pi" "$T/out/img" \
		>"$T/qi.txt" 2>&1 && fail "qemu-img from $ns to $a was served"
	[ ! -s "$T/out/img" ] || fail "qemu-img from $ns to $a received bytes"
	in_ns "$ns" nbd-client -l "$a" "$NPORT" >"$T/ncl.txt" 2>&1 &&
		fail "nbd-client -l from $ns to $a listed: $(cat "$T/ncl.txt")"
	grep -q '^pi$' "$T/ncl.txt" && fail "nbd-client -l from $ns saw the exports"
	return 0
}

# 1. The default: the LAN (IPv4 and IPv6) is served, the routed host not.
start_daemons
served "$PI" 192.168.50.1
served "$PI" fd50::1
refused "$FAR" 192.168.50.1
refused "$FAR" fd50::1
assert_log "$T/tftpd.log" '172\.30\.0\.5:[0-9]+: TFTP request refused: not in the allowed networks \(by default loopback and this server.s own networks\); -A local -A 172\.30\.0\.5 would allow it'
assert_log "$T/tftpd.log" '\[?fd30::5\]?:[0-9]+: TFTP request refused: .*-A local -A fd30::5 would allow it'
assert_log "$T/nbdd.log" '172\.30\.0\.5:[0-9]+: NBD connection refused: not in the allowed networks .*-A local -A 172\.30\.0\.5 would allow it'
assert_log "$T/nbdd.log" 'fd30::5.*NBD connection refused: .*-A local -A fd30::5 would allow it'
# Refused before any file was looked up or any export opened.
grep -q '172\.30\.0\.5.*bootcode' "$T/tftpd.log" && fail "tftpd looked up a refused host's file"
grep -q '172\.30\.0\.5.*claims\|172\.30\.0\.5.*export pi' "$T/nbdd.log" &&
	fail "nbdd opened an export for a refused host"

# 2. A scan from the routed host: a few log lines and a count, and the Pi
# is still served while it runs.
in_ns "$FAR" python3 - "$TPORT" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"\x00\x01bootcode.bin\x00octet\x00", ("192.168.50.1", port))
for i in range(150):
    c = socket.create_connection(("192.168.50.1", 10809))
    c.close()
PY
scan=$!
served "$PI" 192.168.50.1
wait "$scan" || fail "the scan could not run"
sleep 0.5
n=$(grep -c 'TFTP request refused' "$T/tftpd.log")
[ "$n" -le 14 ] || fail "tftpd logged $n refusals for a scan of 2000 requests"
n=$(grep -c 'NBD connection refused' "$T/nbdd.log")
[ "$n" -le 14 ] || fail "nbdd logged $n refusals for a scan of 150 connections"
# Once the limit lets a line through again, it counts what it held back.
sleep 2.1
refused "$FAR" 192.168.50.1
assert_log "$T/tftpd.log" 'TFTP request refused: .* \([0-9]+ similar lines held back\)'
assert_log "$T/nbdd.log" 'NBD connection refused: .* \([0-9]+ similar lines held back\)'
assert_alive "$TFTPD_PID"
assert_alive "$NBDD_PID"

# 3. An interface that comes up later is followed, and one that goes.
link "$SRV" lan1 "192.168.60.1/24" "$FAR" eth1 "192.168.60.7/24"
sleep 1.2
served "$FAR" 192.168.60.1
ip -n "$SRV" addr del 192.168.60.1/24 dev lan1
ip -n "$SRV" addr add 192.168.61.1/32 dev lan1
ip -n "$SRV" route add 192.168.60.0/24 dev lan1
ip -n "$FAR" route add 192.168.61.1/32 dev eth1
sleep 1.2
refused "$FAR" 192.168.61.1
stop_daemons

# 4. -A admits the routed network beside the LAN (IPv4 and IPv6).
start_daemons -A local -A 172.30.0.0/24 -A fd30::/64
served "$FAR" 192.168.50.1
served "$FAR" fd50::1
served "$PI" 192.168.50.1
grep -q 'refused' "$T/tftpd.log" && fail "tftpd refused someone with -A local -A ..."
assert_log "$T/tftpd.log" 'to hosts in: local, 172\.30\.0\.0/24, fd30::/64'
stop_daemons

# 5. -A without "local": only what it names; the LAN is shut out.
start_daemons -A 172.30.0.5
served "$FAR" 192.168.50.1
refused "$PI" 192.168.50.1
assert_log "$T/tftpd.log" '192\.168\.50\.10:[0-9]+: TFTP request refused: not in the allowed networks \(172\.30\.0\.5\); -A 192\.168\.50\.10 would allow it'
stop_daemons

# 6. A bad -A is an error at start, naming the flag and the reason.
for d in tftpd nbdd; do
	out=$("$BIN/$d" -A 10.9.0.5/24 2>&1) && fail "$d accepted -A 10.9.0.5/24"
	case $out in *"-A 10.9.0.5/24: host bits set"*) ;; *) fail "$d: $out" ;; esac
	out=$("$BIN/$d" -A lan 2>&1) && fail "$d accepted -A lan"
	case $out in *"-A lan: not \"local\""*) ;; *) fail "$d: $out" ;; esac
done
