#!/bin/bash
# dhcpproxyd replaces dnsmasq's proxy mode for Pis: the option 43 a Pi sees
# from dhcpproxyd is byte for byte the one dnsmasq sends for
# --dhcp-range=...,proxy --pxe-service=0,"Raspberry Pi Boot", and so are
# options 53, 54, 60 and the echoed 97.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
mkdir "$T/boot/abcd1234"
start_bg dnsmasq-proxy ip netns exec "$BOOT_NS" dnsmasq --no-daemon \
	--conf-file=/dev/null --port=0 --user=root --interface=eth0 \
	--dhcp-range=192.168.50.0,proxy --pxe-service=0,"Raspberry Pi Boot" \
	--pid-file= --log-facility=-
DMQ=$LAST_PID
wait_port udp 67 "$BOOT_NS"
dp_client -m pi -s abcd1234 >"$T/dnsmasq.out"
stop_pid "$DMQ"

dp_start
dp_client -m pi -s abcd1234 >"$T/ours.out"
assert_pi_offer "$T/ours.out"
stop_pid "$DP_PID"

field() { replies_from "$1" "$BOOT_IP" | grep -o " $2=[^ ]*" || true; }
for f in opt43 server class opt97 yiaddr; do
	a=$(field "$T/dnsmasq.out" "$f")
	b=$(field "$T/ours.out" "$f")
	[ -n "$a" ] || fail "dnsmasq's proxy offer has no $f: $(cat "$T/dnsmasq.out")"
	[ "$a" = "$b" ] || fail "$f differs: dnsmasq$a, dhcpproxyd$b"
done
# dnsmasq sends no boot server in siaddr; we do (the Pi ignores it).
echo ok
