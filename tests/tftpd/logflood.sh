#!/bin/bash
# Any host may send requests at will, so the request port's log lines are
# rate-limited: a flood of refused requests is answered in full (the
# protocol's error each time), the log gets a burst of lines and then a
# count of those held back, and the server keeps serving. A file name
# cannot forge a log line.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout
start_tftpd
LOG=$T/tftpd.log
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
OCTET=$(hex octet)

# A newline in a name: one line, the newline shown as '?'.
got=$($RAW "$PORT" send "0001$(hex abcd1234/x)0a$(hex 'forged: root login')00${OCTET}00")
[ "$got" = "ERROR 1 File not found" ] || fail "newline name: $got"
got=$($RAW "$PORT" send "0002$(hex x)0a$(hex 'forged: root login')00${OCTET}00")
case $got in "ERROR 2 "*) ;; *) fail "newline WRQ: $got" ;; esac
sleep 0.2
if grep -q '^forged' "$LOG"; then cat "$LOG"; fail "a file name forged a log line"; fi
assert_log "$LOG" "abcd1234/x\?forged: root login: not found"
assert_log "$LOG" "write request for x\?forged: root login refused: read-only"

# A flood of write requests: every one refused, far fewer lines.
N=1000
t0=$(date +%s)
out=$($RAW "$PORT" flood $N "0002$(hex abcd1234/new.txt)00${OCTET}00")
secs=$(( $(date +%s) - t0 + 1 ))
[ "$out" = "$N ERROR 2 Access violation: read-only server" ] ||
	fail "flood answers: $out"
sleep 0.2
n=$(grep -c 'write request for abcd1234/new.txt refused' "$LOG")
# The burst (less the line above), then one a second at most.
max=$((200 + secs))
[ "$n" -ge 150 ] && [ "$n" -le "$max" ] ||
	fail "$n lines for $N refusals in ${secs}s (expected 150-$max)"
note "$N write requests refused, $n lines logged"
# A second on, the next refusal says how many were held back.
sleep 1.1
got=$($RAW "$PORT" wrq abcd1234/later.txt)
case $got in "ERROR 2 "*) ;; *) fail "later WRQ: $got" ;; esac
sleep 0.2
line=$(grep 'write request for abcd1234/later.txt' "$LOG") ||
	fail "the refusal after the flood was not logged"
# Every refusal is a line or counted as held back: by the next line
# logged, in the flood once a second if it lasted that long, or by this
# one.
held=$(sed -nE 's/.*\(([0-9]+) similar lines held back\)$/\1/p' <<<"$line")
counted=$(grep 'write request for abcd1234/new.txt refused' "$LOG" |
	sed -nE 's/.*\(([0-9]+) similar lines held back\)$/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
[ -n "$held" ] && [ $((held + counted + n)) = "$N" ] ||
	fail "held-back count: '$line' after $n of $N lines ($counted counted in them)"
note "then: ${line#*: }"

# Debug lines (-v) are not held back, and the server still serves.
$RAW "$PORT" rrq abcd1234/nothere.txt >/dev/null
sleep 0.2
assert_log "$LOG" "abcd1234/nothere.txt: not found$"
$PITFTP -p "$PORT" get abcd1234/start4.elf "$T/out/s" >/dev/null
assert_same_file "$T/out/s" "$T/mnt/pi/start4.elf"
assert_alive "$TFTPD_PID"
stop_pid "$TFTPD_PID"
