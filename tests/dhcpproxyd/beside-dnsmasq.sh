#!/bin/bash
# dhcpproxyd and dnsmasq, the LAN's DHCP server, on one host, as
# dhcpproxyd(8), SOCKETS, says to run them: dnsmasq bound to its
# interface (--bind-interfaces --interface=eth0) shares port 67, and
# keeps what is sent to this host's address (a lease's renewal) to
# itself. Asserted:
#   - beside a dnsmasq that holds port 67 alone (its default),
#     dhcpproxyd does not start, and says what holds the port, the
#     command that names it and how to share it;
#   - beside dnsmasq --bind-interfaces --interface=eth0, started before
#     or after it, dhcpproxyd starts, says the port is shared, and a Pi
#     gets both offers: an address from dnsmasq, its boot server from
#     dhcpproxyd;
#   - a plain client's lease from dnsmasq is renewed by unicast, answered
#     by dnsmasq; dhcpproxyd answers nothing of it; nor does it get a
#     relay's request, sent to the host's address: dnsmasq does.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"
need busybox

dp_net
HOST=$SERVER_IP	# dnsmasq and dhcpproxyd both here
mkdir -p "$T/boot"
ln -s ../pi.img "$T/boot/abcd1234"
truncate -s 1M "$T/pi.img"

# dnsmasq FLAGS...: the LAN's server in the host's namespace.
dnsmasq_on() {
	start_bg dnsmasq ip netns exec "$SERVER_NS" dnsmasq --no-daemon \
		--conf-file=/dev/null --port=0 --user=root --no-ping \
		--dhcp-range=192.168.50.100,192.168.50.150,255.255.255.0,1h \
		--dhcp-leasefile="$T/leases" --pid-file= --log-dhcp \
		--log-facility=- "$@"
	DNSMASQ_PID=$LAST_PID
	wait_port udp 67 "$SERVER_NS"
}
proxy_on() {
	start_bg dhcpproxyd ip netns exec "$SERVER_NS" "$DHCPPROXYD" -v \
		-r "$T/boot"
	DP_PID=$LAST_PID
}
# both_offers OUT: one offer of an address from dnsmasq and one proxy
# offer naming this host as the boot server, both from this host.
both_offers() {
	local r
	r=$(replies_from "$1" "$HOST")
	grep -Eq " type=OFFER len=[0-9]+ yiaddr=192\.168\.50\.1[0-9][0-9] " <<<"$r" ||
		fail "no address offered by dnsmasq: $(cat "$1")"
	grep ' yiaddr=0.0.0.0 ' <<<"$r" | grep " server=$HOST " |
		grep -q ' menu="Raspberry Pi Boot" ' ||
		fail "no proxy offer from dhcpproxyd: $(cat "$1")"
}

# --- dnsmasq as it starts by default: port 67 is its alone -------------------
dnsmasq_on --interface=eth0
rc=0
timeout 10 ip netns exec "$SERVER_NS" "$DHCPPROXYD" -r "$T/boot" \
	>"$T/alone.log" 2>&1 || rc=$?
cat "$T/alone.log"
[ "$rc" = 1 ] || fail "dhcpproxyd exited $rc beside a dnsmasq that holds port 67"
assert_log "$T/alone.log" "error: bind 0.0.0.0 port 67: Address already in use: the LAN's DHCP server .* holds port 67 for itself \(ss -ulpn 'sport = :67' names it\): run it so that it shares the port \(dnsmasq --bind-interfaces --interface=IFACE\)"
stop_pid "$DNSMASQ_PID"

# --- dnsmasq bound to its interface, dhcpproxyd after it ---------------------
dnsmasq_on --bind-interfaces --interface=eth0
proxy_on
for _ in $(seq 100); do
	grep -q 'serving' "$T/dhcpproxyd.log" && break
	assert_alive "$DP_PID"
	sleep 0.1
done
assert_log "$T/dhcpproxyd.log" "0.0.0.0 port 67: port 67 is shared with a program that allows it"
dp_client -m pi -M dc:a6:32:01:36:c2 -s 0xabcd1234 >"$T/pi1.out"
cat "$T/pi1.out"
both_offers "$T/pi1.out"
assert_log "$T/dhcpproxyd.log" 'abcd1234 dc:a6:32:01:36:c2: answered'

# A plain client's lease, renewed by unicast to this host: dnsmasq's.
cat >"$T/udhcpc.script" <<EOS
#!/bin/sh
echo "\$1 ip=\${ip:-} serverid=\${serverid:-}" >>"$T/udhcpc.events"
EOS
chmod +x "$T/udhcpc.script"
start_bg udhcpc ip netns exec "$CLIENT_NS" busybox udhcpc -i eth0 -f \
	-s "$T/udhcpc.script" -t 5 -T 2
UDHCPC=$LAST_PID
for _ in $(seq 100); do
	grep -q '^bound' "$T/udhcpc.events" 2>/dev/null && break
	sleep 0.1
done
grep -q "^bound ip=192.168.50.1[0-9][0-9] serverid=$HOST" "$T/udhcpc.events" ||
	fail "no lease from dnsmasq: $(cat "$T/udhcpc.events" "$T/udhcpc.log" 2>&1)"
kill -USR1 "$(pgrep -P "$UDHCPC" busybox || echo "$UDHCPC")"
for _ in $(seq 100); do
	grep -q '^renew' "$T/udhcpc.events" && break
	sleep 0.1
done
grep -q "^renew ip=192.168.50.1[0-9][0-9] serverid=$HOST" "$T/udhcpc.events" ||
	fail "the lease was not renewed: $(cat "$T/udhcpc.events" "$T/udhcpc.log")"
grep -q 'DHCPREQUEST(eth0) 192.168.50.1[0-9][0-9]' "$T/dnsmasq.log" ||
	fail "dnsmasq saw no renewal: $(cat "$T/dnsmasq.log")"
if grep -E ': answered' "$T/dhcpproxyd.log" | grep -v abcd1234; then
	fail "dhcpproxyd answered a plain client"
fi
kill "$UDHCPC"; wait "$UDHCPC" 2>/dev/null || true

# A relay's request, sent to this host's address, reaches dnsmasq alone.
RELAY_IP=192.168.50.200
ip -n "$CLIENT_NS" addr flush dev eth0
ip -n "$CLIENT_NS" addr add "$RELAY_IP/24" dev eth0
answered=$(grep -c ': answered' "$T/dhcpproxyd.log")
dp_client -m pi -s 0xabcd1234 -M dc:a6:32:01:36:c3 -g "$RELAY_IP" -L 67 \
	-d "$HOST" >"$T/relay.out"
cat "$T/relay.out"
grep -q "DHCPDISCOVER(eth0) .*dc:a6:32:01:36:c3" "$T/dnsmasq.log" ||
	fail "dnsmasq did not get the relayed request: $(cat "$T/dnsmasq.log")"
[ "$(grep -c ': answered' "$T/dhcpproxyd.log")" = "$answered" ] ||
	fail "dhcpproxyd answered the relayed request: $(cat "$T/dhcpproxyd.log")"
ip -n "$CLIENT_NS" addr flush dev eth0
stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"

# --- dhcpproxyd first, then dnsmasq: it may still bind ------------------------
mv "$T/dhcpproxyd.log" "$T/first.old"
proxy_on
wait_port udp 67 "$SERVER_NS"
mv "$T/dnsmasq.log" "$T/dnsmasq-1.old"
dnsmasq_on --bind-interfaces --interface=eth0
sleep 0.5
assert_alive "$DNSMASQ_PID"
! grep -q 'port 67 is shared' "$T/dhcpproxyd.log" ||
	fail "dhcpproxyd said the port was shared when it was alone"
dp_client -m pi -M dc:a6:32:01:36:c2 -s 0xabcd1234 >"$T/pi2.out"
both_offers "$T/pi2.out"
stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"
echo ok
