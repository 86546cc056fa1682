#!/bin/bash
# Sockets handed over: inetd "wait" mode (-i, the UDP socket on fd 0) and
# systemd socket activation (LISTEN_FDS, ports 67 and 4011; the port tells
# each socket's role). systemd-socket-activate plays inetd and systemd.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"
need systemd-socket-activate

dp_net
mkdir "$T/boot/abcd1234"

# inetd: the socket on fd 0; the program starts at the first datagram.
start_bg dhcpproxyd ip netns exec "$BOOT_NS" systemd-socket-activate -d \
	-l 0.0.0.0:67 --inetd "$DHCPPROXYD" -i -v -r "$T/boot"
DP_PID=$LAST_PID
wait_port udp 67 "$BOOT_NS"
# The datagram that wakes it was queued before IP_PKTINFO was on, so it
# says nothing of its interface and is dropped; a Pi retries each second.
dp_client -m pi -s abcd1234 -w 1 >"$T/wake.out"
for _ in $(seq 50); do
	grep -q "arrival interface unknown" "$T/dhcpproxyd.log" && break
	sleep 0.1
done
assert_log "$T/dhcpproxyd.log" "dropped, arrival interface unknown"
dp_client -m pi -s abcd1234 -w 3 >"$T/inetd.out"
assert_pi_offer "$T/inetd.out"
assert_log "$T/dhcpproxyd.log" "on 1 socket\$"
stop_pid "$DP_PID"

# inetd proper hands the socket over as stderr too: dhcpproxyd then logs
# to syslog by itself (here a stand-in on a private /dev/log).
syslog_capture
mv "$T/dhcpproxyd.log" "$T/dhcpproxyd-inetd0.old"
start_bg dhcpproxyd ip netns exec "$BOOT_NS" systemd-socket-activate -d \
	-l 0.0.0.0:67 --inetd "$WITH_DEVLOG" sh -c 'exec "$@" 2>&0' sh \
	"$DHCPPROXYD" -i -v -r "$T/boot"
DP_PID=$LAST_PID
wait_port udp 67 "$BOOT_NS"
dp_client -m pi -s abcd1234 -w 1 >"$T/wake2.out"
dp_client -m pi -s abcd1234 -w 3 >"$T/inetd2.out"
assert_pi_offer "$T/inetd2.out"
assert_log "$T/syslog" 'dhcpproxyd\[[0-9]+\]: serving .* on 1 socket$'
assert_log "$T/syslog" 'dhcpproxyd\[[0-9]+\]: .*abcd1234'
grep -q '^dhcpproxyd: ' "$T/dhcpproxyd.log" && fail "dhcpproxyd logged to the socket's stderr"
stop_pid "$DP_PID"

# systemd: two sockets.
mv "$T/dhcpproxyd.log" "$T/dhcpproxyd-inetd.old"
start_bg dhcpproxyd ip netns exec "$BOOT_NS" systemd-socket-activate -d \
	-l 0.0.0.0:67 -l 0.0.0.0:4011 "$DHCPPROXYD" -a -v -r "$T/boot" \
	-b 7=ipxe.efi
DP_PID=$LAST_PID
wait_port udp 4011 "$BOOT_NS"
dp_client -m pi -s abcd1234 -w 1 >"$T/wake.out"
dp_client -m pi -s abcd1234 -w 3 >"$T/sd.out"
assert_pi_offer "$T/sd.out"
ip -n "$CLIENT_NS" addr add 192.168.50.201/24 dev eth0
dp_client -m pxe -A 7 -T request -d "$BOOT_IP" -p 4011 >"$T/sd4011.out"
replies_from "$T/sd4011.out" "$BOOT_IP" |
	grep -q "from=$BOOT_IP:4011 .* type=ACK .* file=\"ipxe.efi\"" ||
	fail "no ACK from the activated 4011 socket: $(cat "$T/sd4011.out")"
assert_log "$T/dhcpproxyd.log" "on 2 sockets\$"
stop_pid "$DP_PID"
echo ok
