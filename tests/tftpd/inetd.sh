#!/bin/bash
# inetd "wait" mode: the UDP socket is fd 0; tftpd serves until idle for
# -t seconds, then exits 0 by itself. And systemd socket activation: the
# socket is fd 3 with LISTEN_FDS=1 and LISTEN_PID.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
need python3
make_layout

# spawn MODE PORT ARGS...: execs tftpd (or WRAP tftpd) with a bound
# socket handed over; mode inetd-all hands it over as fds 0, 1 and 2, as
# inetd itself does.
spawn() {
	local mode=$1 port=$2; shift 2
	python3 - "$mode" "$port" "$BIN/tftpd" "$@" <<'PY' &
import os, socket, sys
mode, port, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wrap = os.environ.get("WRAP", "").split()
if mode == "inetd6":
    # A dual-stack socket, as inetd makes for "udp6" or systemd for
    # BindIPv6Only=both: IPv4 clients arrive as mapped addresses.
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    # inetd's socket is connected to nobody: a line written to it as
    # stderr would fail, and a connected one would carry it to a client.
want = 3 if mode == "systemd" else 0
fd = s.detach()
if fd != want:
    os.dup2(fd, want)
    os.close(fd)
os.set_inheritable(want, True)
if mode == "inetd-all":
    os.dup2(0, 1)
    os.dup2(0, 2)
if mode == "systemd":
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
argv = wrap + [prog] + sys.argv[4:]
os.execvp(argv[0], argv)
PY
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

PORT=$(free_port udp)
spawn inetd "$PORT" -i -T 2 -r "$R" -v 2>"$T/inetd.log"
pid=$LAST_PID
wait_port udp "$PORT"
$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/i" >/dev/null
assert_same_file "$T/out/i" "$T/mnt/pi/start4.elf"
$PITFTP -p "$PORT" get bootcode.bin "$T/out/b" >/dev/null
assert_same_file "$T/out/b" "$R/bootcode.bin"
# Idle: it exits by itself, with status 0.
for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "inetd mode did not exit when idle"; fi
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "inetd mode exited with $rc"
assert_log "$T/inetd.log" "idle for 2 s, exiting"

PORT=$(free_port udp)
spawn systemd "$PORT" -r "$R" 2>"$T/systemd.log"
pid=$LAST_PID
wait_port udp "$PORT"
$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/s" >/dev/null
assert_same_file "$T/out/s" "$T/mnt/pi/start4.elf"
assert_log "$T/systemd.log" "on 1 socket"
stop_pid "$pid"

# A dual-stack socket on fd 0: IPv4 and IPv6 clients both served, each
# answered from the address it wrote to.
if ip -6 addr show dev lo 2>/dev/null | has '::1'; then
	PORT=$(free_port udp)
	spawn inetd6 "$PORT" -i -T 1 -r "$R" -v 2>"$T/inetd6.log"
	pid=$LAST_PID
	wait_port udp "$PORT"
	$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/d4" >/dev/null
	assert_same_file "$T/out/d4" "$T/mnt/pi/start4.elf"
	$PITFTP -H ::1 -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/d6" >/dev/null
	assert_same_file "$T/out/d6" "$T/mnt/pi/start4.elf"
	assert_log "$T/inetd6.log" "\\[::ffff:127\\.0\\.0\\.1\\]:[0-9]+ abcd1234/start4.elf: 3000000 bytes"
	assert_log "$T/inetd6.log" "\\[::1\\]:[0-9]+ abcd1234/start4.elf: 3000000 bytes"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "dual-stack inetd mode exited with $rc"
fi

# inetd proper hands the socket over as fds 0, 1 and 2: tftpd logs to
# syslog by itself then (here a stand-in on a private /dev/log), and the
# client gets its file.
syslog_capture
PORT=$(free_port udp)
WRAP=$WITH_DEVLOG spawn inetd-all "$PORT" -i -T 1 -r "$R" -v
pid=$LAST_PID
wait_port udp "$PORT"
$PITFTP -p "$PORT" -b 1468 get abcd1234/start4.elf "$T/out/sys" >/dev/null
assert_same_file "$T/out/sys" "$T/mnt/pi/start4.elf"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "inetd mode with the socket as stderr exited with $rc"
assert_log "$T/syslog" 'tftpd\[[0-9]+\]: .*abcd1234/start4.elf: 3000000 bytes'
assert_log "$T/syslog" 'tftpd\[[0-9]+\]: idle for 1 s, exiting'
