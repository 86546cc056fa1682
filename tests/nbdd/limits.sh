#!/bin/bash
# nbdd's limits: -m, the handshake timeout (stalled and oldstyle clients),
# a client stalling or vanishing mid-request is dropped without touching
# the image, keepalive on every connection, a shared base (-u), and
# SIGTERM with clients connected.
. "$(dirname "$0")/../lib/lib.sh"
need ss
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

mkdir "$T/root"
truncate -s 8M "$T/root/pi.img"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -m 3 -T 2 -v
pid=$LAST_PID
wait_port tcp "$port"

# -m 3: three held connections, the fourth is turned away.
start_bg hold $RAW "$port" hold pi 3 "$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/hold.log" && break; sleep 0.1; done
grep -q holding "$T/hold.log" || fail "could not open 3 connections"
# Every connection has keepalive on (dead Pis release their image).
# ss shows one timer per socket: while a reply still waits for its ACK
# it shows the retransmit timer, so look again until the queues drain.
for _ in $(seq 30); do
	ss -tnoH state established "sport = :$port" >"$T/ss"
	[ "$(grep -c 'keepalive' "$T/ss")" = 3 ] && break
	sleep 0.1
done
[ "$(grep -c 'keepalive' "$T/ss")" = 3 ] || fail "keepalive not on: $(cat "$T/ss")"
$RAW "$port" expect-refused || fail "-m 3 let a fourth connection in"
assert_log "$T/nbdd.log" 'refused: already 3 connections'
touch "$T/release"
wait "$holder" || fail "holder"
sleep 0.3

# -c 2: one host cannot take every slot. Its third connection is turned
# away while another host still gets in, and it may connect again once
# one of its own is gone.
truncate -s 1M "$T/root/other.img"
port2=$(free_port tcp)
start_bg nbdd-c "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port2" -m 10 -c 2 -v
pid2=$LAST_PID
wait_port tcp "$port2"
start_bg hold-c $RAW "$port2" hold pi 2 "$T/release-c"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/hold-c.log" && break; sleep 0.1; done
grep -q holding "$T/hold-c.log" || fail "could not open 2 connections"
$RAW "$port2" expect-refused 127.0.0.1 || fail "-c 2 let a third connection from one host in"
assert_log "$T/nbdd-c.log" '127\.0\.0\.1:[0-9]+: refused: already 2 connections from this host \(-c 2\)'
$RAW "$port2" go-from other 127.0.0.2 ok >/dev/null || fail "-c 2 turned away another host"
touch "$T/release-c"
wait "$holder" || fail "holder -c"
sleep 0.3
$RAW "$port2" go-from pi 127.0.0.1 ok >/dev/null || fail "-c 2: the host could not come back"
stop_pid "$pid2"

# Handshake timeout: a client that stops mid-option, and one that never
# sends its flags (as an oldstyle client would), are dropped after -T.
$RAW "$port" stall-handshake 2 || fail "stalled handshake"
$RAW "$port" oldstyle 2 || fail "silent client"
assert_log "$T/nbdd.log" 'an oldstyle client\? nbdd speaks fixed newstyle only'

# Mid-request: half a WRITE, then silence or a close. Nothing written.
$RAW "$port" stall-write pi 2 || fail "stalled write"
assert_log "$T/nbdd.log" 'stalled in the middle of a request'
$RAW "$port" cut-write pi || fail "cut write"
cmp -s "$T/root/pi.img" <(head -c 8388608 /dev/zero) || fail "a partial WRITE touched the image"
flock -n -x "$T/root/pi.img" true || fail "dropped clients left the image claimed"

# SIGTERM with a client connected: a clean exit (status 0).
start_bg hold2 $RAW "$port" hold pi 1 "$T/never"
for _ in $(seq 50); do grep -q holding "$T/hold2.log" && break; sleep 0.1; done
stop_pid "$pid"

# A shared base: an image with no write bit (ownership.sh has those
# whose mode says writable). With the overlays' default place, the root,
# not writable by the daemon's user,
# nbdd still serves the images it may write, warns at startup, and
# refuses the base with the reason; with -o naming a directory it may
# write, the base is a writable disk to the host, the image untouched.
if id nobody >/dev/null 2>&1; then
	chmod 755 "$T" "$T/root"
	chmod 444 "$T/root/pi.img"
	sum=$(sha256sum <"$T/root/pi.img")
	port=$(free_port tcp)
	start_bg nbdd-ro "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -u nobody
	pid=$LAST_PID
	wait_port tcp "$port"
	assert_log "$T/nbdd-ro.log" "overlay directory $T/root: cannot create overlay files there: Permission denied: shared bases .* are refused until -o names"
	$RAW "$port" go-from pi 127.0.0.1 "unavailable:a shared base, but overlay directory $T/root" ||
	    fail "a base without an overlay directory"
	stop_pid "$pid"
	mkdir "$T/ovl"
	chown nobody "$T/ovl"
	start_bg nbdd-base "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 127.0.0.1 -p "$port" -u nobody
	pid=$LAST_PID
	wait_port tcp "$port"
	$RAW "$port" shared-base pi || fail "shared base (-u nobody)"
	[ "$(stat -c %U "$T/root/pi.img")" = root ] || fail "image owner changed"
	[ "$(sha256sum <"$T/root/pi.img")" = "$sum" ] || fail "the base was written"
	stop_pid "$pid"
else
	note "no user nobody: shared base under -u not tested"
fi
