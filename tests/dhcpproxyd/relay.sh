#!/bin/bash
# Where replies go: broadcast out of the arrival interface when the client
# has no address; to ciaddr when it has one; to the relay agent (giaddr,
# port 67) for a relayed request. With -p, the ports move together: a
# test can run on 1067 and 1068 as dnsmasq's --dhcp-alternate-port does.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
RELAY_IP=192.168.50.200
CLIENT_IP=192.168.50.201
mkdir "$T/boot/abcd1234"
dp_start

# No address: broadcast.
dp_client -m pi -s abcd1234 >"$T/bcast.out"
assert_pi_offer "$T/bcast.out"
replies_from "$T/bcast.out" "$BOOT_IP" | has " to=255.255.255.255 " ||
	fail "not a broadcast: $(cat "$T/bcast.out")"

ip -n "$CLIENT_NS" addr add "$RELAY_IP/24" dev eth0
ip -n "$CLIENT_NS" addr add "$CLIENT_IP/24" dev eth0

# A relay agent: giaddr set, unicast to the server from port 67; the
# reply comes back to giaddr port 67.
dp_client -m pi -s abcd1234 -g "$RELAY_IP" -L 67 -d "$BOOT_IP" >"$T/relay.out"
r=$(replies_from "$T/relay.out" "$BOOT_IP")
[ -n "$r" ] || fail "the relay got no reply: $(cat "$T/relay.out"; cat "$T/dhcpproxyd.log")"
grep -q "from=$BOOT_IP:67 to=$RELAY_IP " <<<"$r" || fail "not to the relay: $r"
grep -q " giaddr=$RELAY_IP " <<<"$r" || fail "giaddr not kept: $r"
grep -q ' menu="Raspberry Pi Boot" ' <<<"$r" || fail "relayed reply lacks option 43: $r"
assert_proxy_replies "$T/relay.out"

# A client with an address: unicast to ciaddr, port 68.
dp_client -m pi -s abcd1234 -c "$CLIENT_IP" -d "$BOOT_IP" -U >"$T/ci.out"
r=$(replies_from "$T/ci.out" "$BOOT_IP")
[ -n "$r" ] || fail "no reply to ciaddr: $(cat "$T/ci.out")"
grep -q "from=$BOOT_IP:67 to=$CLIENT_IP " <<<"$r" || fail "not to ciaddr: $r"
assert_proxy_replies "$T/ci.out"
ip -n "$CLIENT_NS" addr flush dev eth0

# Other ports: -p 1067 answers clients on 1068 and has no 4011 socket
# with -P 0.
DP_PORT=1067 dp_restart -p 1067 -P 0
ip netns exec "$BOOT_NS" ss -Hnul | has ":4011 " &&
	fail "-P 0 still listens on 4011"
dp_client -m pi -s abcd1234 -p 1067 -L 1068 >"$T/alt.out"
r=$(replies_from "$T/alt.out" "$BOOT_IP")
grep -q "from=$BOOT_IP:1067 to=255.255.255.255 " <<<"$r" ||
	fail "no broadcast reply on port 1068: $(cat "$T/alt.out")"
assert_pi_offer "$T/alt.out"

stop_pid "$DP_PID"
echo ok
