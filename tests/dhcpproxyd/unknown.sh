#!/bin/bash
# A Pi with no boot entry keeps booting from its SD card: dhcpproxyd stays
# silent (dnsmasq still gives it an address) and says why; with -a it is
# answered; a "default" entry answers everyone.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
dp_dnsmasq
mkdir "$T/boot/abcd1234"
dp_start

dp_client -m pi -s 12345678 -M dc:a6:32:aa:bb:cc >"$T/unknown.out"
assert_lan_offer "$T/unknown.out"
[ -z "$(replies_from "$T/unknown.out" "$BOOT_IP")" ] ||
	fail "an unknown Pi got a proxy offer: $(cat "$T/unknown.out")"
assert_log "$T/dhcpproxyd.log" \
	"^dhcpproxyd: 12345678 dc:a6:32:aa:bb:cc: ignored, no boot entry for 12345678 or dc-a6-32-aa-bb-cc\$"
# Old form too.
dp_client -m pi-old -s 0000beef -M dc:a6:32:aa:bb:cd >"$T/unknown-old.out"
[ -z "$(replies_from "$T/unknown-old.out" "$BOOT_IP")" ] ||
	fail "an unknown Pi (old option 97) got a proxy offer"
assert_log "$T/dhcpproxyd.log" "0000beef dc:a6:32:aa:bb:cd: ignored, no boot entry for 0000beef or dc-a6-32-aa-bb-cd"

dp_restart -a
dp_client -m pi -s 12345678 -M dc:a6:32:aa:bb:cc >"$T/all.out"
assert_lan_offer "$T/all.out"
assert_pi_offer "$T/all.out"
assert_log "$T/dhcpproxyd.log" "12345678 dc:a6:32:aa:bb:cc: answered, tftp $BOOT_IP"

dp_restart
mkdir "$T/boot/default"
dp_client -m pi -s 12345678 -M dc:a6:32:aa:bb:cc >"$T/default.out"
assert_pi_offer "$T/default.out"

# -I: only the interfaces named.
dp_restart -a -I nosuch0
dp_client -m pi -s 12345678 >"$T/iface.out"
[ -z "$(replies_from "$T/iface.out" "$BOOT_IP")" ] ||
	fail "answered on an interface not named by -I"
dp_restart -a -I lo -I eth0
dp_client -m pi -s 12345678 >"$T/iface2.out"
assert_pi_offer "$T/iface2.out"

# -u: privileges dropped after binding; the boot directory still works.
dp_restart -u nobody
dp_client -m pi -s 0 -M dc:a6:32:00:00:01 >"$T/priv.out"
assert_pi_offer "$T/priv.out"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$DP_PID/status")
[ "$uid" = "$(id -u nobody)" ] || fail "running as uid $uid, not nobody"

stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"
echo ok
