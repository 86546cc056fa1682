#!/bin/bash
# Enrolling the Pis that asked: dhcpproxyd -U keeps a bounded record of
# the machines that asked for a boot and have no entry; netboot-prep -L
# lists them; netboot-prep -e NAME -P SERIAL enrols one and -e NAME -a all
# that are left; dhcpproxyd then answers them. The record survives a
# restart of dhcpproxyd, never grows past its fixed size, and a flood of
# made-up MACs cannot make it grow either.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../dhcpproxyd/net.inc"

PREP=$BIN/netboot-prep
[ -x "$PREP" ] || fail "$PREP not built"
REC=$T/unknown
dp_net
touch "$T/lab.img"
dp_start -U "$REC"

# Three Pis and a PXE machine ask; none has an entry.
dp_client -m pi -s abcd1234 -M dc:a6:32:01:36:c2 >"$T/a.out"
dp_client -m pi -s 1234beef -M dc:a6:32:01:36:c3 >"$T/b.out"
dp_client -m pi-old -s 0badcafe -M dc:a6:32:01:36:c4 >"$T/c.out"
dp_client -m pxe -M 52:54:00:12:34:56 >"$T/d.out"
[ -z "$(replies_from "$T/a.out" "$BOOT_IP")" ] || fail "answered a Pi without an entry"
[ "$(stat -c %s "$REC")" = $((4 * 51)) ] || fail "record is $(stat -c %s "$REC") bytes, not 4 lines"

"$PREP" -r "$T" -U "$REC" -L >"$T/list" 2>&1 || fail "-L: $(cat "$T/list")"
cat "$T/list"
# (A PXE client's UUID in option 97 reads as a serial too.)
for w in "abcd1234 dc-a6-32-01-36-c2" "1234beef dc-a6-32-01-36-c3" \
    "0badcafe dc-a6-32-01-36-c4" "[0-9a-f-]* *52-54-00-12-34-56"; do
	grep -q "^$w  last asked " "$T/list" || fail "-L does not list $w"
done

# One by its serial: it is answered from now on and leaves the list.
"$PREP" -r "$T" -e lab -P 10000000ABCD1234 >"$T/e1" 2>&1 || fail "-e: $(cat "$T/e1")"
[ "$(readlink "$T/boot/abcd1234")" = ../lab.img ] || fail "no entry abcd1234"
dp_client -m pi -s abcd1234 -M dc:a6:32:01:36:c2 >"$T/a2.out"
assert_pi_offer "$T/a2.out"
"$PREP" -r "$T" -U "$REC" -L >"$T/list2" 2>&1
grep -q abcd1234 "$T/list2" && fail "an enrolled Pi is still listed"

# The record survives a restart; the rest enrolled with one command.
dp_restart -U "$REC"
"$PREP" -r "$T" -U "$REC" -L >"$T/list3" 2>&1
grep -q 1234beef "$T/list3" || fail "the record was lost on restart: $(cat "$T/list3")"
"$PREP" -r "$T" -U "$REC" -e lab -a >"$T/e2" 2>&1 || fail "-e -a: $(cat "$T/e2")"
pxe=$(sed -n 's/^\([0-9a-f]*\) *52-54-00-12-34-56 .*/\1/p' "$T/list")
for e in 1234beef 0badcafe "${pxe:-52-54-00-12-34-56}"; do
	[ "$(readlink "$T/boot/$e")" = ../lab.img ] || fail "-a did not enrol $e: $(cat "$T/e2")"
done
"$PREP" -r "$T" -U "$REC" -L >"$T/list4" 2>&1
[ ! -s "$T/list4" ] || grep -q 'no machine without an entry' "$T/list4" ||
	fail "still listed: $(cat "$T/list4")"
dp_client -m pi-old -s 0badcafe -M dc:a6:32:01:36:c4 >"$T/c2.out"
assert_pi_offer "$T/c2.out"

# A flood of made-up MACs: the record keeps its size.
for i in $(seq 0 299); do
	printf -v mac '02:00:00:00:%02x:%02x' $((i >> 8)) $((i & 255))
	ip netns exec "$CLIENT_NS" "$PIDHCP" -i eth0 -w 0 -m pxe -M "$mac" >/dev/null 2>&1 || true
done
[ "$(stat -c %s "$REC")" -le $((256 * 51)) ] || fail "record grew to $(stat -c %s "$REC") bytes"
"$PREP" -r "$T" -U "$REC" -L >"$T/list5" 2>&1
n=$(grep -c ' 02-00-00-00-' "$T/list5" || true)
[ "$n" -le 256 ] && [ "$n" -gt 200 ] || fail "$n machines listed after the flood"

# Bad usage is refused.
"$PREP" -r "$T" -e lab -P abcd123g >"$T/bad" 2>&1 && fail "-P abcd123g accepted"
grep -q 'not a serial' "$T/bad" || fail "bad serial: $(cat "$T/bad")"
"$PREP" -r "$T" -e nosuch -P abcd1234 >"$T/bad" 2>&1 && fail "enrolled into a missing image"
grep -q 'nosuch.img: No such file' "$T/bad" || fail "missing image: $(cat "$T/bad")"
"$PREP" -r "$T" -U "$T/none" -L >"$T/bad" 2>&1 && fail "-L without a record succeeded"
grep -q 'dhcpproxyd keeps this record when run with -U' "$T/bad" || fail "no record: $(cat "$T/bad")"

assert_alive "$DP_PID"
stop_pid "$DP_PID"
echo ok
