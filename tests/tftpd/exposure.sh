#!/bin/bash
# tftpd sends only boot files. An entry of the boot directory (an image, an
# image's partition, a block device, a directory; by serial, MAC, default,
# a fixed string, or a machine without an entry that would boot default) is
# never sent as a file, in any spelling, to tftp-hpa, curl or busybox tftp:
# each gets "file not found", no byte of the image, and the log one line
# saying why. A symlink in the root is an entry, not followed; a hard link
# to an image is refused too; bootcode.bin and the entries' boot files
# still arrive byte-identical. FIFOs and character devices anywhere a name
# reaches are refused at once while a large transfer goes on undisturbed.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/image.inc"
need tftp busybox mkfifo

# A Pi image: MBR, FAT16 boot partition 1 with the boot files, partition 2
# (the "root file system") full of a marker that must never leave.
IMG=$T/pi.img
M=$IMG@@1M
truncate -s 64M "$IMG"
printf 'label: dos\nstart=2048, size=98304, type=e\nstart=100352, type=83\n' |
	sfdisk -q "$IMG"
head -c 15M < <(yes ROOTFS-SECRET) |
	dd of="$IMG" bs=1M seek=49 iflag=fullblock conv=notrunc status=none
mkfs.vfat -F 16 --offset 2048 "$IMG" 49152 >/dev/null 2>&1
populate "$M"
head -c 16M /dev/urandom > "$T/src/big.bin"	# for the concurrent transfer
mcopy -i "$M" "$T/src/big.bin" ::
head -c 1234 /dev/urandom > "$B/bootcode.bin"
mkdir -p "$T/mnt/pi"
head -c 5000 /dev/urandom > "$T/mnt/pi/start4.elf"

ln -s ../pi.img "$B/abcd1234"
ln -s ../pi.img "$B/dc-a6-32-01-36-c2"
ln -s ../pi.img "$B/default"
ln -s ../pi.img "$B/lab"
ln -s '../pi.img#1' "$B/ab000002"
ln -s ../mnt/pi "$B/1234abcd"
ln "$IMG" "$B/lab2"				# a hard link: an image too
ln -s ../mnt/pi/start4.elf "$B/fw.bin"	# a root symlink to a plain file
ENTRIES="abcd1234 dc-a6-32-01-36-c2 default lab ab000002 1234abcd lab2 fw.bin"
if mknod "$T/blk" b 7 0 2>/dev/null; then
	ln -s ../blk "$B/ab000003"		# a block device entry
	ENTRIES="$ENTRIES ab000003"
else
	note "mknod needs root: no block device entry"
fi
SPELLINGS=(%s %s/ %s// /%s //%s/ %s/. %s/./)
start_tftpd
LOG=$T/tftpd.log

# Each client asks for NAME into OUT; STATUS is "not-found", "denied" or
# "ok". tftp-hpa exits 0 whatever happens and says so on stderr; curl's
# exit status names the error (68 not found, 69 access violation); busybox
# prints the server's message.
get_tftp() {
	local out
	out=$(cd "$O" && tftp -m binary 127.0.0.1 "$PORT" -c get "$1" "$2" 2>&1)
	case $out in
	*"Error code 1: File not found"*) STATUS=not-found ;;
	*"Error code 2: Access violation"*) STATUS=denied ;;
	"") STATUS=ok ;;
	*) STATUS="tftp: $out" ;;
	esac
}
get_curl() {
	local rc=0
	curl -sS --path-as-is -o "$2" "tftp://127.0.0.1:$PORT/$1" 2>/dev/null || rc=$?
	case $rc in
	68) STATUS=not-found ;;
	69) STATUS=denied ;;
	0) STATUS=ok ;;
	*) STATUS="curl exit $rc" ;;
	esac
}
get_busybox() {
	local out
	out=$(busybox tftp -g -r "$1" -l "$2" 127.0.0.1 "$PORT" 2>&1) && { STATUS=ok; return; }
	case $out in
	*"(1) File not found"*) STATUS=not-found ;;
	*"(2) Access violation"*) STATUS=denied ;;
	*) STATUS="busybox: $out" ;;
	esac
}

# refused CLIENT NAME STATUS WHY: the client got STATUS and wrote no byte;
# NAME and WHY go on the list of log lines expected (check_refusals).
EXPECT=()
refused() {
	local client=$1 name=$2 want=$3
	: > "$O/x"
	"get_$client" "$name" "$O/x"
	[ "$STATUS" = "$want" ] || fail "$client $name: expected $want, got $STATUS"
	[ ! -s "$O/x" ] || fail "$client $name: $(stat -c %s "$O/x") bytes written"
	EXPECT+=("$name: $4")
}

# check_refusals: since the last call, the log has exactly one line for
# each refusal, in order, naming the client, the request and why; the
# concurrent transfer's own line aside. A client whose answer came late
# (a busy machine) resends its request from the same port: refused
# again, the same line again, one refusal.
LOGPOS=$(wc -l < "$LOG")
check_refusals() {
	local -a got
	local i
	mapfile -t got < <(tail -n +$((LOGPOS + 1)) "$LOG" | grep -v ' abcd1234/big.bin: ' | uniq)
	[ "${#got[@]}" = "${#EXPECT[@]}" ] ||
		fail "${#EXPECT[@]} refusals but ${#got[@]} new log lines"
	for i in "${!EXPECT[@]}"; do
		case ${got[$i]} in
		"tftpd: 127.0.0.1:"*": ${EXPECT[$i]}"*) ;;
		"tftpd: warning: 127.0.0.1:"*": ${EXPECT[$i]}"*) ;;
		*) fail "log line '${got[$i]}' is not '${EXPECT[$i]}'" ;;
		esac
	done
	LOGPOS=$(wc -l < "$LOG")
	EXPECT=()
}

# Every entry in every spelling, each pair with one of the clients in turn;
# the Pi's own entry in every spelling with every client.
CLIENTS=(tftp curl busybox)
n=0
for e in $ENTRIES; do
	why="names a boot entry, not a file: refused"
	[ "$e" != lab2 ] || why="is an OS image: never sent whole: refused"
	for s in "${SPELLINGS[@]}"; do
		# shellcheck disable=SC2059
		name=$(printf "$s" "$e")
		refused "${CLIENTS[$((n % 3))]}" "$name" not-found "$why"
		n=$((n + 1))
		[ "$e" = abcd1234 ] || continue
		refused "${CLIENTS[$((n % 3))]}" "$name" not-found "$why"
		refused "${CLIENTS[$(((n + 1) % 3))]}" "$name" not-found "$why"
		n=$((n + 2))
	done
done
# A machine without an entry boots default: not whole either.
for client in "${CLIENTS[@]}"; do
	for name in deadbeef deadbeef/ deadbeef/. dc-a6-32-00-00-01/; do
		refused "$client" "$name" not-found "names a boot entry (default"
		n=$((n + 1))
	done
done
check_refusals
note "$n requests for entries refused, one log line each"
assert_log "$LOG" ": abcd1234: names a boot entry, not a file: refused"

# Everything that left the server: nothing of the image's root file system.
if grep -rqs ROOTFS-SECRET "$O"; then fail "the root file system leaked"; fi

# The boot files of the same entries still arrive byte-identical.
for f in config.txt fixup4.dat start4.elf; do
	want "$M" "$f"
	cp "$O/want" "$O/$f.want"
done
check_file() {	# check_file CLIENT PATH WANT
	rm -f "$O/got"
	"get_$1" "$2" "$O/got"
	[ "$STATUS" = ok ] || fail "$1 $2: $STATUS"
	assert_same_file "$O/got" "$3"
}
for client in tftp curl busybox; do
	for e in abcd1234 dc-a6-32-01-36-c2 default lab ab000002 lab2 deadbeef; do
		check_file "$client" "$e/config.txt" "$O/config.txt.want"
		check_file "$client" "$e/fixup4.dat" "$O/fixup4.dat.want"
	done
	check_file "$client" abcd1234/start4.elf "$O/start4.elf.want"
	check_file "$client" 1234abcd/start4.elf "$T/mnt/pi/start4.elf"
	check_file "$client" bootcode.bin "$B/bootcode.bin"
done
note "boot files of every entry and bootcode.bin arrive whole"

# FIFOs and a character device, in the root, in a directory entry and
# behind a root symlink: refused at once, while a large transfer, started
# first at the smallest block size, goes on.
mkfifo "$B/fifo" "$T/mnt/pi/fifo" "$T/fifo"
ln -s ../fifo "$B/fifolink"
SPECIALS="fifo:not-found:never_opened 1234abcd/fifo:denied:access
fifolink:not-found:entry fifolink/start4.elf:not-found:broken"
if mknod "$B/null" c 1 3 2>/dev/null; then
	mknod "$T/mnt/pi/null" c 1 3
	mknod "$T/null" c 1 3
	ln -s ../null "$B/nulllink"
	SPECIALS="$SPECIALS null:not-found:never_opened
1234abcd/null:denied:access nulllink:not-found:entry"
fi
want "$M" big.bin
cp "$O/want" "$O/big.want"
start_bg big curl -sS --tftp-blksize 512 -o "$O/big.got" \
	"tftp://127.0.0.1:$PORT/abcd1234/big.bin"
BIG=$LAST_PID
LOGPOS=$(wc -l < "$LOG")
sleep 0.1
for spec in $SPECIALS; do
	IFS=: read -r name status why <<<"$spec"
	case $why in
	never_opened) why="is a FIFO, socket or character device: never opened" ;;
	access) why="access violation" ;;
	entry) why="names a boot entry, not a file" ;;
	# An entry that leads to a FIFO is a broken one: the Pi behind it
	# must boot nothing, and the administrator is warned.
	broken) why="broken boot entry ${name%%/*} -> ../fifo: a FIFO, socket or character device: never opened" ;;
	esac
	for client in "${CLIENTS[@]}"; do
		t0=$(date +%s%N)
		if [ -n "$why" ]; then
			refused "$client" "$name" "$status" "$why"
		else
			"get_$client" "$name" "$O/x"
			[ "$STATUS" = "$status" ] || fail "$client $name: $STATUS"
		fi
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$ms" -lt 1000 ] || fail "$client $name: refused after $ms ms"
		# The first refusal came while the large transfer ran.
		[ -n "${overlapped:-}" ] || kill -0 "$BIG" 2>/dev/null ||
			fail "the large transfer ended before the first refusal"
		overlapped=1
	done
done
wait "$BIG" || fail "the large transfer failed"
check_refusals
assert_same_file "$O/big.got" "$O/big.want"
note "FIFOs and devices refused at once; $(stat -c %s "$O/big.got") bytes alongside, intact"

if grep -E 'warning|error' "$LOG" | has -v ': broken boot entry fifolink -> '; then
	cat "$LOG"; fail "warnings in the log"
fi
assert_alive "$TFTPD_PID"
stop_pid "$TFTPD_PID"
