#!/bin/bash
# nbdd over Ceph RBD (issue 26), against nbdd over a local file of the
# same size and against qemu-nbd with its rbd driver, in one run on one
# real single-node cluster (tests/lib/ceph.inc: a monitor and a memstore OSD,
# cephx). The servers run in one network namespace, joined to the
# cluster's storage network; the client runs in another, joined to the
# server's by a veth:
#   - fio --ioengine=nbd (libnbd), 4 KiB random read and random write,
#     iodepth 32, one connection: IOPS;
#   - nbdcopy of the whole image to null:, COPIES (4) times: MiB/s;
#   - the server's CPU (nbdd or qemu-nbd alone, librbd's threads included)
#     per request and per GiB; the cluster's (ceph-osd and ceph-mon) beside
#     it as context: it is the same work for every server over RBD.
# Then shared bases in the cluster (issue 26 item 3): what an RBD clone
# per Pi would cost against today's local overlay over an RBD snapshot:
#   - the time to make a clone of a protected snapshot (rbd_clone3
#     through the Python binding on one connection, and the rbd command a
#     script would run);
#   - 4 KiB random read, then random write, on a fresh clone (reads fall
#     through to the parent; first writes copy up whole objects from it)
#     through qemu-nbd and through nbdd (a clone is a writable image),
#     against nbdd serving the snapshot as a shared base with a fresh
#     local overlay.
# Servers run one at a time in ROUNDS interleaved rounds; the tables give
# the median of the rounds and the ratios nbdd-rbd / qemu-nbd-rbd. On this
# shared 2-core machine the client, the server and the cluster share the
# cores: IOPS are noisy, server CPU per request much less so.
#
# qemu-nbd runs with --cache=writeback, its default, which turns librbd's
# cache on as nbdd leaves it (rbd_cache=true, writethrough until the
# first flush; fio sends none).
#
# With the defaults (ROUNDS=3, RUNTIME=5) it takes about 6 minutes on a
# loaded 2-core machine, the cluster's start (printed) among them.
#
# usage: make bench BENCH=rbd, or tests/bench/rbd.sh
#        (BUILD, ROUNDS, RUNTIME, SIZE_MIB, COPIES, CLONES, SERVERS, BASES,
#        PROFILE)
. "$(dirname "$0")/../lib/lib.sh"
need_root
need fio nbdcopy qemu-nbd
[ -x "$BIN/nbdd" ] || fail "build first: make BUILD=$BUILD"
fio --enghelp 2>/dev/null | has -w nbd || skip "this fio has no nbd engine"
qemu-img --help | has -w rbd ||
	skip "qemu-nbd has no rbd driver (Debian: qemu-block-extra)"
[ "${PROFILE:-0}" = 0 ] || need perf
. "$TOP/tests/lib/ceph.inc"
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-5}
SIZE_MIB=${SIZE_MIB:-256}
COPIES=${COPIES:-4}
CLONES=${CLONES:-16}
SIZE=$((SIZE_MIB * 1024 * 1024))
PY=/usr/bin/python3	# Debian's, with the rados and rbd modules
SRV=10.79.0.1
PORT_NBDD=10809
PORT_QEMU=10812

ceph_start
netns_add srv
netns_add cli
SNS=${NS_PREFIX}srv CNS=${NS_PREFIX}cli
ceph_attach srv 10.99.0.2
ip -n "$SNS" link add eth0 type veth peer name eth0 netns "$CNS"
ip -n "$SNS" addr add "$SRV/24" dev eth0
ip -n "$CNS" addr add 10.79.0.2/24 dev eth0
ip -n "$SNS" link set eth0 up
ip -n "$CNS" link set eth0 up
incli() { ip netns exec "$CNS" "$@"; }
CLIENT=$(ceph_client bench)	# ID@CONF
CLIENT_ID=${CLIENT%%@*} CLIENT_CONF=${CLIENT#*@}

# The same random bytes in Ceph (rbd/bench, written to; rbd/base with the
# snapshot gold, the shared base) and in a local file written in 4 KiB
# writes, as tests/bench/nbdd.sh explains.
mkdir "$T/root" "$T/ovl"
note "writing the ${SIZE_MIB} MiB image: a local file and two RBD images"
dd if=/dev/urandom of="$T/data" bs=1M count="$SIZE_MIB" status=none
dd if="$T/data" of="$T/root/file.img" bs=4k status=none
rbd import --no-progress "$T/data" rbd/bench || fail "rbd import failed"
rbd import --no-progress "$T/data" rbd/base || fail "rbd import failed"
rbd snap create rbd/base@gold >/dev/null || fail "rbd snap create failed"
rbd snap protect rbd/base@gold || fail "rbd snap protect failed"
rm -f "$T/data"
ln -s rbd:rbd/bench "$T/root/rbd.img"
ln -s rbd:rbd/base@gold "$T/root/gold.img"

SRV_PID=
# start_server SERVER [CLONE]: nbdd (every export), or qemu-nbd on
# rbd/bench or on the clone CLONE.
start_server() {
	local nbdd
	case $1 in
	nbdd*)
		rm -rf "$T/ovl" && mkdir "$T/ovl"
		nbdd=$BIN/nbdd
		[ "${1%-before}" = "$1" ] || nbdd=$BEFORE_BIN/nbdd
		start_bg "$1" ip netns exec "$SNS" "$nbdd" -r "$T/root" \
		    -l "$SRV" -p "$PORT_NBDD" -C "$CLIENT" -o "$T/ovl" -q 0 -g 600
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_NBDD" "$SNS" ;;
	qemu*)
		start_bg "$1" ip netns exec "$SNS" qemu-nbd -x bench -b "$SRV" \
		    -p "$PORT_QEMU" -t -e 8 --cache=writeback --image-opts \
		    "driver=rbd,pool=rbd,image=${2:-bench},conf=$CLIENT_CONF,user=$CLIENT_ID"
		SRV_PID=$LAST_PID; wait_port tcp "$PORT_QEMU" "$SNS" ;;
	esac
}
stop_server() { stop_pid "$SRV_PID"; sleep 0.3; }
uri() {	# uri SERVER [CLONE]
	case $1 in
	nbdd-rbd|nbdd-rbd-before) echo "nbd://$SRV:$PORT_NBDD/rbd" ;;
	nbdd-file) echo "nbd://$SRV:$PORT_NBDD/file" ;;
	nbdd-overlay) echo "nbd://$SRV:$PORT_NBDD/gold" ;;
	nbdd-clone) echo "nbd://$SRV:$PORT_NBDD/$2" ;;
	qemu*) echo "nbd://$SRV:$PORT_QEMU/bench" ;;
	esac
}

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
ceph_ticks() { echo $(( $(ticks "$CEPH_OSD_PID") + $(ticks "$CEPH_MON_PID") )); }

# PROFILE=1: the server's system calls and context switches per request
# while fio or nbdcopy runs, by thread name (perf stat on its
# tracepoints), printed as they come: how many completions one wakeup of
# the connection's thread answers, how many sends a reply takes.
# PROFILE=record: where the server's CPU goes (perf record, by function;
# PROFILE_DIR=DIR keeps each perf.data there).
PERF_PID=
EVENTS=context-switches,page-faults
for e in poll ppoll epoll_wait read readv write writev sendmsg sendto recvfrom recvmsg futex; do
	EVENTS=$EVENTS,syscalls:sys_enter_$e
done
prof_start() {
	case ${PROFILE:-0} in
	1) start_bg perf perf stat --per-thread -x, -e "$EVENTS" -p "$SRV_PID" \
	    -o "$T/perf.csv" ;;
	record) start_bg perf perf record -g -p "$SRV_PID" -o "$T/perf.data" ;;
	*) return 0 ;;
	esac
	PERF_PID=$LAST_PID
	sleep 0.5
}
prof_stop() {	# prof_stop LABEL REQUESTS
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID"; wait "$PERF_PID" || true
	PERF_PID=
	if [ "$PROFILE" = record ]; then
		[ -z "${PROFILE_DIR:-}" ] || cp "$T/perf.data" "$PROFILE_DIR/$CUR-$1.data"
		perf report -i "$T/perf.data" --no-children --sort dso,sym \
		    --percent-limit 1.5 --stdio -g none 2>/dev/null |
		    grep -v '^#' | grep . | sed "s/^/  $1 /" | head -40
		return 0
	fi
	awk -F, -v l="$1" -v n="$2" '/^[^#]/ && NF > 3 {
		t = $1; sub(/-[0-9]+$/, "", t)
		e = $4; sub(/syscalls:sys_enter_/, "", e)
		if ($2 + 0 > 0) c[t " " e] += $2 }
	END { for (k in c) if (c[k] / n >= 0.01) printf "  %s %-30s %8.3f per request\n", l, k, c[k] / n }' \
	    "$T/perf.csv" | sort
}

# fio_run URI randread|randwrite: sets IOPS, US and CEPH_US (server's and
# cluster's CPU, tenths of a microsecond per request).
fio_run() {
	local t0 c0 t1 c1
	prof_start
	t0=$(ticks "$SRV_PID"); c0=$(ceph_ticks)
	incli fio --name=bench --ioengine=nbd --uri="$1" --rw="$2" --bs=4k \
	    --iodepth=32 --numjobs=1 --time_based=1 --runtime="$RUNTIME" \
	    --randrepeat=0 --output-format=json --output="$T/fio.json" \
	    >"$T/fio.out" 2>&1 || fail "fio $2 on $1: $(tail -3 "$T/fio.out")"
	t1=$(ticks "$SRV_PID"); c1=$(ceph_ticks)
	IOPS=$($PY -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]
print(int(j["read"]["iops"] + j["write"]["iops"]))' "$T/fio.json")
	[ "$IOPS" -gt 0 ] || fail "fio $2 on $1: no I/O done"
	prof_stop "$2" $((IOPS * RUNTIME))
	US=$(( (t1 - t0) * 10000000 / HZ / (IOPS * RUNTIME) ))
	CEPH_US=$(( (c1 - c0) * 10000000 / HZ / (IOPS * RUNTIME) ))
}

# copy_run URI: sets MIBS (MiB/s of URI -> null:), MS and CEPH_MS (CPU
# milliseconds per GiB). COPIES copies in a row: the CPU clock moves in
# ticks (10 ms), and one copy of the image takes a few dozen of them.
copy_run() {
	local t0 t1 c0 c1 w0 w1 i
	prof_start
	t0=$(ticks "$SRV_PID"); c0=$(ceph_ticks); w0=$(date +%s%N)
	for i in $(seq "$COPIES"); do
		incli nbdcopy "$1" null: || fail "nbdcopy of $1 failed"
	done
	w1=$(date +%s%N); t1=$(ticks "$SRV_PID"); c1=$(ceph_ticks)
	prof_stop nbdcopy $((SIZE * COPIES / 262144))
	MIBS=$(( SIZE * COPIES * 1000 / (w1 - w0) * 1000000 / 1048576 ))
	MS=$(( (t1 - t0) * 1000 * 1024 / HZ / (SIZE_MIB * COPIES) ))
	CEPH_MS=$(( (c1 - c0) * 1000 * 1024 / HZ / (SIZE_MIB * COPIES) ))
}

declare -A VALS
add() { VALS[$1]="${VALS[$1]:-} $2"; }	# add KEY VALUE: one round's figure
median() {	# median KEY
	printf '%s\n' ${VALS[$1]:-0} | sort -n |
	    awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# BEFORE_BIN (tests/bench/run, BEFORE=REV): that build's nbdd over RBD as
# one more server, nbdd-rbd-before, if that build serves images in Ceph
# at all (its usage names -C).
if [ -n "${BEFORE_BIN:-}" ] &&
    ! "$BEFORE_BIN/nbdd" -h 2>&1 | grep -q -- '-C \[ID@\]CONF'; then
	echo "(nbdd of ${BEFORE:-the BEFORE build} has no -C: it serves no" \
	    "image in Ceph, so no row against it)"
	BEFORE_BIN=
fi
SERVERS=${SERVERS:-nbdd-rbd ${BEFORE_BIN:+nbdd-rbd-before }nbdd-file qemu-rbd}
t_start=$(date +%s)
for r in $(seq "$ROUNDS"); do
	for s in $SERVERS; do
		note "round $r: $s"
		CUR=$s
		start_server "$s"
		u=$(uri "$s")
		[ "${PROFILE:-0}" != 1 ] ||
			note "$s: $(incli nbdinfo "$u" | grep -E 'can_multi_conn|block_size_pref' | tr -s ' \t\n' ' ')"
		fio_run "$u" randread
		add "rr:$s" "$IOPS"; add "rrc:$s" "$US"; add "rrx:$s" "$CEPH_US"
		fio_run "$u" randwrite
		add "rw:$s" "$IOPS"; add "rwc:$s" "$US"; add "rwx:$s" "$CEPH_US"
		copy_run "$u"
		add "cp:$s" "$MIBS"; add "cpc:$s" "$MS"; add "cpx:$s" "$CEPH_MS"
		stop_server
	done
done

# Item 3: clones of the snapshot, one per Pi, made through librbd on one
# connection (rbd_clone3's own cost) and by the rbd command.
note "making $CLONES clones of rbd/base@gold"
ip netns exec "$CEPH_NS" $PY - "$CEPH_DIR/client-$CLIENT_ID/ceph.conf" "$CLIENT_ID" \
    "$CLONES" >"$T/clone.out" <<'PY' || fail "cloning: $(tail -3 "$T/clone.out")"
import rados, rbd, sys, time
conf, cid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with rados.Rados(conffile=conf, rados_id=cid) as c, c.open_ioctx("rbd") as io:
    ms = []
    for i in range(n):
        t = time.monotonic()
        rbd.RBD().clone(io, "base", "gold", io, "lib-%d" % i, features=None)
        ms.append((time.monotonic() - t) * 1000)
    rm = []
    for i in range(n):
        t = time.monotonic()
        rbd.RBD().remove(io, "lib-%d" % i)
        rm.append((time.monotonic() - t) * 1000)
    ms.sort(); rm.sort()
    print("%.1f %.1f %.1f" % (ms[n // 2], ms[-1], rm[n // 2]))
PY
read -r CLONE_MS CLONE_MAX_MS RM_MS <"$T/clone.out"
cli_ms=()
for i in $(seq 3); do
	w0=$(date +%s%N)
	ip netns exec "$CEPH_NS" /usr/bin/rbd -c "$CLIENT_CONF" --id "$CLIENT_ID" \
	    clone rbd/base@gold "rbd/cli-$i" || fail "rbd clone failed"
	w1=$(date +%s%N)
	cli_ms+=($(( (w1 - w0) / 1000000 )))
	rbd rm --no-progress "rbd/cli-$i" || fail "rbd rm failed"
done
CLI_MS=$(printf '%s\n' "${cli_ms[@]}" | sort -n | sed -n 2p)

# A fresh clone (rbd/pi-R-SERVER) for each server in each round, removed
# after: a Pi's first minutes after its class moved to a new snapshot.
BASES=${BASES-nbdd-overlay nbdd-clone qemu-clone}
for r in $(seq "$ROUNDS"); do
	for s in $BASES; do
		note "round $r: $s"
		clone=
		if [ "$s" != nbdd-overlay ]; then
			clone=pi-$r-$s
			rbd clone rbd/base@gold "rbd/$clone" || fail "rbd clone failed"
			ln -sfn "rbd:rbd/$clone" "$T/root/$clone.img"
		fi
		start_server "$s" "$clone"
		u=$(uri "$s" "$clone")
		fio_run "$u" randread
		add "br:$s" "$IOPS"; add "brc:$s" "$US"; add "brx:$s" "$CEPH_US"
		fio_run "$u" randwrite
		add "bw:$s" "$IOPS"; add "bwc:$s" "$US"; add "bwx:$s" "$CEPH_US"
		stop_server
		if [ -n "$clone" ]; then
			rm -f "$T/root/$clone.img"
			rbd rm --no-progress "rbd/$clone" || fail "rbd rm $clone failed"
		fi
	done
done
t_end=$(date +%s)

# table TITLE SERVERS NUM DEN ROW...: medians, and the ratio NUM / DEN;
# each ROW is KEY:LABEL.
table() {
	local title=$1 servers=$2 num=$3 den=$4 row k s; shift 4
	printf '\n%-34s' "$title"
	for s in $servers; do printf '%13s' "$s"; done
	printf '%13s\n' "$num/$den" | sed 's/nbdd-//; s/qemu-/q-/'
	for row; do
		k=${row%%:*}
		printf '%-34s' "${row#*:}"
		for s in $servers; do printf '%13s' "$(median "$k:$s")"; done
		awk -v a="$(median "$k:$num")" -v b="$(median "$k:$den")" \
		    'BEGIN { printf "%12.2fx\n", b ? a / b : 0 }'
	done
}
table "median of $ROUNDS, ${SIZE_MIB} MiB" "$SERVERS" nbdd-rbd qemu-rbd \
    "rr:4K randread IOPS" "rw:4K randwrite IOPS" "cp:nbdcopy MiB/s" \
    "rrc:randread server CPU 0.1us/IO" "rwc:randwrite server CPU 0.1us/IO" \
    "cpc:nbdcopy server CPU ms/GiB" \
    "rrx:randread Ceph CPU 0.1us/IO" "rwx:randwrite Ceph CPU 0.1us/IO" \
    "cpx:nbdcopy Ceph CPU ms/GiB"
printf '(nbdd/file ratios: randread %s, randwrite %s, nbdcopy %s)\n' \
    "$(awk -v a="$(median rr:nbdd-rbd)" -v b="$(median rr:nbdd-file)" 'BEGIN { printf "%.2fx", a / b }')" \
    "$(awk -v a="$(median rw:nbdd-rbd)" -v b="$(median rw:nbdd-file)" 'BEGIN { printf "%.2fx", a / b }')" \
    "$(awk -v a="$(median cp:nbdd-rbd)" -v b="$(median cp:nbdd-file)" 'BEGIN { printf "%.2fx", a / b }')"

if [ -n "${BEFORE_BIN:-}" ]; then
	printf 'nbdd-rbd against nbdd-rbd-before (%s):' "${BEFORE:-?}"
	for k in rr:randread rw:randwrite cp:nbdcopy cpc:"CPU/GiB"; do
		awk -v l="${k#*:}" -v a="$(median "${k%%:*}:nbdd-rbd")" \
		    -v b="$(median "${k%%:*}:nbdd-rbd-before")" \
		    'BEGIN { printf " %s %.2fx", l, b ? a / b : 0 }'
	done
	printf '\n'
fi
[ -z "$BASES" ] ||
table "shared base, fresh overlay or clone" "$BASES" nbdd-overlay qemu-clone \
    "br:4K randread IOPS (fresh)" "bw:4K randwrite IOPS (first writes)" \
    "brc:randread server CPU 0.1us/IO" "bwc:randwrite server CPU 0.1us/IO" \
    "brx:randread Ceph CPU 0.1us/IO" "bwx:randwrite Ceph CPU 0.1us/IO"
printf 'clone of a protected snapshot: rbd_clone3 median %s ms (max %s) over %d,\n' \
    "$CLONE_MS" "$CLONE_MAX_MS" "$CLONES"
printf '  the rbd command %s ms (its connection included); removal %s ms\n' \
    "$CLI_MS" "$RM_MS"

# The targets (issue 26 item 6).
target() {	# target LABEL A B OP LIMIT
	awk -v l="$1" -v a="$2" -v b="$3" -v op="$4" -v t="$5" 'BEGIN {
		r = b ? a / b : 0
		ok = (op == "<=") ? (r <= t) : (r >= t)
		printf "target: %-44s %5.2fx %s %.2fx  %s\n", l, r, op, t, ok ? "met" : "NOT MET" }'
}
printf '\n'
target "4K randread IOPS, nbdd-rbd / qemu-rbd" "$(median rr:nbdd-rbd)" "$(median rr:qemu-rbd)" ">=" 1
target "4K randwrite IOPS, nbdd-rbd / qemu-rbd" "$(median rw:nbdd-rbd)" "$(median rw:qemu-rbd)" ">=" 1
target "nbdcopy MiB/s, nbdd-rbd / qemu-rbd" "$(median cp:nbdd-rbd)" "$(median cp:qemu-rbd)" ">=" 1
target "CPU per 4K read, nbdd-rbd / qemu-rbd" "$(median rrc:nbdd-rbd)" "$(median rrc:qemu-rbd)" "<=" 1
target "CPU per 4K write, nbdd-rbd / qemu-rbd" "$(median rwc:nbdd-rbd)" "$(median rwc:qemu-rbd)" "<=" 1
target "CPU per GiB copied, nbdd-rbd / qemu-rbd" "$(median cpc:nbdd-rbd)" "$(median cpc:qemu-rbd)" "<=" 1
note "$(printf 'cluster up in %.1f s; measured in %d s; %d cores, %s; load average %s' \
    "$CEPH_START_SECS" $((t_end - t_start)) "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)")"
