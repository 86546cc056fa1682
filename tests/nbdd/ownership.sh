#!/bin/bash
# A shared base is a deliberate choice: no write bit (chmod a-w), or a
# read-only device. An image whose mode says writable but that nbdd's
# user cannot write (root's, mode 0644, under -u nobody: what following
# the walkthroughs in order gives) is refused at GO and INFO with the fix
# named (chown nobody PATH, or chmod a-w PATH), by real clients too, never
# served as a throwaway: nothing is written anywhere, no overlay is made.
# At start-up nbdd lists the bases and why, and warns for each image it
# will refuse. Images are looked up for every client: one copied in, or
# fixed, after the start is seen at once. An image on a file system
# mounted read-only with a writable mode is refused the same way.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need qemu-img qemu-io nbdinfo nbd-client
id nobody >/dev/null 2>&1 || skip "no user nobody"
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
MIB=1048576

chmod 755 "$T"
mkdir -m 755 "$T/root"
mkdir "$T/ovl"
chown nobody "$T/ovl"
head -c $((4 * MIB)) /dev/urandom >"$T/root/pi.img"	# root's, 0644
head -c $((4 * MIB)) /dev/urandom >"$T/root/lab.img"
chmod 444 "$T/root/lab.img"				# a base
truncate -s $((4 * MIB)) "$T/root/mine.img"
chown nobody "$T/root/mine.img"				# nobody's own disk
cp "$T/root/pi.img" "$T/pi.orig"
cp "$T/root/lab.img" "$T/lab.orig"

port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 127.0.0.1 -p "$port" -u nobody
pid=$LAST_PID
wait_port tcp "$port"
fix="chown nobody $T/root/pi.img if it is one Pi's disk, or chmod a-w $T/root/pi.img to share it as a base"
# Refused at GO and INFO, NBD_REP_ERR_POLICY with the fix.
$RAW "$port" go-from pi 127.0.0.1 "refused:$fix" >/dev/null ||
	fail "an image nobody cannot write was served"
assert_log "$T/nbdd.log" "warning: image pi: refused to clients until fixed: its mode says writable, but nbdd's user nobody cannot write it: $fix"
assert_log "$T/nbdd.log" 'image lab: a shared base, an overlay for each host \(its mode has no write permission bit\)'
assert_log "$T/nbdd.log" 'images now: 1 written directly, 1 shared base, 1 refused'
grep -q 'image mine' "$T/nbdd.log" && fail "an image of nobody's own listed as a base or refused"

# Real clients: qemu shows the server's message, nbdinfo the error.
U=nbd://127.0.0.1:$port
qemu-img info "$U/pi" >"$T/qi" 2>&1 && fail "qemu-img opened pi"
grep -qF "chown nobody $T/root/pi.img" "$T/qi" || fail "qemu-img: $(cat "$T/qi")"
qemu-io -f raw -c 'write -P 0x66 0 64k' "$U/pi" >"$T/qio" 2>&1 && fail "qemu-io wrote pi"
nbdinfo --size "$U/pi" >"$T/ni" 2>&1 && fail "nbdinfo opened pi"
grep -qi "policy\|not permitted" "$T/ni" || fail "nbdinfo: $(cat "$T/ni")"
nbd-client -N pi 127.0.0.1 "$port" /dev/nbd15 >"$T/nc" 2>&1 && fail "nbd-client opened pi"
grep -qF "its mode says writable" "$T/nc" || fail "nbd-client: $(cat "$T/nc")"
assert_log "$T/nbdd.log" "GO refused: export \"pi\": its mode says writable, but nbdd's user nobody cannot write it: $fix"
grep -q 'export pi: a fresh overlay' "$T/nbdd.log" && fail "an overlay was made over pi"
assert_same_file "$T/pi.orig" "$T/root/pi.img"
[ -z "$(ls -A "$T/ovl")" ] || fail "overlay files for a refused image: $(ls -A "$T/ovl")"

# The base, and nobody's own disk, are served as before.
qemu-io -f raw -c 'write -P 0x11 0 64k' -c 'read -P 0x11 0 64k' "$U/lab" >"$T/qlab" 2>&1 ||
	fail "the base: $(cat "$T/qlab")"
assert_same_file "$T/lab.orig" "$T/root/lab.img"
qemu-io -f raw -c 'write -P 0x22 0 64k' "$U/mine" >"$T/qmine" 2>&1 ||
	fail "nobody's own image: $(cat "$T/qmine")"
cmp -s <(head -c 65536 /dev/zero | tr '\0' '\042') <(head -c 65536 "$T/root/mine.img") ||
	fail "a write to nobody's own image did not land in it"

# Looked up per client: an image copied in with the same mistake is
# refused; fixed with chown, the Pi's writes land in it.
cp "$T/pi.orig" "$T/root/late.img"
$RAW "$port" go-from late 127.0.0.1 "refused:chown nobody $T/root/late.img" >/dev/null ||
	fail "an image copied in later was served though nobody cannot write it"
chown nobody "$T/root/pi.img"
qemu-io -f raw -c 'write -P 0x33 1M 64k' "$U/pi" >"$T/qpi" 2>&1 || fail "pi, fixed: $(cat "$T/qpi")"
cmp -s <(head -c 65536 /dev/zero | tr '\0' '\063') \
	<(dd if="$T/root/pi.img" bs=64k skip=16 count=1 status=none) ||
	fail "pi, fixed: the write did not land in the image"
# ... or made a base with chmod a-w: an overlay, the image untouched.
chmod a-w "$T/root/late.img"
qemu-io -f raw -c 'write -P 0x44 0 64k' -c 'read -P 0x44 0 64k' "$U/late" >"$T/qlate" 2>&1 ||
	fail "late, made a base: $(cat "$T/qlate")"
assert_same_file "$T/pi.orig" "$T/root/late.img"
assert_alive "$pid"
stop_pid "$pid"

# nbdd run as root writes root's 0644 image: the first walkthrough.
port=$(free_port tcp)
chown root "$T/root/pi.img"
start_bg nbdd-root "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
assert_log "$T/nbdd-root.log" 'images now: 2 written directly, 2 shared bases, 0 refused'
$RAW "$port" go-from pi 127.0.0.1 ok >/dev/null || fail "root could not open its own image"
stop_pid "$pid"

# A file system mounted read-only: a writable mode there is refused (it
# may have turned read-only by itself after an error); no write bit is a
# base.
mkdir "$T/rofs"
mount -t tmpfs -o size=16m tmpfs "$T/rofs" || skip "cannot mount a tmpfs"
CLEANUPS+=("umount -l $T/rofs")
cp "$T/pi.orig" "$T/rofs/own.img"
cp "$T/lab.orig" "$T/rofs/base.img"
chmod 444 "$T/rofs/base.img"
mount -o remount,ro "$T/rofs"
port=$(free_port tcp)
start_bg nbdd-ro "$BIN/nbdd" -r "$T/rofs" -o "$T/ovl" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
assert_log "$T/nbdd-ro.log" "warning: image own: refused to clients until fixed: its mode says writable, but its file system is mounted read-only: remount its file system read-write"
$RAW "$port" go-from own 127.0.0.1 "refused:its file system is mounted read-only" >/dev/null ||
	fail "an image on a read-only file system was served as a base"
$RAW "$port" shared-base base || fail "no base on a read-only file system"
stop_pid "$pid"
echo "ok: ownership mistakes refused, bases deliberate"
