#!/bin/bash
# nbdd under overload (nbdd(8), OVERLOAD): the server's link, capped with
# htb, is the bottleneck, and forty greedy connections from ten hosts
# want more than it carries, while a Pi on a connection of its own reads
# and writes as a booting kernel does. Each of the Pi's requests must be
# answered within the kernel's timeout, and ahead of most of the greedy
# requests sent before it: each connection has its turn, whatever the
# others have queued. That is order, not speed; the waits are printed
# for the record.
#   1. 128 READs and WRITEs of 1 MiB in flight on each greedy connection;
#      the Pi reads 4 KiB at a time.
#   2. One WRITE of 32 MiB in flight on each (copies with qemu-img or
#      nbdcopy), more than the payload budget holds; the Pi writes 1 MiB
#      at a time, more than nbdd takes without the budget, as a kernel
#      does.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need ip tc python3
LOAD="/usr/bin/python3 $TOP/tests/nbdd/overload.py"
RATE=${OVERLOAD_RATE:-80mbit}
HOSTS=10 PER_HOST=4

netns_add srv
netns_add cli
SRV=${NS_PREFIX}srv CLI=${NS_PREFIX}cli
ip link add eth0 netns "$SRV" type veth peer name eth0 netns "$CLI"
ip -n "$SRV" addr add 10.77.0.1/24 dev eth0
ip -n "$CLI" addr add 10.77.0.99/24 dev eth0
srcs=
for h in $(seq 10 $((9 + HOSTS))); do
	ip -n "$CLI" addr add 10.77.0.$h/24 dev eth0
	srcs=${srcs:+$srcs,}10.77.0.$h
done
ip -n "$SRV" link set eth0 up
ip -n "$CLI" link set eth0 up
# The link, both ways, with a queue per host served round robin (htb
# classes), as fq_codel, a Debian server's default, keeps flows apart;
# this kernel has no fq_codel (tests/storm/lan.inc). In one FIFO a new
# flow's first packets meet a full queue and TCP backs off for seconds:
# a wait of the network, not of nbdd.
for ns in "$SRV" "$CLI"; do
	dir=dst
	[ "$ns" = "$SRV" ] || dir=src
	tc -n "$ns" qdisc add dev eth0 root handle 1: htb default 99
	tc -n "$ns" class add dev eth0 parent 1: classid 1:1 htb rate "$RATE" \
		quantum 1514
	for h in $(seq 10 $((9 + HOSTS))) 99; do
		tc -n "$ns" class add dev eth0 parent 1:1 classid 1:$h htb \
			rate 1mbit ceil "$RATE" quantum 1514
		tc -n "$ns" qdisc add dev eth0 parent 1:$h pfifo limit 1000
		tc -n "$ns" filter add dev eth0 parent 1: protocol ip u32 \
			match ip $dir 10.77.0.$h/32 flowid 1:$h
	done
done

mkdir "$T/root"
for h in $(seq 10 $((9 + HOSTS))) 99; do truncate -s 2G "$T/root/pi$h.img"; done
start_bg nbdd ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" \
	-l 10.77.0.1 -p 10809 -m 64 -c 8
pid=$LAST_PID
wait_port tcp 10809 "$SRV"

# load NAME ARGS...: the load, its output in $T/NAME.out, its summary
# noted.
load() {
	local name=$1 t0=$SECONDS; shift
	ip netns exec "$CLI" $LOAD 10.77.0.1 10809 --srcs "$srcs" \
		--per-src "$PER_HOST" --pi-src 10.77.0.99 "$@" \
		>"$T/$name.out" 2>&1 || fail "$name: $(tail -3 "$T/$name.out")"
	[ -z "${OVERLOAD_KEEP:-}" ] || cp "$T/$name.out" "$OVERLOAD_KEEP.$name"
	head -1 "$T/$name.out"
	summary=$(grep '^summary' "$T/$name.out") ||
		fail "$name: no summary: $(tail -3 "$T/$name.out")"
	note "$name ($((SECONDS - t0)) s): $summary"
	least=$(echo "$summary" | awk '{ for (i = 1; i < NF; i++) if ($i == "min_pending_ahead") print $(i + 1) }')
	inflight=$(echo "$summary" | awk '{ for (i = 1; i < NF; i++) if ($i == "counted_in_flight") print $(i + 1) }')
}

# 1. READs and WRITEs of 1 MiB, 128 in flight on each greedy connection:
# the Pi's 4 KiB READs go ahead of the greedy READs queued before them
# (at its slowest, ahead of half of them; a server answering in order of
# arrival, or a deep queue first, leaves none).
load reads --qd 128 --size $((1 << 20)) --writers 8 --ready sent \
	--count reads \
	--pi-cmd read --pi-size 4096 --pi-count 30
[ "$least" -ge $((inflight / 2)) ] ||
	fail "a Pi READ was answered after the greedy READs queued before it: only $least of $inflight still pending"
assert_alive "$pid"

# 2. WRITEs of 32 MiB (a copy with qemu-img or nbdcopy), one in flight on
# each greedy connection: more than the payload budget holds, so most
# wait for room. The Pi's WRITEs of 1 MiB (what a kernel sends, more
# than nbdd takes without the budget) must not wait behind them: each is
# answered within the kernel's timeout, while most of the greedy WRITEs
# sent before it still wait.
load writes --qd 1 --size $((32 << 20)) --writers $((HOSTS * PER_HOST)) \
	--ready sent --count all --pi-cmd write --pi-size $((1 << 20)) \
	--pi-count 10
[ "$least" -ge $((inflight / 2)) ] ||
	fail "a Pi WRITE was answered after the greedy WRITEs queued before it: only $least of $inflight still pending"
assert_alive "$pid"
stop_pid "$pid"
