#!/bin/bash
# Real TFTP clients fetch from the real tftpd and get the same bytes:
# curl (default and --tftp-blksize), tftp-hpa, atftp (with blksize and
# windowsize 16), busybox tftp; IPv4 and, when the host has it, IPv6.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need curl tftp atftp busybox
make_layout
start_tftpd
S=$T/mnt/pi/start4.elf
O=$T/out

curl -sS -o "$O/c1" "tftp://127.0.0.1:$PORT/abcd1234/start4.elf"
assert_same_file "$O/c1" "$S"
curl -sS --tftp-blksize 1468 -o "$O/c2" "tftp://127.0.0.1:$PORT/abcd1234/start4.elf"
assert_same_file "$O/c2" "$S"
curl -sS --tftp-blksize 65464 -o "$O/c3" "tftp://127.0.0.1:$PORT/abcd1234/start4.elf"
assert_same_file "$O/c3" "$S"
curl -sS -o "$O/c4" "tftp://127.0.0.1:$PORT/bootcode.bin"
assert_same_file "$O/c4" "$R/bootcode.bin"
for f in exact1024.bin overlays/vc4-kms-v3d.dtbo; do
	curl -sS -o "$O/c5" "tftp://127.0.0.1:$PORT/abcd1234/$f"
	assert_same_file "$O/c5" "$T/mnt/pi/$f"
done
# curl 7.88 fails on an empty file with any server (getpeername after the
# last packet); tftp-hpa and pi-tftp fetch it below.
note "curl ok"

(cd "$O" && tftp -m binary 127.0.0.1 "$PORT" -c get abcd1234/start4.elf h1)
assert_same_file "$O/h1" "$S"
(cd "$O" && tftp -m binary 127.0.0.1 "$PORT" -c get /bootcode.bin h2)
assert_same_file "$O/h2" "$R/bootcode.bin"
# netascii: the client turns CR LF back into LF.
(cd "$O" && tftp -m binary 127.0.0.1 "$PORT" -c get abcd1234/empty.bin h4)
assert_same_file "$O/h4" "$T/mnt/pi/empty.bin"
(cd "$O" && tftp -m ascii 127.0.0.1 "$PORT" -c get abcd1234/config.txt h3)
assert_same_file "$O/h3" "$T/mnt/pi/config.txt"
note "tftp-hpa ok"

atftp -g -r abcd1234/start4.elf -l "$O/a1" 127.0.0.1 "$PORT" >/dev/null 2>&1
assert_same_file "$O/a1" "$S"
atftp --option "blksize 1468" --option "tsize 0" -g -r abcd1234/start4.elf \
	-l "$O/a2" 127.0.0.1 "$PORT" >/dev/null 2>&1
assert_same_file "$O/a2" "$S"
atftp --option "windowsize 16" --option "blksize 1468" -g \
	-r abcd1234/start4.elf -l "$O/a3" 127.0.0.1 "$PORT" >/dev/null 2>&1
assert_same_file "$O/a3" "$S"
atftp --option "windowsize 16" -g -r abcd1234/exact1024.bin -l "$O/a4" \
	127.0.0.1 "$PORT" >/dev/null 2>&1
assert_same_file "$O/a4" "$T/mnt/pi/exact1024.bin"
assert_log "$T/tftpd.log" "start4.elf: 3000000 bytes in .*windowsize 16"
note "atftp ok"

# tftpd(8)'s own examples, as written, with this server and port.
mkdir "$O/man"
sed -n '/^Fetch a file as a Pi 4 would/,/^# /p' "$TOP/man/tftpd.8.scd" |
	grep -E '^(curl|atftp) ' >"$T/examples"
[ "$(wc -l <"$T/examples")" = 2 ] || fail "tftpd(8)'s fetch examples: $(cat "$T/examples")"
while read -r line; do
	line=${line//tftp:\/\/server\//tftp://127.0.0.1:$PORT/}
	line=${line% server}
	[ "${line%% *}" = curl ] || line="$line 127.0.0.1 $PORT"
	rm -f "$O/man/start4.elf"
	(cd "$O/man" && bash -euc "$line" >/dev/null 2>&1) || fail "tftpd(8): $line"
	assert_same_file "$O/man/start4.elf" "$S"
done <"$T/examples"
note "tftpd(8)'s examples ok"

busybox tftp -g -r abcd1234/start4.elf -l "$O/b1" 127.0.0.1 "$PORT"
assert_same_file "$O/b1" "$S"
busybox tftp -b 1468 -g -r abcd1234/start4.elf -l "$O/b2" 127.0.0.1 "$PORT"
assert_same_file "$O/b2" "$S"
note "busybox ok"

# Windows: sent as UDP GSO runs (small blocks) or datagram by datagram
# (blocks too large to batch), ending inside a window or on its edge.
for bw in "1468 16" "512 64" "40000 4" "65464 8" "100 3"; do
	set -- $bw
	$PITFTP -p "$PORT" -b "$1" -w "$2" get abcd1234/start4.elf "$O/p1" >/dev/null
	assert_same_file "$O/p1" "$S"
	$PITFTP -p "$PORT" -b "$1" -w "$2" get abcd1234/exact1024.bin "$O/p2" >/dev/null
	assert_same_file "$O/p2" "$T/mnt/pi/exact1024.bin"
done

# One info line per finished transfer, with client, file, bytes and rate.
assert_log "$T/tftpd.log" "127\.0\.0\.1:[0-9]+ abcd1234/start4\.elf: 3000000 bytes in [0-9.]+ s, [0-9.]+ MB/s"
stop_pid "$TFTPD_PID"

# IPv6, when loopback has it.
if ip -6 addr show dev lo 2>/dev/null | has '::1'; then
	PORT6=$(free_port udp)
	start_bg tftpd6 "$BIN/tftpd" -r "$R" -l ::1 -p "$PORT6"
	wait_port udp "$PORT6"
	curl -sS --tftp-blksize 1468 -o "$O/v6" "tftp://[::1]:$PORT6/abcd1234/start4.elf"
	assert_same_file "$O/v6" "$S"
	$PITFTP -H ::1 -p "$PORT6" -b 1468 get abcd1234/start4.elf "$O/v6b" >/dev/null
	assert_same_file "$O/v6b" "$S"
	stop_pid "$LAST_PID"
	note "IPv6 ok"
else
	note "no IPv6 on loopback; IPv6 part skipped"
fi
