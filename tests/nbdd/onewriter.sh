#!/bin/bash
# nbdd's one-writer rule: a second host (source 127.0.0.2) is refused
# while the first holds the image, with a message naming the holder; more
# connections from the holder share it; the claim is a lock that flock(1)
# and qemu's OFD locks see, and a lock held by another process keeps nbdd
# from writing. Released when the holder goes.
. "$(dirname "$0")/../lib/lib.sh"
need flock qemu-io
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

mkdir "$T/root"
truncate -s 8M "$T/root/pi.img" "$T/root/other.img"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -v
pid=$LAST_PID
wait_port tcp "$port"

# Host 127.0.0.1 takes the image and holds it.
# The holder keeps its connection until $T/release exists.
start_bg holder $RAW "$port" go-from pi 127.0.0.1 "ok:$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/holder.log" && break; sleep 0.1; done
grep -q holding "$T/holder.log" || fail "first host could not take the image"

# Another host is refused, told who holds it.
$RAW "$port" go-from pi 127.0.0.2 "refused:127.0.0.1" || fail "second host not refused"
assert_log "$T/nbdd.log" 'GO refused: image pi is in use by 127.0.0.1'
# Another image is free for it.
$RAW "$port" go-from other 127.0.0.2 ok >/dev/null ||
    fail "second host refused an unclaimed image"
# The holder's host may open more connections (multi-conn).
$RAW "$port" hold pi 3 >/dev/null || fail "same host refused a second connection"

# The claim is visible to other processes.
flock -n -x "$T/root/pi.img" true && fail "flock(1) got the image nbdd holds"
qemu-io -f raw -c 'write 0 512' "$T/root/pi.img" >"$T/qio" 2>&1 &&
    fail "qemu-io wrote the image nbdd holds"
grep -qi 'lock' "$T/qio" || fail "qemu-io failed for another reason: $(cat "$T/qio")"

# The holder goes: the image is free again.
touch "$T/release"
wait "$holder" || fail "holder failed"
for _ in $(seq 50); do grep -q 'releases image pi' "$T/nbdd.log" && break; sleep 0.1; done
flock -n -x "$T/root/pi.img" true || fail "image still locked after the holder left"

# An administrator's flock keeps nbdd from handing the image out.
start_bg admin flock -x "$T/root/pi.img" sh -c "echo locked; while [ ! -e '$T/unlock' ]; do sleep 0.05; done"
admin=$LAST_PID
for _ in $(seq 50); do grep -q locked "$T/admin.log" && break; sleep 0.1; done
$RAW "$port" go-from pi 127.0.0.2 "refused:locked by another process" ||
    fail "GO allowed while another process holds the lock"
touch "$T/unlock"
wait "$admin"
# ... and a second nbdd on the same root cannot write alongside the first.
rm "$T/release"
start_bg holder2 $RAW "$port" go-from pi 127.0.0.1 "ok:$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/holder2.log" && break; sleep 0.1; done
port2=$(free_port tcp)
start_bg nbdd2 "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port2"
pid2=$LAST_PID
wait_port tcp "$port2"
$RAW "$port2" go-from pi 127.0.0.1 "refused:locked by another process" ||
    fail "a second nbdd handed out a claimed image"
touch "$T/release"
wait "$holder"

assert_alive "$pid"
stop_pid "$pid2"
stop_pid "$pid"
