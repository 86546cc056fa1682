#!/bin/bash
# A machine that is not netbooting (busybox udhcpc, and our client in
# plain mode) gets its address from dnsmasq and nothing from dhcpproxyd,
# even with -a.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"
need busybox

dp_net
dp_dnsmasq
dp_start -a

cat >"$T/udhcpc.script" <<EOS
#!/bin/sh
# udhcpc calls this with the lease in the environment.
echo "\$1 ip=\${ip:-} serverid=\${serverid:-} siaddr=\${siaddr:-} boot_file=\${boot_file:-}" >>"$T/udhcpc.events"
EOS
chmod +x "$T/udhcpc.script"
timeout 20 ip netns exec "$CLIENT_NS" busybox udhcpc -i eth0 -n -q -f \
	-s "$T/udhcpc.script" -t 3 -T 2 >"$T/udhcpc.log" 2>&1 ||
	fail "udhcpc got no lease: $(cat "$T/udhcpc.log")"
grep -Eq "^bound ip=192\.168\.50\.[0-9]+ serverid=$SERVER_IP " "$T/udhcpc.events" ||
	fail "udhcpc was not bound by dnsmasq: $(cat "$T/udhcpc.events")"
grep -q "siaddr=$BOOT_IP" "$T/udhcpc.events" &&
	fail "udhcpc saw dhcpproxyd's address: $(cat "$T/udhcpc.events")"
# dhcpproxyd saw udhcpc's DISCOVER and REQUEST and let them be.
assert_log "$T/dhcpproxyd.log" ": ignored, not a PXE client"
grep -q ": answered" "$T/dhcpproxyd.log" &&
	fail "dhcpproxyd answered a plain DHCP client: $(cat "$T/dhcpproxyd.log")"

# The same with our client: one offer, from dnsmasq.
dp_client -m plain -M 02:00:00:00:00:77 >"$T/plain.out"
assert_lan_offer "$T/plain.out"
[ -z "$(replies_from "$T/plain.out" "$BOOT_IP")" ] ||
	fail "a plain DHCP client got a reply from dhcpproxyd: $(cat "$T/plain.out")"
grep -q "^DONE replies=1$" "$T/plain.out" || fail "not exactly one reply: $(cat "$T/plain.out")"

stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"
echo ok
