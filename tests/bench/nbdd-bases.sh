#!/bin/bash
# Shared bases: nbdd serving one base (mode 0444) through an overlay per
# host, against nbdd serving plain writable images of the same bytes (one
# per host: what each Pi would otherwise need), nbd-server with
# copyonwrite = true and nbdkit's cow filter over the same base, side by
# side in one run. The server is in a network namespace of its own and
# every host in another (veth to a bridge), so each is another host to
# it: 1 host, then 16 hosts at once, each running fio --ioengine=nbd:
#   - 4 KiB random writes (iodepth 32), then 4 KiB random reads, then a
#     sequential read (1 MiB, iodepth 8), each RUNTIME seconds: IOPS or
#     MB/s summed over the hosts, and the server's CPU per request;
#   - nbdd's memory per overlay: RSS with OVERLAYS overlays over a 32 GiB
#     sparse base, each written across the whole disk and kept in its
#     grace period (no connection open), against none.
# Targets: the overlay at least 0.9x the plain image, and ahead of both
# peers. The best of ROUNDS interleaved rounds counts.
#
# nbdkit's cow filter keeps one overlay for all its clients: with 16
# hosts they share it (no isolation), which only makes its work lighter.
#
# usage: tests/bench/nbdd-bases.sh   (BUILD, ROUNDS, RUNTIME, SIZE_MIB,
#                                      HOSTS, OVERLAYS)
. "$(dirname "$0")/../lib/lib.sh"
need_root
need fio nbdkit nbd-server
[ -x "$BIN/nbdd" ] || fail "build first: make BUILD=$BUILD"
fio --enghelp 2>/dev/null | has -w nbd || skip "this fio has no nbd engine"
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-5}
SIZE_MIB=${SIZE_MIB:-256}
HOSTS=${HOSTS:-16}
OVERLAYS=${OVERLAYS:-16}
PY=/usr/bin/python3
SRVADDR=10.78.0.1

mkdir "$T/root" "$T/ovl"
BASE=$T/root/lab.img
note "writing the ${SIZE_MIB} MiB base and $HOSTS plain copies (4 KiB writes)"
dd if=/dev/urandom of="$BASE" bs=4k count=$((SIZE_MIB * 256)) status=none
for i in $(seq "$HOSTS"); do
	dd if="$BASE" of="$T/root/pi-$i.img" bs=4k status=none
done
chmod 444 "$BASE"

netns_add srv
SRV=${NS_PREFIX}srv
ip -n "$SRV" link add br0 type bridge
ip -n "$SRV" addr add "$SRVADDR/16" dev br0
ip -n "$SRV" link set br0 up
for i in $(seq "$HOSTS"); do
	netns_add "h$i"
	ip -n "$SRV" link add "v$i" type veth peer name eth0 netns "${NS_PREFIX}h$i"
	ip -n "$SRV" link set "v$i" master br0 up
	ip -n "${NS_PREFIX}h$i" addr add "10.78.1.$i/16" dev eth0
	ip -n "${NS_PREFIX}h$i" link set eth0 up
done

cat >"$T/nbd-server.conf" <<CONF
[generic]
    listenaddr = $SRVADDR
    port = 10809
    allowlist = true
    user = root
    group = root
[lab]
    exportname = $BASE
    copyonwrite = true
CONF

SERVERS="overlay plain nbd-server nbdkit-cow"
uri() {	# uri SERVER HOST
	case $1 in
	plain) echo "nbd://$SRVADDR/pi-$2" ;;
	nbdkit-cow) echo "nbd://$SRVADDR/" ;;
	*) echo "nbd://$SRVADDR/lab" ;;
	esac
}

SRV_PID=
start_server() {
	case $1 in
	overlay|plain)
		start_bg "nbdd-$1" ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" \
		    -o "$T/ovl" -q 0 -g 0 -c 8 -m 256
		SRV_PID=$LAST_PID ;;
	nbd-server)
		rm -f "$T/nbd-server.pid"
		ip netns exec "$SRV" nbd-server -C "$T/nbd-server.conf" \
		    -p "$T/nbd-server.pid" >"$T/nbd-server.log" 2>&1
		for _ in $(seq 50); do [ -s "$T/nbd-server.pid" ] && break; sleep 0.1; done
		SRV_PID=$(cat "$T/nbd-server.pid")
		CLEANUPS+=("kill $SRV_PID 2>/dev/null") ;;
	nbdkit-cow)
		start_bg nbdkit ip netns exec "$SRV" nbdkit -f -i "$SRVADDR" \
		    -p 10809 --filter=cow file "$BASE"
		SRV_PID=$LAST_PID ;;
	esac
	wait_port tcp 10809 "$SRV"
}

stop_server() {
	if [ "$1" = nbd-server ]; then
		kill "$SRV_PID"
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		rm -f "$T"/root/*.diff* "$T"/root/lab.img-* 2>/dev/null
	else
		stop_pid "$SRV_PID"
	fi
	sleep 0.3
}

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }

# run SERVER N RW BS QD: fio on hosts 1..N at once; sets SUM (IOPS, or
# KB/s for sequential reads) and US (server CPU, tenths of a microsecond
# per request).
run() {
	local s=$1 n=$2 rw=$3 bs=$4 qd=$5 t0 t1 i pids=()
	t0=$(ticks "$SRV_PID")
	for i in $(seq "$n"); do
		ip netns exec "${NS_PREFIX}h$i" fio --name=b --ioengine=nbd \
		    --uri="$(uri "$s" "$i")" --rw="$rw" --bs="$bs" --iodepth="$qd" \
		    --numjobs=1 --time_based=1 --runtime="$RUNTIME" \
		    --size=$((SIZE_MIB * 1048576)) --randrepeat=0 \
		    --output-format=json --output="$T/fio-$i.json" \
		    >/dev/null 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	sleep 0.3	# nbd-server's children exit and are reaped
	t1=$(ticks "$SRV_PID")
	read -r SUM IOS < <($PY - "$T" "$n" "$rw" <<'EOF'
import json, sys
t, n, rw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = ios = 0
for i in range(1, n + 1):
    try:
        j = json.load(open("%s/fio-%d.json" % (t, i)))["jobs"][0]
    except Exception:
        continue
    io = j["read"]["total_ios"] + j["write"]["total_ios"]
    ios += io
    s += j["read"]["bw"] + j["write"]["bw"] if rw == "read" else \
        j["read"]["iops"] + j["write"]["iops"]
print(int(s), ios)
EOF
)
	US=$(( IOS > 0 ? (t1 - t0) * 10000000 / HZ / IOS : 0 ))
}

declare -A BEST
keep() { [ -n "${BEST[$1]:-}" ] && [ "${BEST[$1]}" -ge "$2" ] || BEST[$1]=$2; }
keep_low() { [ -n "${BEST[$1]:-}" ] && [ "${BEST[$1]}" -le "$2" ] || BEST[$1]=$2; }

for r in $(seq "$ROUNDS"); do
	for s in $SERVERS; do
		for n in 1 "$HOSTS"; do
			note "round $r: $s, $n host(s)"
			start_server "$s"
			run "$s" "$n" randwrite 4k 32
			keep "rw$n:$s" "$SUM"; keep_low "rwc$n:$s" "$US"
			run "$s" "$n" randread 4k 32
			keep "rr$n:$s" "$SUM"; keep_low "rrc$n:$s" "$US"
			run "$s" "$n" read 1m 8
			keep "sr$n:$s" $((SUM / 1000)); keep_low "src$n:$s" "$US"
			stop_server "$s"
		done
	done
done

# Memory per overlay: hosts write one block in every 128 MiB of a 32 GiB
# sparse base (so every page of their maps is touched), then go without
# DISC: their overlays wait out the grace period with no connection.
truncate -s 32G "$T/root/big.img"
chmod 444 "$T/root/big.img"
start_bg nbdd-mem ip netns exec "$SRV" "$BIN/nbdd" -r "$T/root" -o "$T/ovl" -g 600 -m 256
SRV_PID=$LAST_PID
wait_port tcp 10809 "$SRV"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cat >"$T/spread.py" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.connect_uri(sys.argv[1])
for off in range(0, h.get_size(), 128 << 20):
    h.pwrite(b"\x01" * 4096, off)
# No shutdown: no DISC, the overlay stays for the grace period.
EOF
# A first host warms up the allocator and the thread; then measure.
ip netns exec "${NS_PREFIX}h$HOSTS" $PY "$T/spread.py" "nbd://$SRVADDR/big" ||
    fail "writing across the big base"
sleep 0.5
rss0=$(rss "$SRV_PID")
for i in $(seq $((OVERLAYS < HOSTS ? OVERLAYS : HOSTS - 1))); do
	ip netns exec "${NS_PREFIX}h$i" $PY "$T/spread.py" "nbd://$SRVADDR/big" ||
	    fail "writing across the big base from host $i"
done
sleep 0.5
rss1=$(rss "$SRV_PID")
nov=$((OVERLAYS < HOSTS ? OVERLAYS : HOSTS - 1))
stop_pid "$SRV_PID"

# The table.
label() {
	case $1 in
	rw*) echo "4K randwrite IOPS" ;; rr*) echo "4K randread IOPS" ;;
	sr*) echo "seq read MB/s" ;;
	esac
}
printf '\n%-28s' "best of $ROUNDS, ${SIZE_MIB} MiB"
for s in $SERVERS; do printf '%11s' "$s"; done
printf '%11s%11s\n' "ovl/plain" "ovl/peers"
for n in 1 "$HOSTS"; do
	for k in rw rr sr; do
		printf '%-28s' "$(label $k), $n host$([ "$n" = 1 ] || echo s)"
		for s in $SERVERS; do printf '%11s' "${BEST[$k$n:$s]}"; done
		awk -v o="${BEST[$k$n:overlay]}" -v p="${BEST[$k$n:plain]}" \
		    -v a="${BEST[$k$n:nbd-server]}" -v b="${BEST[$k$n:nbdkit-cow]}" \
		    'BEGIN { m = a > b ? a : b; printf "%10.2fx%10.2fx\n", p ? o / p : 0, m ? o / m : 0 }'
	done
	for k in rwc rrc src; do
		printf "%-28s" "  server CPU 0.1us/req ($k)"
		for s in $SERVERS; do printf '%11s' "${BEST[$k$n:$s]}"; done
		printf '\n'
	done
done
printf '\nnbdd memory per overlay over a 32 GiB base: %d overlays, RSS %d KiB -> %d KiB: %d KiB each\n' \
    "$nov" "$rss0" "$rss1" $(( (rss1 - rss0) / nov ))
printf '(1 bit per 4 KiB block: 1024 KiB for 32 GiB)\n'
note "machine: $(nproc) cores, $(uname -r)"
