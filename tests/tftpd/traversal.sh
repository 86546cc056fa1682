#!/bin/bash
# Path traversal in every form is refused, and so is a symlink that the
# Pi (which can write its own boot files) plants inside its target to
# point out of it. Nothing outside the layout is ever served.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout
# The attacker's links, inside the Pi's own directory.
ln -s "$T/secret" "$T/mnt/pi/abs-link"
ln -s ../../secret "$T/mnt/pi/rel-link"
ln -s /etc/passwd "$T/mnt/pi/passwd-link"
ln -s / "$T/mnt/pi/rootdir"
mkdir "$T/mnt/pi/sub"
ln -s ../../../secret "$T/mnt/pi/sub/deep-link"
mkfifo "$T/mnt/pi/fifo"
mknod "$T/mnt/pi/null-dev" c 1 3 2>/dev/null || true
start_tftpd

refused() {	# refused NAME: an ERROR 1 or 2, never data
	local got
	got=$($RAW "$PORT" rrq "$1")
	case $got in
	"ERROR 1 "*|"ERROR 2 "*) ;;
	*) fail "$1: expected file not found or access violation, got: $got" ;;
	esac
	if $PITFTP -p "$PORT" get "$1" "$T/out/x" >/dev/null 2>&1; then
		fail "$1 was served"
	fi
}

for name in \
	../secret .. ../ ./../secret /../secret ../../../../etc/passwd \
	a/../../b abcd1234/../../secret abcd1234/../../../etc/passwd \
	abcd1234/../../etc/passwd abcd1234/overlays/../../secret \
	abcd1234/sub/../../../secret /etc/passwd etc/passwd //etc/passwd \
	abcd1234//etc/passwd 'abcd1234/..\..\secret' abcd1234/%2e%2e/secret \
	abcd1234/abs-link abcd1234/rel-link abcd1234/passwd-link \
	abcd1234/rootdir/etc/passwd abcd1234/sub/deep-link abcd1234/fifo \
	abcd1234/null-dev abcd1234 abcd1234/overlays
do
	refused "$name"
done

# The traversal attempts were logged with their reason, not silently.
assert_log "$T/tftpd.log" "abcd1234/abs-link: access violation"
assert_log "$T/tftpd.log" "abcd1234/\.\./\.\./secret: access violation"
# And the good files are still served, including through "..".
$PITFTP -p "$PORT" get abcd1234/overlays/../start4.elf "$T/out/ok" >/dev/null
assert_same_file "$T/out/ok" "$T/mnt/pi/start4.elf"
assert_alive "$TFTPD_PID"
stop_pid "$TFTPD_PID"
