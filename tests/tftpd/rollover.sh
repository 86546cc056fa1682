#!/bin/bash
# A file of more than 32 MiB at 512-byte blocks: the block number rolls
# over past 65535 and the file still arrives whole.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need curl atftp
make_layout
head -c $((40 * 1024 * 1024 + 100)) /dev/urandom > "$T/mnt/pi/initrd.img"
start_tftpd
curl -sS -o "$T/out/c" "tftp://127.0.0.1:$PORT/abcd1234/initrd.img"
assert_same_file "$T/out/c" "$T/mnt/pi/initrd.img"
$PITFTP -p "$PORT" get abcd1234/initrd.img "$T/out/p" >/dev/null
assert_same_file "$T/out/p" "$T/mnt/pi/initrd.img"
atftp --option "windowsize 8" -g -r abcd1234/initrd.img -l "$T/out/a" \
	127.0.0.1 "$PORT" >/dev/null 2>&1
assert_same_file "$T/out/a" "$T/mnt/pi/initrd.img"
assert_log "$T/tftpd.log" "initrd.img: 41943140 bytes in .*blksize 512, windowsize 1"
stop_pid "$TFTPD_PID"
