#!/bin/bash
# nbdd over TLS against nbdkit --tls and qemu-nbd with tls-creds-x509, in
# one run, with the same certificates (tests/lib/tls.inc: X.509, client
# certificates required and verified, the client's CN=admin, nbdd -w
# admin) on the same 1 GiB image. The servers run in one network
# namespace, the clients in another, joined by a veth pair, so the
# client's encryption and the server's are not one process's:
#   - sequential read: nbdcopy of the whole export to null:, default
#     connections and -C 1: MB/s, and the server's CPU per GiB;
#   - fio --ioengine=nbd (libnbd), 4 KiB random read and random write,
#     iodepth 32, one connection: IOPS, and the server's CPU per request.
# Servers run one at a time, in ROUNDS interleaved rounds; the best of
# the rounds counts. Then nbdd alone with each cipher the clients can
# force (GnuTLS's tls-disabled-cipher in the client's system priority
# file): AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, for the choice of
# the server's preference; and nbdd's own counts per request of a large
# read (its -v line when a TLS connection ends).
#
# With BEFORE_BIN (make bench BEFORE=REV), that build's nbdd runs in the
# same rounds, and a last table gives ours against it.
#
# usage: tests/bench/nbdd-tls.sh   (BUILD, ROUNDS, RUNTIME, SIZE_MIB)
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need_root
need fio nbdcopy nbdkit qemu-nbd certtool psktool ip
[ -x "$BIN/nbdd" ] || fail "build first: make BUILD=$BUILD"
fio --enghelp 2>/dev/null | has -w nbd || skip "this fio has no nbd engine"
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-10}
SIZE_MIB=${SIZE_MIB:-1024}
SIZE=$((SIZE_MIB * 1024 * 1024))
SRV=10.78.0.1
CLI=10.78.0.2
PORT=10809
PY=/usr/bin/python3

netns_add srv
netns_add cli
NS_S=${NS_PREFIX}srv NS_C=${NS_PREFIX}cli
ip link add "${NS_PREFIX}s" netns "$NS_S" type veth peer name "${NS_PREFIX}c" netns "$NS_C"
ip -n "$NS_S" link set "${NS_PREFIX}s" name eth0
ip -n "$NS_C" link set "${NS_PREFIX}c" name eth0
ip -n "$NS_S" addr add "$SRV/24" dev eth0
ip -n "$NS_C" addr add "$CLI/24" dev eth0
ip -n "$NS_S" link set eth0 up
ip -n "$NS_C" link set eth0 up

tls_make "$T/tls" "$SRV"
# The clients run as nobody: libnbd (fio's engine too) then reads
# $HOME/.pki/libnbd when a URI names no certificates (as root it would
# read /etc/pki/libnbd, which is the machine's).
CH=$T/client
mkdir -p "$CH/.pki"
cp -r "$TLS_CLIENT/admin" "$CH/.pki/libnbd"
chown -R nobody:nogroup "$CH"
chmod 711 "$T"
client() {
	ip netns exec "$NS_C" setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups env HOME="$CH" "$@"
}

mkdir "$T/root"
IMG=$T/root/bench.img
note "writing the $SIZE_MIB MiB image (4 KiB writes, as nbdd.sh explains)"
dd if=/dev/urandom of="$IMG" bs=4k count=$((SIZE / 4096)) status=none

SERVERS="nbdd ${BEFORE_BIN:+nbdd-before }nbdkit qemu-nbd"
peer() { [ "$1" != nbdd ] && [ "$1" != nbdd-before ]; }
uri() {
	case $1 in
	nbdkit) echo "nbds://$SRV:$PORT/" ;;
	*) echo "nbds://$SRV:$PORT/bench" ;;
	esac
}

SRV_PID=
start_server() {	# start_server NAME [LOGNAME]
	local log=${2:-$1}
	case $1 in
	nbdd)
		start_bg "$log" ip netns exec "$NS_S" "$BIN/nbdd" -v -r "$T/root" \
		    -l "$SRV" -p "$PORT" -X "$TLS_SERVER" -y -w admin ;;
	nbdd-before)
		start_bg "$log" ip netns exec "$NS_S" "$BEFORE_BIN/nbdd" -v \
		    -r "$T/root" -l "$SRV" -p "$PORT" -X "$TLS_SERVER" -y \
		    -w admin ;;
	nbdkit)
		start_bg "$log" ip netns exec "$NS_S" nbdkit -f -i "$SRV" -p "$PORT" \
		    --tls=require --tls-certificates="$TLS_SERVER" \
		    --tls-verify-peer file "$IMG" ;;
	qemu-nbd)
		start_bg "$log" ip netns exec "$NS_S" qemu-nbd -f raw -x bench \
		    -b "$SRV" -p "$PORT" -t --cache=writeback --aio=threads \
		    --object "tls-creds-x509,id=tls0,dir=$TLS_SERVER,endpoint=server,verify-peer=on" \
		    --tls-creds tls0 "$IMG" ;;
	esac
	SRV_PID=$LAST_PID
	wait_port tcp "$PORT" "$NS_S"
}

stop_server() {
	stop_pid "$SRV_PID"
	sleep 0.3
}

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }

fio_run() {	# fio_run URI randread|randwrite: sets IOPS and US (server CPU
		# per request, in tenths of a microsecond)
	local t0 t1
	sync "$IMG"
	t0=$(ticks "$SRV_PID")
	client fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs=4k \
	    --iodepth=32 --numjobs=1 --time_based=1 --runtime="$RUNTIME" \
	    --size=$SIZE --randrepeat=0 --output-format=json \
	    --output="$CH/fio.json" >"$T/fio.out" 2>&1 ||
		{ echo "fio: $(cat "$T/fio.out")" >&2; IOPS=0; US=0; return; }
	t1=$(ticks "$SRV_PID")
	IOPS=$($PY -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]
print(int(j["read"]["iops"] + j["write"]["iops"]))' "$CH/fio.json")
	US=$(( IOPS > 0 ? (t1 - t0) * 10000000 / HZ / (IOPS * RUNTIME) : 0 ))
}

copy_run() {	# copy_run URI [nbdcopy flags]: sets MBS, CPG (server CPU per
		# GiB, in milliseconds) and CLG (the client's)
	local u=$1 t0 t1 c0 c1 ct; shift
	sync "$IMG"
	c0=$(ticks "$SRV_PID")
	t0=$(date +%s%N)
	TIMEFORMAT="%U %S"
	ct=$( { time client nbdcopy "$@" "$u" null: >/dev/null 2>&1; } 2>&1 ) ||
		{ MBS=0; CPG=0; CLG=0; return; }
	t1=$(date +%s%N)
	c1=$(ticks "$SRV_PID")
	MBS=$(( SIZE * 1000 / (t1 - t0) ))
	CPG=$(( (c1 - c0) * 1000 * 1024 / HZ / SIZE_MIB ))
	CLG=$(echo "$ct" | awk -v m="$SIZE_MIB" '{ print int(($1 + $2) * 1000 * 1024 / m) }')
}

declare -A BEST
keep() { [ -n "${BEST[$1]:-}" ] && [ "${BEST[$1]}" -ge "$2" ] || BEST[$1]=$2; }
keep_low() { [ -n "${BEST[$1]:-}" ] && [ "${BEST[$1]}" -le "$2" ] || BEST[$1]=$2; }

for r in $(seq "$ROUNDS"); do
	for s in $SERVERS; do
		note "round $r: $s"
		start_server "$s"
		u=$(uri "$s")
		copy_run "$u"
		keep "cp:$s" "$MBS"; keep_low "cpc:$s" "$CPG"
		keep_low "cpk:$s" "$CLG"
		copy_run "$u" -C 1
		keep "cp1:$s" "$MBS"; keep_low "cp1c:$s" "$CPG"
		keep_low "cp1k:$s" "$CLG"
		fio_run "$u" randread
		keep "rr:$s" "$IOPS"; keep_low "rrc:$s" "$US"
		fio_run "$u" randwrite
		keep "rw:$s" "$IOPS"; keep_low "rwc:$s" "$US"
		stop_server "$s"
	done
done
grep -h 'TLS: TLS1' "$T/nbdd.log" | sed -E 's/.*TLS: //' | sort | uniq -c |
	sed 's/^/# nbdd negotiated: /'

# nbdd with each cipher, forced by the client; and its counts per
# request for nbdcopy -C 1 (256 KiB requests).
CIPHERS="AES-128-GCM AES-256-GCM CHACHA20-POLY1305"
for c in $CIPHERS; do
	{
		echo "[overrides]"
		for o in $CIPHERS; do
			[ "$o" = "$c" ] || echo "tls-disabled-cipher = $o"
		done
	} > "$CH/prio-$c"
done
for r in $(seq "$ROUNDS"); do
	for c in $CIPHERS; do
		note "round $r: nbdd, $c"
		start_server nbdd "nbdd-$c"
		u=$(uri nbdd)
		export GNUTLS_SYSTEM_PRIORITY_FILE=$CH/prio-$c
		copy_run "$u" -C 1
		keep "ccp:$c" "$MBS"; keep_low "cc:$c" "$CPG"
		keep_low "cck:$c" "$CLG"
		fio_run "$u" randread
		keep "crr:$c" "$IOPS"; keep_low "crrc:$c" "$US"
		unset GNUTLS_SYSTEM_PRIORITY_FILE
		stop_server nbdd
		grep -q "TLS: TLS1.3 $c," "$T/nbdd-$c.log" ||
			fail "the client did not get $c: $(grep 'TLS: TLS1' "$T/nbdd-$c.log" | head -1)"
	done
done

# --- the tables --------------------------------------------------------------
printf '\n%-30s' "NBD over TLS (best of $ROUNDS)"
for s in $SERVERS; do printf '%11s' "$s"; done
printf '%16s\n' "nbdd vs best"
row() {	# row KEY LABEL TARGET: higher is better; nbdd / best peer
	local best=0 v
	printf '%-30s' "$2"
	for s in $SERVERS; do
		v=${BEST[$1:$s]}
		printf '%11s' "$v"
		peer "$s" || [ "$v" -le "$best" ] || best=$v
	done
	awk -v a="${BEST[$1:nbdd]}" -v b="$best" -v t="$3" 'BEGIN {
		r = b ? a / b : 0
		printf "%8.2fx %s\n", r, (r >= t ? "ok" : "BELOW " t "x") }'
}
row_low() {	# row_low KEY LABEL TARGET: lower is better; nbdd / best peer
	local best=0 v
	printf '%-30s' "$2"
	for s in $SERVERS; do
		v=${BEST[$1:$s]}
		printf '%11s' "$v"
		peer "$s" || { [ "$best" != 0 ] && [ "$v" -ge "$best" ]; } || best=$v
	done
	awk -v a="${BEST[$1:nbdd]}" -v b="$best" -v t="$3" 'BEGIN {
		r = b ? a / b : 0
		printf "%8.2fx %s\n", r, (r <= t ? "ok" : "ABOVE " t "x") }'
}
row cp "seq read MB/s (nbdcopy)" 1.0
row cp1 "seq read MB/s (nbdcopy -C 1)" 1.0
row_low cpc "  server CPU ms/GiB" 0.7
row_low cp1c "  server CPU ms/GiB (-C 1)" 0.7
# The client's CPU, for what the server's leaves out: on one machine the
# kernel work of sending what a server has queued may run in the client's
# context, when its ACKs arrive.
row_plain() {
	printf '%-30s' "$2"
	for s in $SERVERS; do printf '%11s' "${BEST[$1:$s]}"; done
	printf '\n'
}
row_plain cpk "  client CPU ms/GiB"
row_plain cp1k "  client CPU ms/GiB (-C 1)"
row rr "4K randread IOPS" 1.0
row_low rrc "  server CPU 0.1us/read" 1.0
row rw "4K randwrite IOPS" 1.0
row_low rwc "  server CPU 0.1us/write" 1.0

if [ -n "${BEFORE_BIN:-}" ]; then
	printf '\nnbdd against nbdd-before (%s), the same rounds:\n' "${BEFORE:-?}"
	vs() {	# vs KEY LABEL: ours / before
		awk -v a="${BEST[$1:nbdd]}" -v b="${BEST[$1:nbdd-before]}" \
		    -v l="$2" 'BEGIN { printf "  %-28s %6.2fx\n", l, b ? a / b : 0 }'
	}
	vs cp "seq read MB/s (higher is better)"
	vs cp1 "seq read MB/s -C 1"
	vs rr "4K randread IOPS"
	vs rw "4K randwrite IOPS"
	vs cpc "server CPU per GiB (lower is better)"
	vs cp1c "server CPU per GiB -C 1"
	vs rrc "server CPU per 4K read"
	vs rwc "server CPU per 4K write"
fi

printf '\n%-22s%11s%11s%11s%11s\n' "nbdd, cipher forced" "MB/s -C 1" "srv ms/GiB" "cli ms/GiB" "0.1us/read"
for c in $CIPHERS; do
	printf '%-22s%11s%11s%11s%11s\n' "$c" "${BEST[ccp:$c]}" "${BEST[cc:$c]}" \
	    "${BEST[cck:$c]}" "${BEST[crrc:$c]}"
done

# One connection of SIZE in 256 KiB READs (nbdcopy -C 1): what nbdd did
# per request, from its -v line as the connection ended.
reqs=$((SIZE / (256 * 1024)))
grep -h 'TLS: .* records sent in' "$T/nbdd-AES-128-GCM.log" |
	sed -E 's/.*TLS: ([0-9]+) records sent in ([0-9]+) sendmsg, ([0-9]+) recv, ([0-9]+) pread, ([0-9]+) bytes.*/\4 \1 \2 \3 \5/' |
	sort -n | tail -1 | awk -v n="$reqs" '{
	printf "\nnbdd per 256 KiB READ over TLS (nbdcopy -C 1): %.2f pread, %.1f records, %.1f sendmsg,\n", $1 / n, $2 / n, $3 / n
	printf "%.2f recv, %.1f bytes gathered (copied besides pread, encryption, send)\n", $4 / n, $5 / n }'
note "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); AES instructions: $(grep -qw aes /proc/cpuinfo && echo yes || echo no)"
