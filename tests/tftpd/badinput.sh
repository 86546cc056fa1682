#!/bin/bash
# Malformed and hostile requests each get the RFC's error (or are
# dropped), and the server keeps serving.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout
start_tftpd

expect() {	# expect "WANT-PREFIX" tftp-raw.py-ARGS...
	local want=$1 got; shift
	got=$($RAW "$PORT" "$@")
	case $got in
	"$want"*) ;;
	*) fail "$*: expected '$want', got '$got'" ;;
	esac
}

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
F=$(hex "abcd1234/config.txt")
OCTET=$(hex octet)

# Truncated packets and missing terminators: "illegal operation".
expect "ERROR 4" send 00
expect "ERROR 4" send 0001
expect "ERROR 4" send "0001$F"
expect "ERROR 4" send "0001${F}00"
expect "ERROR 4" send "0001${F}00${OCTET}"
expect "ERROR 4" send "0001${F}00${OCTET}00$(hex blksize)"
expect "ERROR 4" send "0001${F}00${OCTET}00$(hex blksize)00$(hex 1468)"
expect "ERROR 4" send "000100${OCTET}00"
# Unknown opcodes get an error; stray DATA/ACK/ERROR are dropped.
expect "ERROR 4" send "0000${F}00${OCTET}00"
expect "ERROR 4" send "0007${F}00${OCTET}00"
expect "ERROR 4" send "ffff"
expect "TIMEOUT" send 00040001
expect "TIMEOUT" send "00030001abcd"
expect "TIMEOUT" send "00050000${OCTET}00"
# Unknown modes.
expect "ERROR 4" send "0001${F}00$(hex mail)00"
expect "ERROR 4" send "0001${F}00$(hex binary)00"
# Options with bad values: "option negotiation failed".
expect "ERROR 8" rrq abcd1234/config.txt blksize 0
expect "ERROR 8" rrq abcd1234/config.txt blksize 7
expect "ERROR 8" rrq abcd1234/config.txt tsize abc
expect "ERROR 8" rrq abcd1234/config.txt windowsize 0
expect "ERROR 8" rrq abcd1234/config.txt timeout 0
expect "ERROR 8" rrq abcd1234/config.txt timeout 300
expect "ERROR 8" rrq abcd1234/config.txt blksize 512 blksize 1468
expect "ERROR 8" rrq abcd1234/config.txt tsize 0 TSIZE 0
# blksize beyond the RFC's range is negotiated down (RFC 2348).
expect "OACK blksize 65464" rrq abcd1234/config.txt blksize 70000
expect "OACK blksize 1468 tsize 27" rrq abcd1234/config.txt tsize 0 blksize 1468
expect "OACK windowsize 16" rrq abcd1234/config.txt windowsize 16
expect "OACK timeout 3" rrq abcd1234/config.txt timeout 3
# Unknown options are ignored: plain DATA.
expect "DATA 1 27" rrq abcd1234/config.txt frobnicate 1
# File names of 1000 bytes, and of odd bytes.
expect "ERROR 4" rrq "$(printf 'a%.0s' $(seq 1000))"
expect "ERROR 1" rrq "abcd1234/$(printf 'b%.0s' $(seq 400))"
expect "ERROR 1" send "0001$(hex abcd1234/)0a00${OCTET}00"
# Write requests: tftpd is read-only.
expect "ERROR 2" wrq abcd1234/new.txt
expect "ERROR 2" wrq abcd1234/config.txt
[ ! -e "$T/mnt/pi/new.txt" ] || fail "a write request created a file"
# Not found is answered, quietly (debug level only).
expect "ERROR 1" rrq abcd1234/nothere.txt
if grep -E "warning|error:" "$T/tftpd.log" | has nothere; then
	fail "not found was logged above debug level"
fi

# Longer than anything a client sends to a transfer's port: an ACK with
# 2996 trailing bytes still acknowledges its block; an ERROR with a
# 2995-byte message still ends the transfer, its message cut short.
out=$($RAW "$PORT" oversize abcd1234/start4.elf)
grep -q '^first DATA 1 512$' <<<"$out" || fail "oversize: no first block: $out"
grep -q '^after big ACK DATA 2 512$' <<<"$out" || fail "oversize: big ACK not taken: $out"
for _ in $(seq 50); do
	grep -q 'start4.elf: aborted by the client after 512 bytes' "$T/tftpd.log" && break
	sleep 0.1
done
assert_log "$T/tftpd.log" 'start4.elf: aborted by the client after 512 bytes, .*: MMMMMMMM'

# After all that, the server still serves.
assert_alive "$TFTPD_PID"
$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/s" >/dev/null
assert_same_file "$T/out/s" "$T/mnt/pi/start4.elf"
stop_pid "$TFTPD_PID"
