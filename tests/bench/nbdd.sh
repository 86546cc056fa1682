#!/bin/bash
# nbdd against nbd-server, nbdkit (file plugin) and qemu-nbd, side by side
# in one run on the same 2 GiB image, all on loopback:
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
# usage: tests/bench/nbdd.sh   (BUILD, ROUNDS, RUNTIME, IDLE_CONNS, BIG_FOLIOS)
. "$(dirname "$0")/../lib.sh"
need fio nbdcopy nbdkit qemu-nbd nbd-server
[ -x "$BIN/nbdd" ] || fail "build first: make BUILD=$BUILD"
fio --enghelp 2>/dev/null | grep -qw nbd || skip "this fio has no nbd engine"
ROUNDS=${ROUNDS:-5}
RUNTIME=${RUNTIME:-10}
IDLE_CONNS=${IDLE_CONNS:-64}
SIZE=$((2 * 1024 * 1024 * 1024))
PY=/usr/bin/python3
RAW="$PY $TOP/tests/integration/nbdd-raw.py"

mkdir "$T/root"
IMG=$T/root/bench.img
note "writing the 2 GiB image ($([ "${BIG_FOLIOS:-0}" = 1 ] && echo 4 MiB || echo 4 KiB) writes)"
if [ "${BIG_FOLIOS:-0}" = 1 ]; then
	dd if=/dev/urandom of="$IMG" bs=4M count=512 status=none
else
	dd if=/dev/urandom of="$IMG" bs=4k count=524288 status=none
fi

PORT_NBDD=$(free_port tcp)
PORT_NBDSRV=$(free_port tcp)
PORT_NBDKIT=$(free_port tcp)
PORT_QEMU=$(free_port tcp)
cat >"$T/nbd-server.conf" <<CONF
[generic]
    listenaddr = 127.0.0.1
    port = $PORT_NBDSRV
    allowlist = true
    user = root
    group = root
[bench]
    exportname = $IMG
CONF

SERVERS="nbdd nbd-server nbdkit qemu-nbd"
uri() {
	case $1 in
	nbdd) echo "nbd://127.0.0.1:$PORT_NBDD/bench" ;;
	nbd-server) echo "nbd://127.0.0.1:$PORT_NBDSRV/bench" ;;
	nbdkit) echo "nbd://127.0.0.1:$PORT_NBDKIT/" ;;
	qemu-nbd) echo "nbd://127.0.0.1:$PORT_QEMU/bench" ;;
	esac
}

SRV_PID=
start_server() {
	case $1 in
	nbdd)
		start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$PORT_NBDD"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_NBDD" ;;
	nbd-server)
		# Foreground (-d) serves a single client; so it daemonizes
		# and is ended by the pid it writes.
		rm -f "$T/nbd-server.pid"
		nbd-server -C "$T/nbd-server.conf" -p "$T/nbd-server.pid" \
		    >"$T/nbd-server.log" 2>&1
		for _ in $(seq 50); do [ -s "$T/nbd-server.pid" ] && break; sleep 0.1; done
		SRV_PID=$(cat "$T/nbd-server.pid")
		CLEANUPS+=("kill $SRV_PID 2>/dev/null")
		wait_port tcp "$PORT_NBDSRV" ;;
	nbdkit)
		start_bg nbdkit nbdkit -f -i 127.0.0.1 -p "$PORT_NBDKIT" file "$IMG"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_NBDKIT" ;;
	qemu-nbd)
		start_bg qemu-nbd qemu-nbd -f raw -x bench -b 127.0.0.1 \
		    -p "$PORT_QEMU" -t --cache=writeback --aio=threads "$IMG"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_QEMU" ;;
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
	fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs=4k \
	    --iodepth=32 --numjobs=1 --time_based=1 --runtime="$RUNTIME" \
	    --size=$SIZE --randrepeat=0 --output-format=json \
	    --output="$T/fio.json" >/dev/null 2>&1 || { FIO_IOPS=0; FIO_CPU=0; return; }
	sleep 0.2	# nbd-server's child exits and is reaped
	t1=$(ticks "$SRV_PID")
	read -r FIO_IOPS FIO_CPU < <($PY -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]
print(int(j["read"]["iops"] + j["write"]["iops"]), int(j["usr_cpu"] + j["sys_cpu"]))' "$T/fio.json")
	FIO_US=$(( FIO_IOPS > 0 ? (t1 - t0) * 10000000 / HZ / (FIO_IOPS * RUNTIME) : 0 ))
}

copy_mbs() {	# copy_mbs URI [nbdcopy flags]: MB/s of URI -> null:
	local u=$1 t0 t1; shift
	sync "$IMG"
	t0=$(date +%s%N)
	nbdcopy "$@" "$u" null: || { echo 0; return; }
	t1=$(date +%s%N)
	echo $(( SIZE * 1000 / (t1 - t0) ))	# bytes/ns*1000 = MB/s
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
		keep "cp:$s" "$(copy_mbs "$u")"
		keep "cp1:$s" "$(copy_mbs "$u" -C 1)"
		stop_server "$s"
	done
done

# Memory: nbdd's RSS with IDLE_CONNS idle connections against none.
start_server nbdd
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
rss0=$(rss "$SRV_PID")
start_bg idle $RAW "$PORT_NBDD" hold bench "$IDLE_CONNS" "$T/idle-done"
idle=$LAST_PID
for _ in $(seq 100); do grep -q holding "$T/idle.log" && break; sleep 0.1; done
grep -q holding "$T/idle.log" || fail "could not open $IDLE_CONNS idle connections"
sleep 0.5
rss1=$(rss "$SRV_PID")
touch "$T/idle-done"
wait "$idle"
stop_server nbdd
per_conn=$(( (rss1 - rss0) / IDLE_CONNS ))

# The table.
printf '\n%-26s' "test (best of $ROUNDS)"
for s in $SERVERS; do printf '%12s' "$s"; done
printf '%14s\n' "nbdd/best"
row() {	# row KEY LABEL TARGET
	local best=0 v
	printf '%-26s' "$2"
	for s in $SERVERS; do
		v=${BEST[$1:$s]}
		printf '%12s' "$v"
		[ "$s" = nbdd ] || [ "$v" -le "$best" ] || best=$v
	done
	awk -v a="${BEST[$1:nbdd]}" -v b="$best" -v t="$3" \
	    'BEGIN { r = b ? a / b : 0; printf "%9.2fx %s\n", r, (r >= t ? "ok" : "BELOW " t "x") }'
}
row rr "4K randread IOPS" 1.3
row rw "4K randwrite IOPS" 1.3
row cp "nbdcopy MB/s (default)" 1.2
row cp1 "nbdcopy MB/s (-C 1)" 1.2
# Server CPU per request, in tenths of a microsecond (lower is better;
# the ratio is best peer / nbdd). fio's one thread is often the
# bottleneck on 2 cores; this row shows what the server costs.
row_low() {	# row_low KEY LABEL
	local best=0 v
	printf '%-26s' "$2"
	for s in $SERVERS; do
		v=${BEST[$1:$s]}
		printf '%12s' "$v"
		[ "$s" = nbdd ] || { [ "$best" != 0 ] && [ "$v" -ge "$best" ]; } || best=$v
	done
	awk -v a="${BEST[$1:nbdd]}" -v b="$best" \
	    'BEGIN { printf "%9.2fx less CPU\n", a ? b / a : 0 }'
}
row_low rrc "randread CPU 0.1us/IO"
row_low rwc "randwrite CPU 0.1us/IO"
# fio's own CPU use, in percent of one core: near 100 for every server
# means the IOPS rows measure the client, not the server.
row_plain() {	# row_plain KEY LABEL
	printf '%-26s' "$2"
	for s in $SERVERS; do printf '%12s' "${BEST[$1:$s]}"; done
	printf '\n'
}
row_plain rrf "fio CPU % randread"
row_plain rwf "fio CPU % randwrite"
printf '\nnbdd idle connections: %d, RSS %d KiB -> %d KiB: %d KiB per connection' \
    "$IDLE_CONNS" "$rss0" "$rss1" "$per_conn"
printf ' (target < 1024 KiB; buffers of 512 KiB each are\nallocated but untouched while idle)\n'
note "image written with $([ "${BIG_FOLIOS:-0}" = 1 ] && echo 4 MiB || echo 4 KiB) writes; machine: $(nproc) cores, $(uname -r)"
