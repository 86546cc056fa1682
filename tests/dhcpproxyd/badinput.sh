#!/bin/bash
# Bad input over the wire: each malformed packet is dropped with a debug
# line naming why, never answered and never a crash; odd but well-formed
# ones (255-byte options, options split in two) get a proper proxy reply
# or none; a flood of DISCOVERs from one MAC gets a few replies a second.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/net.inc"

dp_net
mkdir "$T/boot/abcd1234"
dp_start -a

declare -A why=(
	[short]="packet too short"
	[op]="bad op"
	[htype]="hardware type is not Ethernet"
	[hlen]="hardware address length is not 6"
	[cookie]="no DHCP magic cookie"
	[overrun]="option runs past the end of its field"
	[overload]="option runs past the end of its field"
	[noend]="options not ended by option 255"
	[dup53]="bad message type option \\(53\\)"
)
for kind in short op htype hlen cookie overrun overload noend dup53; do
	dp_client -B "$kind" -w 0.5 >"$T/$kind.out"
	[ -z "$(replies_from "$T/$kind.out" "$BOOT_IP")" ] ||
		fail "-B $kind was answered: $(cat "$T/$kind.out")"
	assert_log "$T/dhcpproxyd.log" "dropped, ${why[$kind]}\$"
	assert_alive "$DP_PID"
done

# A 255-byte option 43 from the client: a normal proxy offer.
dp_client -B long43 -M 02:00:00:00:43:43 >"$T/long43.out"
assert_pi_offer "$T/long43.out"
# A 255-byte option 97 is no Pi serial: answered (-a), not echoed.
dp_client -B long97 -M 02:00:00:00:97:97 >"$T/long97.out"
assert_pi_offer "$T/long97.out"
replies_from "$T/long97.out" "$BOOT_IP" | has " opt97=" &&
	fail "a 255-byte option 97 was echoed"
# Option 97 in two pieces is joined (RFC 3396): the Pi is recognised.
dp_client -B dup97 -s abcd1234 -M 02:00:00:00:97:98 >"$T/dup97.out"
assert_pi_offer "$T/dup97.out"
replies_from "$T/dup97.out" "$BOOT_IP" |
	grep -q " opt97=00525069341131c000000097983412cdab " ||
	fail "joined option 97 not echoed: $(cat "$T/dup97.out")"
assert_log "$T/dhcpproxyd.log" "abcd1234 02:00:00:00:97:98: answered"

# A flood from one MAC: 40 DISCOVERs at once get a burst of a few.
dp_client -n 40 -M 02:00:00:00:f1:00 -w 2 >"$T/flood.out"
assert_proxy_replies "$T/flood.out"
n=$(replies_from "$T/flood.out" "$BOOT_IP" | wc -l)
[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "the flood got $n replies, not 1 to 5"
assert_log "$T/dhcpproxyd.log" "02:00:00:00:f1:00: rate limited"
# Rate-limited lines are logged once, then at debug as "(again)".
n=$(grep -c "02:00:00:00:f1:00: rate limited$" "$T/dhcpproxyd.log" || true)
[ "$n" = 1 ] || fail "rate limit logged $n times without (again)"
# A flood of made-up MACs, each new to the daemon (answered here, with
# -a): a few log lines and a count, not one per MAC.
ip netns exec "$CLIENT_NS" python3 - <<'PY'
import os, random, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 68))
for i in range(300):
    mac = bytes([2, 0x66]) + os.urandom(4)
    p = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0,
                    random.getrandbits(32), 0, 0x8000, b"\0" * 4, b"\0" * 4,
                    b"\0" * 4, b"\0" * 4, mac + b"\0" * 10, b"", b"")
    p += b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x3c\x09PXEClient" + b"\xff"
    s.sendto(p, ("255.255.255.255", 67))
PY
sleep 1
# (-v shows the rest as debug lines marked "held back".)
n=$(grep '02:66:[0-9a-f:]*: answered' "$T/dhcpproxyd.log" | grep -vc 'held back)$' || true)
[ "$n" -le 14 ] || fail "a flood of 300 made-up MACs got $n log lines"
[ "$n" -ge 1 ] || fail "the flood of made-up MACs was not logged at all"
# Once the limit lets a line through again, it counts what it held back.
sleep 2.1
dp_client -m pxe -A 7 -M 02:66:00:00:00:01 -w 1 >/dev/null
assert_log "$T/dhcpproxyd.log" '02:66:00:00:00:01: answered.* \([0-9]+ similar lines held back\)$'
assert_alive "$DP_PID"

# Another client is not held back by the flood.
dp_client -m pi -s abcd1234 >"$T/after.out"
assert_pi_offer "$T/after.out"

assert_alive "$DP_PID"
stop_pid "$DP_PID"
echo ok
