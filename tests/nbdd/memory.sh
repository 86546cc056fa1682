#!/bin/bash
# What clients can make nbdd hold (nbdd(8), MEMORY): 36 connections from
# four hosts each send a 32 MiB WRITE at once. A payload held whole takes
# room in the budget first (an eighth of the memory, 64 to 256 MiB), so
# nbdd's peak RSS stays within what the man page states: its own, 768 KiB
# a connection, and the budget. Every WRITE is answered and its bytes
# written, and another host's small requests are answered all along.
. "$(dirname "$0")/../lib/lib.sh"
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
HOSTS=127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 PER_HOST=9 MIB=32
CONNS=$((4 * PER_HOST + 1))

mkdir "$T/root"
for h in 3 4 5 6; do truncate -s 64M "$T/root/w$h.img"; done
truncate -s 1M "$T/root/small.img"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -m 40 -c 10
pid=$LAST_PID
wait_port tcp "$port"
idle=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")

start_bg small $RAW "$port" small-requests small 127.0.0.9 "$T/done" 60
small=$LAST_PID
start_bg flood $RAW "$port" write-flood "$HOSTS" "$PER_HOST" "$MIB" "$T/done"
flood=$LAST_PID
wait "$flood" || fail "the flood's WRITEs: $(tail -3 "$T/flood.log")"
wait "$small" || fail "small requests from another host went unanswered: $(tail -3 "$T/small.log")"
note "another host's small requests answered during the flood: $(cat "$T/small.log")"
assert_alive "$pid"

# The budget as nbdd(8) states it, from this machine's memory.
ram_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
budget=$((ram_kib / 8 / 1024))
[ "$budget" -ge 64 ] || budget=64
[ "$budget" -le 256 ] || budget=256
peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
limit=$((idle + CONNS * 768 + budget * 1024))
line="RSS $idle KiB idle, $peak KiB at the peak of $((CONNS - 1)) WRITEs of $MIB MiB; stated: at most $limit KiB ($CONNS connections, a budget of $budget MiB)"
if ldd "$BIN/nbdd" 2>/dev/null | has libasan; then
	note "(sanitizer build, not checked) $line"
else
	note "$line"
	[ "$peak" -le "$limit" ] || fail "nbdd held more than nbdd(8) states: $line"
fi
assert_log "$T/nbdd.log" "long WRITEs are held whole before they are written: at most $budget MiB of them at once, $((budget / 2)) MiB from one host"

# Each image holds its host's bytes: every waiting WRITE was written whole.
for h in 3 4 5 6; do
	cmp -s <(head -c $((MIB << 20)) "$T/root/w$h.img") \
	    <(head -c $((MIB << 20)) /dev/zero | tr '\0' "\\$(printf %03o "$h")") ||
		fail "w$h.img does not hold its host's WRITE"
done
stop_pid "$pid"
