# Helpers for integration tests; source it first thing:
#   . "$(dirname "$0")/../lib/lib.sh"
# Every process started with start_bg is ended by its pid when the test
# exits, pass or fail; namespaces made with netns_add are deleted; $T is a
# scratch directory that is removed.
set -euo pipefail

# has [GREP-OPTION...] PATTERN: whether the input has a matching line,
# reading all of it. With pipefail, `cmd | grep -q` fails at random: grep
# stops at the first match and cmd, still writing, dies of SIGPIPE.
has() { grep "$@" >/dev/null; }

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$TOP/$BUILD
T=$(mktemp -d /tmp/netboot-test.XXXXXX)
PIDS=()
NETNS=()
CLEANUPS=()

cleanup() {
	local rc=$?
	set +e
	for c in "${CLEANUPS[@]+"${CLEANUPS[@]}"}"; do eval "$c"; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "${NETNS[@]+"${NETNS[@]}"}"; do
		# Processes left in the namespace would keep it alive.
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		for l in "$T"/*.log; do
			[ -e "$l" ] || continue
			echo "--- $l (last lines)"; tail -20 "$l"
		done
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
note() { echo "# $*"; }

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed (tests/deps.sh installs it)"
	done
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root for network namespaces"; }

# start_bg NAME CMD...: runs CMD in the background, output in $T/NAME.log;
# sets LAST_PID.
start_bg() {
	local name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# stop_pid PID: SIGTERM, then insists the process exited by itself with
# status 0 (a clean shutdown; sanitizer reports would make it non-zero).
stop_pid() {
	local p=$1 rc=0
	kill -TERM "$p" 2>/dev/null || fail "process $p was not running"
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || fail "process $p exited with status $rc after SIGTERM"
}

# free_port udp|tcp: a port nothing listens on.
free_port() {
	local proto=$1 p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Hn${proto:0:1}l "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"; return
		fi
	done
	fail "no free $proto port"
}

# wait_port udp|tcp PORT [NETNS]: until something listens there (10 s).
wait_port() {
	local proto=$1 port=$2 ns=${3:-}
	for _ in $(seq 100); do
		if [ -n "$ns" ]; then
			ip netns exec "$ns" ss -Hn${proto:0:1}l "sport = :$port" | has . && return
		else
			ss -Hn${proto:0:1}l "sport = :$port" | has . && return
		fi
		sleep 0.1
	done
	fail "nothing listens on $proto port $port"
}

assert_same_file() {
	cmp -s "$1" "$2" || fail "$1 and $2 differ ($(stat -c %s "$1" 2>/dev/null || echo missing) vs $(stat -c %s "$2") bytes)"
}

assert_log() {	# assert_log FILE REGEX: the log holds a line matching REGEX
	grep -Eq -- "$2" "$1" || fail "no line matching /$2/ in $1"
}

assert_alive() { kill -0 "$1" 2>/dev/null || fail "process $1 died"; }

# netns_add NAME: makes namespace "$NS_PREFIX"NAME (deleted at exit, with
# every veth, bridge and tap inside it), loopback up. Call it directly, not
# in $(...), or the cleanup list is lost. Keep bridges and taps inside a
# test namespace, never in the machine's own.
NS_PREFIX="nb$$-"
netns_add() {
	local ns="$NS_PREFIX$1"
	ip netns add "$ns"
	NETNS+=("$ns")
	ip -n "$ns" link set lo up
	# The benchmarks choose their LAN's TCP congestion control
	# (tests/bench/run), as they choose its rates.
	[ -z "${NETNS_TCP_CC:-}" ] ||
		ip netns exec "$ns" sysctl -q -w \
		    net.ipv4.tcp_congestion_control="$NETNS_TCP_CC" ||
		fail "cannot set TCP congestion control $NETNS_TCP_CC in $ns"
}

# syslog_capture: a stand-in for the machine's syslog daemon, listening on
# $T/devlog and keeping every line that arrives in $T/syslog. Daemons
# reach it when started through $WITH_DEVLOG CMD...: CMD runs in a private
# mount namespace whose /dev holds only null, zero, urandom and log, the
# last pointing at the stand-in; the machine's /dev is untouched.
syslog_capture() {
	start_bg syslog python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$T/devlog" "$T/syslog"
	WITH_DEVLOG=$T/with-devlog
	cat >"$WITH_DEVLOG" <<EOS
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs -o mode=755 devlog /dev &&
	mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
	mknod -m 444 /dev/urandom c 1 9 && ln -s "$T/devlog" /dev/log &&
	exec "\$@"' sh "\$@"
EOS
	chmod 755 "$WITH_DEVLOG"
	for _ in $(seq 50); do [ -S "$T/devlog" ] && return; sleep 0.1; done
	fail "the syslog stand-in did not start"
}
