#!/bin/bash
# A Raspberry Pi beside the LAN's own DHCP server: its DISCOVER (new and
# old option 97 forms, and known by MAC only) gets dnsmasq's offer with an
# address and dhcpproxyd's proxy offer with everything the Pi needs; the
# decision is logged once per client.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
dp_dnsmasq
mkdir "$T/boot/abcd1234" "$T/boot/0badcafe"
touch "$T/boot/pi.img"
ln -s pi.img "$T/boot/dc-a6-32-01-36-c5"
dp_start

# New form: fourcc, revision, MAC low bytes, serial.
dp_client -m pi -s abcd1234 >"$T/new.out"
assert_lan_offer "$T/new.out"
assert_pi_offer "$T/new.out"
# Option 97 echoed exactly: 00 "RPi4" revision c03111 MAC 32:01:36:c2
# serial abcd1234, little-endian fields.
replies_from "$T/new.out" "$BOOT_IP" |
	grep -q " opt97=00525069341131c000320136c23412cdab " ||
	fail "option 97 not echoed: $(cat "$T/new.out")"
assert_log "$T/dhcpproxyd.log" \
	"abcd1234 dc:a6:32:01:36:c2: answered, tftp $BOOT_IP\$"

# Old form: the serial four times.
dp_client -m pi-old -s 0badcafe -M dc:a6:32:01:36:c3 >"$T/old.out"
assert_lan_offer "$T/old.out"
assert_pi_offer "$T/old.out"
replies_from "$T/old.out" "$BOOT_IP" |
	grep -q " opt97=00fecaad0bfecaad0bfecaad0bfecaad0b " ||
	fail "old option 97 not echoed: $(cat "$T/old.out")"
assert_log "$T/dhcpproxyd.log" \
	"0badcafe dc:a6:32:01:36:c3: answered, tftp $BOOT_IP"

# Known by its MAC entry only (a symlink to an image).
dp_client -m pi -s 99999999 -M dc:a6:32:01:36:c5 >"$T/mac.out"
assert_pi_offer "$T/mac.out"

# The Pi retries: still answered, but logged at INFO only once.
dp_client -m pi -s abcd1234 >"$T/again.out"
assert_pi_offer "$T/again.out"
n=$(grep -c "^dhcpproxyd: abcd1234 dc:a6:32:01:36:c2: answered, tftp $BOOT_IP$" \
	"$T/dhcpproxyd.log" || true)
[ "$n" = 1 ] || fail "answered line logged $n times at INFO, not once"

assert_alive "$DP_PID"
stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"
echo ok
