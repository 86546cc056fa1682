#!/bin/bash
# nbdd against nbd-server, nbdkit (file plugin) and qemu-nbd, side by side
# in one run on the same 2 GiB image. The servers run in one network
# namespace and the clients in another, joined by a veth, so the client is
# another host as far as the network stack goes:
#   - fio --ioengine=nbd (libnbd), 4 KiB random read and random write,
#     iodepth 32, one connection: IOPS;
#   - nbdcopy of the whole image to null:, default connections and -C 1:
#     MB/s;
#   - nbdd's memory per idle connection: RSS with N connections through the
#     handshake and idle, against none.
# Servers run one at a time (they would fight over nbdd's and qemu's image
# locks), in ROUNDS interleaved rounds; the best of the rounds counts, so a
# burst of load from elsewhere on the machine does not decide the table.
#
# The image is written once in 4 KiB writes, so the page cache holds it in
# 4 KiB pages, as a Pi's random root file system I/O leaves it. (Written
# with large writes, Linux 6.x caches it in large folios, and every 4 KiB
# buffered write then walks the folio's buffer heads in
# ext4_block_write_begin: random-write IOPS of every server collapse to
# the same kernel-bound figure. BIG_FOLIOS=1 measures that case too.)
#
# On this 2-core machine the client shares the cores with the server, so
# the IOPS rows measure the client as much as the server; the figures a
# server owns are its CPU per request and per GiB. The targets (issue 13)
# are printed at the end: server CPU per 4 KiB request at most 0.5x
# nbdkit's, sequential reads at least 1.5x the best peer's.
#
# usage: tests/bench/nbdd.sh   (BUILD, ROUNDS, RUNTIME, IDLE_CONNS, BIG_FOLIOS)
. "$(dirname "$0")/../lib/lib.sh"
need fio nbdcopy nbdkit qemu-nbd nbd-server
[ -x "$BIN/nbdd" ] || fail "build first: make BUILD=$BUILD"
fio --enghelp 2>/dev/null | has -w nbd || skip "this fio has no nbd engine"
ROUNDS=${ROUNDS:-5}
RUNTIME=${RUNTIME:-10}
IDLE_CONNS=${IDLE_CONNS:-64}
SIZE=$((2 * 1024 * 1024 * 1024))
PY=/usr/bin/python3
RAW="$PY $TOP/tests/nbdd/raw.py"

mkdir "$T/root"
IMG=$T/root/bench.img
note "writing the 2 GiB image ($([ "${BIG_FOLIOS:-0}" = 1 ] && echo 4 MiB || echo 4 KiB) writes)"
if [ "${BIG_FOLIOS:-0}" = 1 ]; then
	dd if=/dev/urandom of="$IMG" bs=4M count=512 status=none
else
	dd if=/dev/urandom of="$IMG" bs=4k count=524288 status=none
fi

netns_add nbdsrv
netns_add nbdcli
SNS=${NS_PREFIX}nbdsrv CNS=${NS_PREFIX}nbdcli
ip -n "$SNS" link add eth0 type veth peer name eth0 netns "$CNS"
ip -n "$SNS" addr add 10.77.0.1/24 dev eth0
ip -n "$CNS" addr add 10.77.0.2/24 dev eth0
ip -n "$SNS" link set eth0 up
ip -n "$CNS" link set eth0 up
SRV=10.77.0.1
insrv() { ip netns exec "$SNS" "$@"; }
incli() { ip netns exec "$CNS" "$@"; }
PORT_NBDD=10809
PORT_NBDSRV=10810
PORT_NBDKIT=10811
PORT_QEMU=10812
cat >"$T/nbd-server.conf" <<CONF
[generic]
    listenaddr = $SRV
    port = $PORT_NBDSRV
    allowlist = true
    user = root
    group = root
[bench]
    exportname = $IMG
CONF

# BEFORE_BIN (set by tests/bench/run from BEFORE=REV): a build of an
# earlier commit, run as one more server, nbdd-before, for before/after.
SERVERS="nbdd ${BEFORE_BIN:+nbdd-before }nbd-server nbdkit qemu-nbd"
uri() {
	case $1 in
	nbdd|nbdd-before) echo "nbd://$SRV:$PORT_NBDD/bench" ;;
	nbd-server) echo "nbd://$SRV:$PORT_NBDSRV/bench" ;;
	nbdkit) echo "nbd://$SRV:$PORT_NBDKIT/" ;;
	qemu-nbd) echo "nbd://$SRV:$PORT_QEMU/bench" ;;
	esac
}

SRV_PID=
start_server() {
	case $1 in
	nbdd|nbdd-before)
		# (-c, the per-host limit, is newer than some earlier builds)
		if [ "$1" = nbdd ]; then
			start_bg nbdd ip netns exec "$SNS" "$BIN/nbdd" -r "$T/root" -l "$SRV" \
			    -p "$PORT_NBDD" -c $((IDLE_CONNS + 8))
		else
			start_bg nbdd-before ip netns exec "$SNS" "$BEFORE_BIN/nbdd" -r "$T/root" \
			    -l "$SRV" -p "$PORT_NBDD"
		fi
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_NBDD" "$SNS" ;;
	nbd-server)
		# Foreground (-d) serves a single client; so it daemonizes
		# and is ended by the pid it writes.
		rm -f "$T/nbd-server.pid"
		insrv nbd-server -C "$T/nbd-server.conf" -p "$T/nbd-server.pid" \
		    >"$T/nbd-server.log" 2>&1
		for _ in $(seq 50); do [ -s "$T/nbd-server.pid" ] && break; sleep 0.1; done
		SRV_PID=$(cat "$T/nbd-server.pid")
		CLEANUPS+=("kill $SRV_PID 2>/dev/null")
		wait_port tcp "$PORT_NBDSRV" "$SNS" ;;
	nbdkit)
		start_bg nbdkit ip netns exec "$SNS" nbdkit -f -i "$SRV" -p "$PORT_NBDKIT" file "$IMG"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_NBDKIT" "$SNS" ;;
	qemu-nbd)
		start_bg qemu-nbd ip netns exec "$SNS" qemu-nbd -f raw -x bench -b "$SRV" \
		    -p "$PORT_QEMU" -t --cache=writeback --aio=threads "$IMG"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_QEMU" "$SNS" ;;
	esac
}

stop_server() {
	if [ "$1" = nbd-server ]; then
		kill "$SRV_PID"
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	else
		stop_pid "$SRV_PID"
	fi
	sleep 0.3
}

HZ=$(getconf CLK_TCK)
ticks() {	# CPU ticks of a server and its reaped children (nbd-server forks)
	awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
}
FIO_US=0
fio_iops() {	# fio_iops URI randread|randwrite; sets FIO_US (server CPU
		# microseconds per request, in tenths)
	local t0 t1 iops
	sync "$IMG"	# the last server's writes are not flushed on our time
	t0=$(ticks "$SRV_PID")
	incli fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs=4k \
	    --iodepth=32 --numjobs=1 --time_based=1 --runtime="$RUNTIME" \
	    --size=$SIZE --randrepeat=0 --output-format=json \
	    --output="$T/fio.json" >/dev/null 2>&1 || { FIO_IOPS=0; FIO_CPU=0; return; }
	sleep 0.2	# nbd-server's child exits and is reaped
	t1=$(ticks "$SRV_PID")
	read -r FIO_IOPS FIO_CPU < <($PY -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]
print(int(j["read"]["iops"] + j["write"]["iops"]), int(j["usr_cpu"] + j["sys_cpu"]))' "$T/fio.json")
	FIO_US=$(( FIO_IOPS > 0 ? (t1 - t0) * 10000000 / HZ / (FIO_IOPS * RUNTIME) : 0 ))
}

COPY_MS=0
copy_mbs() {	# copy_mbs URI [nbdcopy flags]: sets COPY_MBS (MB/s of URI ->
		# null:) and COPY_MS (server CPU milliseconds per GiB)
	local u=$1 t0 t1 c0 c1; shift
	sync "$IMG"
	c0=$(ticks "$SRV_PID")
	t0=$(date +%s%N)
	incli nbdcopy "$@" "$u" null: || { COPY_MBS=0; COPY_MS=0; return; }
	t1=$(date +%s%N)
	sleep 0.2
	c1=$(ticks "$SRV_PID")
	COPY_MBS=$(( SIZE * 1000 / (t1 - t0) ))	# bytes/ns*1000 = MB/s
	COPY_MS=$(( (c1 - c0) * 1000 / HZ * 1073741824 / SIZE ))
}

declare -A BEST
keep() {	# keep KEY VALUE: the best (highest) of the rounds
	local k=$1 v=$2
	[ -n "${BEST[$k]:-}" ] && [ "${BEST[$k]}" -ge "$v" ] || BEST[$k]=$v
}
keep_low() {	# keep_low KEY VALUE: the best (lowest) of the rounds
	local k=$1 v=$2
	[ -n "${BEST[$k]:-}" ] && [ "${BEST[$k]}" -le "$v" ] || BEST[$k]=$v
}

for r in $(seq "$ROUNDS"); do
	for s in $SERVERS; do
		note "round $r: $s"
		start_server "$s"
		u=$(uri "$s")
		fio_iops "$u" randread
		keep "rr:$s" "$FIO_IOPS"; keep_low "rrc:$s" "$FIO_US"
		keep "rrf:$s" "$FIO_CPU"
		fio_iops "$u" randwrite
		keep "rw:$s" "$FIO_IOPS"; keep_low "rwc:$s" "$FIO_US"
		keep "rwf:$s" "$FIO_CPU"
		copy_mbs "$u"
		keep "cp:$s" "$COPY_MBS"; keep_low "cpc:$s" "$COPY_MS"
		copy_mbs "$u" -C 1
		keep "cp1:$s" "$COPY_MBS"; keep_low "cp1c:$s" "$COPY_MS"
		stop_server "$s"
	done
done

# Memory: nbdd's RSS with IDLE_CONNS idle connections against none.
start_server nbdd
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
rss0=$(rss "$SRV_PID")
start_bg idle ip netns exec "$CNS" env NBD_HOST="$SRV" $RAW "$PORT_NBDD" hold bench \
    "$IDLE_CONNS" "$T/idle-done"
idle=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/idle.log" && break; sleep 0.1; done
grep -q holding "$T/idle.log" || fail "could not open $IDLE_CONNS idle connections"
sleep 0.5
rss1=$(rss "$SRV_PID")
touch "$T/idle-done"
wait "$idle"
stop_server nbdd
per_conn=$(( (rss1 - rss0) / IDLE_CONNS ))

# The table: each row is the best of the rounds for each server, and the
# last column nbdd's ratio to the best peer.
printf '\n%-28s' "test (best of $ROUNDS)"
for s in $SERVERS; do printf '%12s' "$s"; done
printf '%12s\n' "nbdd/best"
row() {	# row KEY LABEL HIGHER: HIGHER 1 when more is better
	local best="" v
	printf '%-28s' "$2"
	for s in $SERVERS; do
		v=${BEST[$1:$s]}
		printf '%12s' "$v"
		case $s in nbdd*) continue ;; esac
		if [ -z "$best" ] || { [ "$3" = 1 ] && [ "$v" -gt "$best" ]; } ||
		    { [ "$3" = 0 ] && [ "$v" -lt "$best" ] && [ "$v" -gt 0 ]; }; then
			best=$v
		fi
	done
	awk -v a="${BEST[$1:nbdd]}" -v b="$best" \
	    'BEGIN { printf "%11.2fx\n", b ? a / b : 0 }'
}
row rr "4K randread IOPS" 1
row rw "4K randwrite IOPS" 1
row cp "nbdcopy MB/s (default)" 1
row cp1 "nbdcopy MB/s (-C 1)" 1
# What the server costs, lower is better.
row rrc "randread CPU 0.1us/IO" 0
row rwc "randwrite CPU 0.1us/IO" 0
row cpc "nbdcopy CPU ms/GiB" 0
row cp1c "nbdcopy -C 1 CPU ms/GiB" 0
# fio's own CPU use, in percent of one core: near 100 for every server
# means the IOPS rows measure the client, not the server.
row_plain() {	# row_plain KEY LABEL
	printf '%-28s' "$2"
	for s in $SERVERS; do printf '%12s' "${BEST[$1:$s]}"; done
	printf '\n'
}
row_plain rrf "fio CPU % randread"
row_plain rwf "fio CPU % randwrite"
printf '\nnbdd idle connections: %d, RSS %d KiB -> %d KiB: %d KiB per connection' \
    "$IDLE_CONNS" "$rss0" "$rss1" "$per_conn"
printf ' (target < 1024 KiB; buffers of 512 KiB each are\nallocated but untouched while idle)\n'

# The targets (issue 13): what the server controls.
target() {	# target LABEL A B OP LIMIT: A/B against LIMIT
	awk -v l="$1" -v a="$2" -v b="$3" -v op="$4" -v t="$5" 'BEGIN {
		r = b ? a / b : 0
		ok = (op == "<=") ? (r <= t) : (r >= t)
		printf "target: %-44s %5.2fx %s %.2fx  %s\n", l, r, op, t, ok ? "met" : "NOT MET" }'
}
bestof() {	# bestof KEY: the highest among the peers
	local b=0 s
	for s in $SERVERS; do
		case $s in nbdd*) continue ;; esac
		[ "${BEST[$1:$s]}" -le "$b" ] || b=${BEST[$1:$s]}
	done
	echo "$b"
}
printf '\n'
target "server CPU per 4K read, nbdd / nbdkit" "${BEST[rrc:nbdd]}" "${BEST[rrc:nbdkit]}" "<=" 0.5
target "server CPU per 4K write, nbdd / nbdkit" "${BEST[rwc:nbdd]}" "${BEST[rwc:nbdkit]}" "<=" 0.5
target "sequential read, nbdd / best peer" "${BEST[cp:nbdd]}" "$(bestof cp)" ">=" 1.5
target "sequential read -C 1, nbdd / best peer" "${BEST[cp1:nbdd]}" "$(bestof cp1)" ">=" 1.5
if [ -n "${BEFORE_BIN:-}" ]; then
	printf '\nnbdd against nbdd-before (%s), lower is better:\n' "${BEFORE:-?}"
	for k in rrc:"CPU per 4K read" rwc:"CPU per 4K write" cpc:"CPU per GiB, nbdcopy" cp1c:"CPU per GiB, nbdcopy -C 1"; do
		awk -v l="${k#*:}" -v a="${BEST[${k%%:*}:nbdd]}" -v b="${BEST[${k%%:*}:nbdd-before]}" \
		    'BEGIN { printf "  %-28s %6.2fx\n", l, b ? a / b : 0 }'
	done
fi
note "image written with $([ "${BIG_FOLIOS:-0}" = 1 ] && echo 4 MiB || echo 4 KiB) writes; machine: $(nproc) cores, $(uname -r); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
