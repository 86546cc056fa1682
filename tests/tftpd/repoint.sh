#!/bin/bash
# Re-pointing an entry's symlink takes effect on the very next request:
# nothing is cached across requests.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
make_layout
start_tftpd
for i in 1 2 3; do
	$PITFTP -p "$PORT" get abcd1234/start4.elf "$T/out/a" >/dev/null
	assert_same_file "$T/out/a" "$T/mnt/pi/start4.elf"
	ln -sfn ../mnt/other "$R/abcd1234"
	$PITFTP -p "$PORT" get abcd1234/start4.elf "$T/out/b" >/dev/null
	assert_same_file "$T/out/b" "$T/mnt/other/start4.elf"
	ln -sfn ../mnt/pi "$R/abcd1234"
done
# A file replaced in place is served new too.
head -c 777 /dev/urandom > "$T/mnt/pi/config.txt.new"
mv "$T/mnt/pi/config.txt.new" "$T/mnt/pi/config.txt"
$PITFTP -p "$PORT" get abcd1234/config.txt "$T/out/c" >/dev/null
assert_same_file "$T/out/c" "$T/mnt/pi/config.txt"
# An entry removed is gone at once.
rm "$R/abcd1234"
if $PITFTP -p "$PORT" get abcd1234/start4.elf "$T/out/d" >/dev/null 2>&1; then
	fail "a removed entry was still served"
fi
stop_pid "$TFTPD_PID"
