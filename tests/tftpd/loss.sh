#!/bin/bash
# A lossy link: tftpd in one namespace, clients in another, joined by a
# veth pair on which nftables drops LOSS% of the packets entering either
# side (no netem here; a netdev ingress drop is invisible to the sender).
# Real clients (pi-tftp as a Pi 4: probe, then lock-step at blksize 1468;
# tftp-hpa; curl without options) get multi-megabyte files whole, and tftpd's log shows
# the mechanism, not a speed: blocks were resent after waits at the
# round trip's scale (milliseconds, not the old fixed second), each
# client's later transfers start from its measured round trip, duplicate
# ACKs never make tftpd resend, and a client asking timeout=2 gets 2 s.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need ip nft curl tftp python3
PITFTP=$BIN/tools/pi-tftp
[ -x "$PITFTP" ] || skip "$PITFTP not built (make all)"

LOSS=3
SRV_IP=10.213.0.1
CLI_IP=10.213.0.2
netns_add srv
netns_add cli
SRV=${NS_PREFIX}srv
CLI=${NS_PREFIX}cli
ip link add vs netns "$SRV" type veth peer name vc netns "$CLI"
ip -n "$SRV" addr add "$SRV_IP/24" dev vs
ip -n "$CLI" addr add "$CLI_IP/24" dev vc
ip -n "$SRV" link set vs up
ip -n "$CLI" link set vc up
in_cli() { ip netns exec "$CLI" "$@"; }

# drop NS DEV PERCENT: packets arriving on DEV are dropped at random.
drop() {
	ip netns exec "$1" nft -f - <<-EOF
	table netdev loss {
		chain in {
			type filter hook ingress device "$2" priority 0;
			numgen random mod 100 < $3 drop
		}
	}
	EOF
}

R=$T/root
O=$T/out
mkdir -p "$R/abcd1234" "$O"
for f in big1 big2 big3; do
	head -c 3000000 /dev/urandom > "$R/abcd1234/$f.bin"
done
head -c $((20 * 512 + 100)) /dev/urandom > "$R/dup.bin"
head -c 100 /dev/urandom > "$R/t2.bin"

PORT=$(free_port udp)
start_bg tftpd ip netns exec "$SRV" "$BIN/tftpd" -r "$R" -l "$SRV_IP" \
	-p "$PORT" -vv
TFTPD_PID=$LAST_PID
wait_port udp "$PORT" "$SRV"
LOG=$T/tftpd.log

# --- on a clean link first: exact counts --------------------------------

# Before every ACK it sends, this client sends 5 duplicates of the ACK
# before it (an ACK the server already acted on). Every DATA that comes
# back is either a block's first send or a resend the server counted as
# a retransmission (its timer's): a duplicate ACK never causes one.
in_cli python3 - "$SRV_IP" "$PORT" > "$T/dup.out" <<'EOF'
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\0\1dup.bin\0octet\0", (host, port))
ack = lambda n: struct.pack("!HH", 4, n)
got, datas, dups, last = 0, 0, 0, None
while True:
    pkt, tid = s.recvfrom(70000)
    op, n = struct.unpack("!HH", pkt[:4])
    if op != 3:
        sys.exit("unexpected opcode %d" % op)
    datas += 1
    if n != got + 1:
        continue            # a resend of a block we have
    got = n
    for _ in range(5):
        s.sendto(ack(n - 1), tid)
        dups += 1
    s.sendto(ack(n), tid)
    if len(pkt) - 4 < 512:
        break
# Anything still coming is counted too.
s.settimeout(0.3)
try:
    while True:
        s.recvfrom(70000)
        datas += 1
except socket.timeout:
    pass
print("blocks %d datas %d dupacks %d" % (got, datas, dups))
EOF
read -r _ blocks _ datas _ dupacks < "$T/dup.out"
note "duplicate ACKs: $(cat "$T/dup.out")"
[ "$blocks" = 21 ] || fail "dup.bin: $blocks blocks, not 21"
line=$(grep -E " dup\.bin: 10340 bytes in .*, [0-9]+ retransmissions?$" "$LOG") ||
	fail "no end-of-transfer line for dup.bin"
rx=$(sed -E 's/.* ([0-9]+) retransmissions?$/\1/' <<<"$line")
[ "$datas" = $((blocks + rx)) ] ||
	fail "$datas DATA packets for $blocks blocks and $rx retransmissions: duplicate ACKs caused resends"
[ "$rx" -lt $((dupacks / 4)) ] || fail "$rx retransmissions for $dupacks duplicate ACKs"

# timeout=2 (RFC 2349): DATA 1 unanswered comes again after 2 s, not at
# the round trip's pace, and duplicate ACKs in between change nothing.
in_cli python3 - "$SRV_IP" "$PORT" > "$T/t2.out" <<'EOF'
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"\0\1t2.bin\0octet\0timeout\0" b"2\0", (host, port))
pkt, tid = s.recvfrom(70000)
if pkt[:2] != b"\0\6" or b"timeout\0" b"2\0" not in pkt:
    sys.exit("no OACK with timeout 2: %r" % pkt)
s.sendto(struct.pack("!HH", 4, 0), tid)
pkt, _ = s.recvfrom(70000)
t0 = time.monotonic()
if pkt[:4] != b"\0\3\0\1":
    sys.exit("not DATA 1: %r" % pkt[:4])
time.sleep(0.5)
for _ in range(3):
    s.sendto(struct.pack("!HH", 4, 0), tid)
pkt, _ = s.recvfrom(70000)
t1 = time.monotonic()
if pkt[:4] != b"\0\3\0\1":
    sys.exit("not DATA 1 again: %r" % pkt[:4])
s.sendto(struct.pack("!HH", 4, 1), tid)
print("resent after %.3f" % (t1 - t0))
EOF
read -r _ _ secs < "$T/t2.out"
note "timeout=2: DATA 1 $(cat "$T/t2.out") s"
awk -v s="$secs" 'BEGIN { exit !(s >= 1.8 && s <= 3.0) }' ||
	fail "timeout=2 asked, DATA 1 resent after $secs s"
for _ in $(seq 50); do
	grep -qE " t2\.bin: 100 bytes in .*, 1 retransmission$" "$LOG" && break
	sleep 0.1
done
assert_log "$LOG" " t2\.bin: 100 bytes in .*, 1 retransmission$"

# --- LOSS% dropped each way ---------------------------------------------

drop "$SRV" vs "$LOSS"
drop "$CLI" vc "$LOSS"
note "dropping $LOSS% each way"

in_cli "$PITFTP" -H "$SRV_IP" -p "$PORT" pi abcd1234 "$O" big1.bin > "$T/pi.out" ||
	fail "pi-tftp: $(cat "$T/pi.out")"
assert_same_file "$O/big1.bin" "$R/abcd1234/big1.bin"
(cd "$O" && in_cli tftp -m binary "$SRV_IP" "$PORT" -c get abcd1234/big2.bin big2.bin)
assert_same_file "$O/big2.bin" "$R/abcd1234/big2.bin"
# curl always asks for the timeout option (its own retry interval, 6 s by
# default) and gets exactly that timer; without options it leaves the
# timer to tftpd.
in_cli curl -sS --tftp-no-options -o "$O/big3.bin" \
	"tftp://$SRV_IP:$PORT/abcd1234/big3.bin"
assert_same_file "$O/big3.bin" "$R/abcd1234/big3.bin"
note "pi-tftp, tftp-hpa and curl got 3 MB each whole"

# Each transfer ends with its retransmissions counted. A transfer whose
# final ACK was lost is given up on after 6 s (the client has gone): wait
# for that line too.
for f in big1 big2 big3; do
	for _ in $(seq 100); do
		grep -qE " abcd1234/$f\.bin: ([0-9]+ bytes in|failed after)" "$LOG" && break
		sleep 0.1
	done
	grep -qE " abcd1234/$f\.bin: .* [1-9][0-9]* retransmissions?($|:)" "$LOG" ||
		fail "no retransmissions logged for $f.bin"
done

# The waits that ran out before each resend: at the round trip's scale.
# (The transfer given up on after a lost final ACK backs off to 1 s;
# those are a handful among hundreds.)
grep -E " abcd1234/big[123]\.bin: resent .* after [0-9.]+ ms" "$LOG" |
	sed -E 's/.* after ([0-9.]+) ms.*/\1/' | sort -n > "$T/waits"
n=$(wc -l < "$T/waits")
median=$(awk -v n="$n" 'NR == int((n + 1) / 2) { print }' "$T/waits")
note "$n resends, median wait $median ms, longest $(tail -1 "$T/waits") ms"
[ "$n" -ge 30 ] || fail "only $n resends at $LOSS% loss over 3 transfers"
awk -v m="$median" 'BEGIN { exit !(m < 50) }' ||
	fail "median wait before a resend is $median ms: not the round trip's scale"

# The client's first transfer starts from the initial timer; every later
# one from the round trip its earlier ones measured (the Pi's probe is the
# first such sample).
assert_log "$LOG" "$CLI_IP:[0-9]+ dup\.bin: first timer 200\.000 ms \(a client not seen lately\)"
assert_log "$LOG" "$CLI_IP:[0-9]+ abcd1234/big1\.bin: first timer [0-9.]+ ms \(the client's last round trip\)"
assert_log "$LOG" "$CLI_IP:[0-9]+ abcd1234/big3\.bin: first timer [0-9.]+ ms \(the client's last round trip\)"

stop_pid "$TFTPD_PID"
