#!/bin/bash
# -u USER: tftpd binds, then runs as USER, and still serves; a file USER
# may not read is refused, not served with root's rights.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need_root
id nobody >/dev/null 2>&1 || skip "no user nobody"
make_layout
chmod 755 "$T"
chmod -R a+rX "$T/root" "$T/mnt"
head -c 100 /dev/urandom > "$T/mnt/pi/private.bin"
chmod 600 "$T/mnt/pi/private.bin"
start_tftpd -u nobody
uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$TFTPD_PID/status")
want=$(id -u nobody)
[ "$uid" = "$want$want$want$want" ] || fail "runs as uid $uid, not nobody"
$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/s" >/dev/null
assert_same_file "$T/out/s" "$T/mnt/pi/start4.elf"
if $PITFTP -p "$PORT" get abcd1234/private.bin "$T/out/p" 2>"$T/p.err" >/dev/null; then
	fail "a file unreadable by nobody was served"
fi
grep -q "server error 2" "$T/p.err" || fail "private.bin: $(cat "$T/p.err")"
stop_pid "$TFTPD_PID"
