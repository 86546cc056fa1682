#!/bin/bash
# Shared bases under pressure. An overlay in its grace period is never
# discarded to make room for a newcomer: with -m overlays made, a new
# host is refused (logged, rate-limited) and every host that comes back
# finds its bytes. -q holds on a file system that cannot punch holes
# (bindfs, FUSE): aligned WRITE_ZEROES and plain writes alike stop at the
# limit. A host cycling through addresses (127.0.0.x) cannot make nbdd
# write more than the total limit (-Q), whose default is half the space
# free in the overlay directory at start-up.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need bindfs
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "python3-libnbd not installed"
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
MIB=1048576

mkdir "$T/root" "$T/ovl"
truncate -s $((16 * MIB)) "$T/root/lab.img"	# reads as zeroes: "00"
chmod 444 "$T/root/lab.img"

# --- no overlay in its grace period makes room for a newcomer -----------
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 127.0.0.1 -p "$port" \
	-m 3 -g 60 -v
pid=$LAST_PID
wait_port tcp "$port"
# Three Pis write, then their network drops (no DISC): three overlays in
# their grace period, as many as -m allows.
for i in 2 3 4; do
	$RAW "$port" write-from lab "127.0.0.$i" $((i * MIB)) 65536 "$i$i" nodisc >/dev/null ||
		fail "host 127.0.0.$i could not write"
done
for i in 2 3 4; do
	for _ in $(seq 50); do
		grep -q "127\.0\.0\.$i: export lab: last connection gone" "$T/nbdd.log" && break
		sleep 0.1
	done
done
# A newcomer is refused, and nothing is discarded for it; a flood of
# them from many addresses gets a few lines, not one each.
$RAW "$port" go-from lab 127.0.0.5 "unavailable:no room for another overlay: 3 made already" ||
	fail "a newcomer was not refused at -m overlays"
for i in $(seq 20 49); do
	$RAW "$port" go-from lab "127.0.0.$i" "unavailable:no room" >/dev/null ||
		fail "newcomer 127.0.0.$i was not refused"
done
assert_log "$T/nbdd.log" 'warning: 127\.0\.0\.5: export lab: refused: no room for another overlay: 3 made already \(nbdd -m\), 3 of them kept for hosts that may come back'
n=$(grep -c 'warning: .*export lab: refused: no room' "$T/nbdd.log")
[ "$n" -lt 31 ] || fail "$n refusal lines for 31 newcomers: not rate-limited"
assert_log "$T/nbdd.log" 'export lab: refused: no room .* \([0-9]+ similar lines held back\)'
# (-v logs each refusal once more, at debug level only.)
grep -q 'overlay discarded' "$T/nbdd.log" && fail "an overlay was discarded within its grace period"
# Each Pi back after its blip finds what it wrote.
for i in 2 3 4; do
	$RAW "$port" read-from lab "127.0.0.$i" $((i * MIB)) 65536 "$i$i" nodisc ||
		fail "host 127.0.0.$i lost its overlay to a newcomer"
done
assert_alive "$pid"
stop_pid "$pid"

# --- the total limit (-Q): addresses cycled do not multiply it ----------
port=$(free_port tcp)
start_bg nbdd-total "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 127.0.0.1 -p "$port" \
	-q 0 -Q 2M -g 60 -v
pid=$LAST_PID
wait_port tcp "$port"
assert_log "$T/nbdd-total.log" "overlays in $T/ovl, 0 MiB per host \(no limit\), 2 MiB for all hosts together \(-Q\)"
total=0
for i in $(seq 10 17); do
	out=$($RAW "$port" write-from lab "127.0.0.$i" 0 $MIB "$i" nodisc any) ||
		fail "host 127.0.0.$i: $out"
	total=$((total + ${out#written }))
done
[ "$total" -le $((2 * MIB)) ] || fail "$total bytes written by 8 addresses past a 2 MiB total"
[ "$total" -ge $MIB ] || fail "only $total bytes written under a 2 MiB total"
used=$(du -sk "$T/ovl" | cut -f1)
[ "$used" -le $((2 * 1024 + 256)) ] || fail "$used KiB of overlays on disk past a 2 MiB total"
assert_log "$T/nbdd-total.log" 'export lab: the overlays of all hosts together are at their limit of 2048 KiB \(nbdd -Q\)'
assert_alive "$pid"
stop_pid "$pid"

# The default: half the space free in the overlay directory now.
mkdir "$T/small"
mount -t tmpfs -o size=64m tmpfs "$T/small" || skip "cannot mount a tmpfs"
CLEANUPS+=("umount $T/small")
port=$(free_port tcp)
start_bg nbdd-default "$BIN/nbdd" -r "$T/root" -o "$T/small" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
assert_log "$T/nbdd-default.log" "overlays in $T/small, 4096 MiB per host, 32 MiB for all hosts together \(half the space free there now; -Q\)"
stop_pid "$pid"

# --- -q on a file system without hole punching ---------------------------
mkdir "$T/under" "$T/nopunch"
# In the foreground, so that the test ends it by its pid; lazily
# unmounted first, as nbdd may still hold an overlay there on failure.
start_bg bindfs bindfs -f "$T/under" "$T/nopunch"
CLEANUPS+=("umount -l $T/nopunch")
for _ in $(seq 50); do mountpoint -q "$T/nopunch" && break; sleep 0.1; done
mountpoint -q "$T/nopunch" || skip "cannot mount bindfs (no FUSE?): $(cat "$T/bindfs.log")"
truncate -s 1M "$T/nopunch/probe"
fallocate -p -o 0 -l 4096 "$T/nopunch/probe" 2>/dev/null &&
	skip "bindfs punches holes here: not the file system this tests"
rm -f "$T/nopunch/probe"
port=$(free_port tcp)
start_bg nbdd-nopunch "$BIN/nbdd" -r "$T/root" -o "$T/nopunch" -l 127.0.0.1 -p "$port" \
	-q 1M -g 0 -v
pid=$LAST_PID
wait_port tcp "$port"
cat >"$T/zero.py" <<'EOF'
import nbd, os, sys, time
h = nbd.NBD()
h.connect_uri(sys.argv[1])
def enospc(what, fn):
    try:
        fn()
    except nbd.Error as e:
        assert "ENOSPC" in str(e), "%s: %s" % (what, e)
        return
    raise AssertionError(what + ": no ENOSPC past a 1 MiB limit")
# Aligned, holes allowed: on a file system that cannot punch them, zeroes
# that take space.
enospc("WRITE_ZEROES of 8 MiB", lambda: h.zero(8 << 20, 0))
# Written bytes near the limit, where SEEK_HOLE calls everything data.
h.pwrite(b"\x5a" * (512 << 10), 8 << 20)
enospc("WRITE of 2 MiB", lambda: h.pwrite(b"\x5a" * (2 << 20), 10 << 20))
assert h.pread(4096, 8 << 20) == b"\x5a" * 4096
print("holding", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
h.shutdown()
EOF
start_bg zero /usr/bin/python3 "$T/zero.py" "nbd://127.0.0.1:$port/lab" "$T/release"
zp=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/zero.log" && break; kill -0 $zp 2>/dev/null || break; sleep 0.1; done
grep -q holding "$T/zero.log" || fail "-q on a file system without hole punching: $(cat "$T/zero.log")"
used=$(du -sk "$T/under" | cut -f1)
[ "$used" -le $((1024 + 128)) ] || fail "$used KiB of overlay on disk past a 1 MiB limit"
touch "$T/release"
wait $zp || fail "zero client: $(cat "$T/zero.log")"
assert_log "$T/nbdd-nopunch.log" 'the host.s overlays are at its limit of 1024 KiB \(nbdd -q\)'
assert_alive "$pid"
stop_pid "$pid"
echo "ok: shared bases under pressure"
