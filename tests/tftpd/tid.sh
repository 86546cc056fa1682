#!/bin/bash
# A packet from another port to a running transfer's port is answered
# "unknown transfer ID" and the real transfer goes on to the end.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout
start_tftpd
out=$($RAW "$PORT" tid abcd1234/start4.elf)
echo "$out"
grep -q '^first DATA 1 512$' <<<"$out" || fail "no first block: $out"
grep -q '^stranger ERROR 5 ' <<<"$out" || fail "stranger not told off: $out"
grep -q '^done 3000000$' <<<"$out" || fail "transfer did not complete: $out"
assert_log "$T/tftpd.log" "abcd1234/start4.elf: 3000000 bytes in"
stop_pid "$TFTPD_PID"
