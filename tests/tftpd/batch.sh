#!/bin/bash
# Many lock-step transfers at once: tftpd reads their ACKs and sends their
# DATA a turn of its loop at a time, through io_uring; where io_uring is
# disabled (kernel.io_uring_disabled=2, as some hosts and container
# runtimes have it) it says so and makes one system call per packet.
# Either way, 24 clients at once, each fetching a different file, get
# every byte of their own file and nothing else, the Pi's blksize and
# RFC 1350's 512 alike, and a stranger's packet to a transfer's port
# still gets "unknown transfer ID".
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need_root
need python3 curl
[ -r /proc/sys/kernel/io_uring_disabled ] ||
    skip "this kernel has no kernel.io_uring_disabled to turn io_uring off"
make_layout
for i in $(seq 24); do
	# Sizes that end mid-block, on a block, and past 65535 blocks of 512.
	case $i in
	1) n=$((1468 * 700)) ;;
	2) n=$((512 * 65536 + 100)) ;;
	*) n=$((300000 + i * 77777)) ;;
	esac
	head -c "$n" /dev/urandom > "$T/mnt/pi/f$i.bin"
done

storm() {	# storm TAG: 24 clients at once, then the bytes compared
	local pids=() i
	rm -rf "$T/out/$1"; mkdir -p "$T/out/$1"
	for i in $(seq 24); do
		if [ $((i % 4)) = 0 ]; then
			curl -s --tftp-no-options -o "$T/out/$1/f$i.bin" \
			    "tftp://127.0.0.1:$PORT/abcd1234/f$i.bin" &
		else
			$PITFTP -p "$PORT" -b 1468 get "abcd1234/f$i.bin" \
			    "$T/out/$1/f$i.bin" >/dev/null &
		fi
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fail "$1: a client failed"; done
	for i in $(seq 24); do
		assert_same_file "$T/out/$1/f$i.bin" "$T/mnt/pi/f$i.bin"
	done
	[ "$(grep -c 'f[0-9]*\.bin: [0-9]* bytes in' "$T/tftpd.log")" = 24 ] ||
	    fail "$1: not 24 finished transfers logged"
	# A stranger's packet to a running transfer's port.
	out=$($RAW "$PORT" tid abcd1234/start4.elf)
	grep -q '^stranger ERROR 5 ' <<<"$out" || fail "$1: stranger not told: $out"
	grep -q '^done 3000000$' <<<"$out" || fail "$1: transfer cut: $out"
	assert_alive "$TFTPD_PID"
}

note "io_uring"
start_tftpd
assert_log "$T/tftpd.log" "io_uring: a turn's datagrams in one system call"
storm uring
stop_pid "$TFTPD_PID"

note "io_uring disabled"
old=$(cat /proc/sys/kernel/io_uring_disabled)
CLEANUPS+=("echo $old > /proc/sys/kernel/io_uring_disabled")
echo 2 > /proc/sys/kernel/io_uring_disabled
start_tftpd
assert_log "$T/tftpd.log" "io_uring unavailable \(.*\); one system call per packet"
storm syscalls
stop_pid "$TFTPD_PID"
echo "$old" > /proc/sys/kernel/io_uring_disabled
