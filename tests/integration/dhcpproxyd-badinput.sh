#!/bin/bash
# Bad input over the wire: each malformed packet is dropped with a debug
# line naming why, never answered and never a crash; odd but well-formed
# ones (255-byte options, options split in two) get a proper proxy reply
# or none; a flood of DISCOVERs from one MAC gets a few replies a second.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dhcpproxyd-net.inc"

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
replies_from "$T/long97.out" "$BOOT_IP" | grep -q " opt97=" &&
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
# Another client is not held back by the flood.
dp_client -m pi -s abcd1234 >"$T/after.out"
assert_pi_offer "$T/after.out"

assert_alive "$DP_PID"
stop_pid "$DP_PID"
echo ok
