#!/bin/bash
# -m N: past N running transfers a request gets a clear error, and once
# transfers end new ones are served again. Hundreds at once work.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout
start_tftpd -m 3
out=$($RAW "$PORT" busy abcd1234/start4.elf 3)
echo "$out"
[ "$(grep -c '^held DATA 1 512$' <<<"$out")" = 3 ] || fail "3 transfers not held: $out"
grep -q '^more ERROR 0 .*too many transfers' <<<"$out" || fail "no busy error: $out"
assert_log "$T/tftpd.log" "refused: 3 transfers running"
# The held transfers are given up (6 s without an answer), then there is
# room.
given_up='failed after 0 bytes, [0-9]+ retransmissions?: no answer for 6 s'
for _ in $(seq 150); do
	[ "$(grep -cE "$given_up" "$T/tftpd.log")" = 3 ] && break
	sleep 0.1
done
assert_log "$T/tftpd.log" "$given_up"
$PITFTP -p "$PORT" get abcd1234/config.txt "$T/out/c" >/dev/null
assert_same_file "$T/out/c" "$T/mnt/pi/config.txt"
stop_pid "$TFTPD_PID"

# 300 concurrent clients from one process against the default maximum.
start_tftpd
head -c 300000 /dev/urandom > "$T/mnt/pi/initrd.img"
$PITFTP -p "$PORT" -b 1468 -n 300 bench abcd1234/initrd.img | tee "$T/bench.out"
grep -q 'clients 300 failed 0 bytes 90000000 ' "$T/bench.out" || fail "not all 300 clients got the file"
[ "$(grep -c 'initrd.img: 300000 bytes in' "$T/tftpd.log")" = 300 ] || fail "not 300 finished transfers logged"
stop_pid "$TFTPD_PID"
