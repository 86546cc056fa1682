#!/bin/bash
# The boot storm, measured (tests/storm/lan.inc has the LAN and every
# value). Three scenarios, each on a LAN of its own, the misbehaving
# hosts running in all:
#
#   link   the link, not this machine, is the bottleneck: STORM_LINK_PIS
#          (32) Pis with real file sizes (start4.elf 2.2 MB, kernel 8.9
#          MB, initramfs 26 MB, 32 MiB read from the root) behind a
#          server link capped at STORM_LINK_RATE (100 Mbit/s), where fair
#          sharing would give each initramfs about twice the 30 s a Pi
#          allows. A lone Pi first, then ours and the composition,
#          loss-free and with 1% loss each way.
#   head   the headline: STORM_PIS (100) Pis, real sizes, the 1 Gbit/s
#          link, where this machine's CPU binds; ours and the
#          composition, loss-free and with 1% loss.
#   check  a lone Pi and the 20-Pi storm of make check (small files,
#          1% loss), ours and, with make bench BEFORE=REV, REV's
#          daemons, STORM_ROUNDS (3) rounds interleaved: p50 side by
#          side.
#
# A Pi whose boot fails starts it again after 5 s (pi-boot -x), until the
# storm's deadline (10 minutes). ours = dhcpproxyd + tftpd (image mode) +
# nbdd; the composition = dnsmasq proxy DHCP + dnsmasq TFTP from a
# directory + nbd-server. Prints the issue's table of targets, ours
# beside the composition, then each scenario's detail, and draws every
# Pi's attempts and phases under the build directory (storm.png: the
# link-bound storms, where the waves show; storm-100.png: the headline).
#
# usage: tests/bench/storm.sh          (BUILD; STORM_SCENARIOS="link head
#                                      check" to run fewer; STORM_ONLY
#                                      names the storms of a scenario to
#                                      run, e.g. "ours-10"; the sizes and
#                                      counts above to tune)
# The storm mounts an XFS file system; in a mount namespace of its own, so
# that no other process on the machine holds a copy of that mount (ip netns
# exec copies every mount there is, and / is often private).
[ -n "${STORM_MNTNS:-}" ] || [ "$(id -u)" != 0 ] ||
	exec unshare --mount --propagation private env STORM_MNTNS=1 bash "$0" "$@"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
OUT=$TOP/$BUILD/storm
REPORT="python3 $TOP/tests/storm/report.py"

# One scenario in a process of its own: a LAN of its own, torn down at
# its end (tests/lib/lib.sh's cleanup), its storms under $OUT/SCENARIO/.
if [ "${1:-}" = --scenario ]; then
	scenario=$2
	. "$TOP/tests/lib/lib.sh"
	STORM_OUT=$OUT/$scenario
	STORM_DEADLINE=${STORM_DEADLINE:-600}
	STORM_WRITES=${STORM_WRITES:-64}
	case $scenario in
	link|head)
		export START4_BYTES=${START4_BYTES:-2252800}
		export KERNEL_BYTES=${KERNEL_BYTES:-8921088}
		export INITRD_BYTES=${INITRD_BYTES:-26214400}
		export ROOT_MIB=${ROOT_MIB:-48}
		STORM_READ=${STORM_READ:-33554432}
		if [ "$scenario" = link ]; then
			STORM_PIS=${STORM_LINK_PIS:-32}
			STORM_RATE=${STORM_LINK_RATE:-100mbit}
		else
			STORM_PIS=${STORM_PIS:-100}
			STORM_RATE=1gbit
		fi ;;
	check)
		# As tests/storm/rack.sh runs it.
		STORM_PIS=20 STORM_RATE=1gbit STORM_DEADLINE=100
		STORM_WRITES=16 ;;
	*) fail "no scenario $scenario" ;;
	esac
	LOSS=${STORM_LOSS_PM:-10}
	STORM_LOSS_PM=0
	. "$TOP/tests/storm/lan.inc"
	start=$(date +%s)
	storm_lan
	storm_images
	storm_router
	note "$scenario: LAN and $STORM_PIS images ready in $(( $(date +%s) - start )) s"
	# storm NAME SET LOSS [N [BIN]]: one storm of N Pis (all) against
	# one server set (ours from BIN).
	storm() {
		case " ${STORM_ONLY:-$1} " in *" $1 "*) ;; *) return 0 ;; esac
		storm_loss "$3"
		if [ "$2" = ours ]; then storm_start_ours "${5:-$BIN}"
		else storm_start_comp; fi
		note "storm $scenario/$1: ${4:-$STORM_PIS} Pis, loss $3/1000 each way"
		storm_run "$1" "$2" "${4:-}"
		storm_alive "$2"
		storm_stop "$2"
		$REPORT summary "$STORM_OUT/$1" | sed 's/^/# /'
		! grep -E 'differ|reads back different' "$STORM_OUT/$1/pis.txt" ||
			fail "$scenario/$1: a Pi received wrong bytes"
	}
	case $scenario in
	link)
		storm lone-0 ours 0 1
		storm "lone-$LOSS" ours "$LOSS" 1
		storm ours-0 ours 0
		storm comp-0 comp 0
		storm "ours-$LOSS" ours "$LOSS"
		storm "comp-$LOSS" comp "$LOSS" ;;
	head)
		storm ours-0 ours 0
		storm comp-0 comp 0
		storm "ours-$LOSS" ours "$LOSS"
		storm "comp-$LOSS" comp "$LOSS" ;;
	check)
		for r in $(seq "${STORM_ROUNDS:-3}"); do
			storm "lone-ours-$r" ours "$LOSS" 1
			[ -z "${BEFORE_BIN:-}" ] ||
				storm "lone-before-$r" ours "$LOSS" 1 "$BEFORE_BIN"
			storm "ours-$r" ours "$LOSS"
			[ -z "${BEFORE_BIN:-}" ] ||
				storm "before-$r" ours "$LOSS" "" "$BEFORE_BIN"
		done ;;
	esac
	stop_pid "$ROUTER_PID"
	storm_teardown
	exit 0
fi

set -u
rm -rf "$OUT"
mkdir -p "$OUT"
command -v gnuplot >/dev/null || { echo "skipped: gnuplot not installed (tests/deps.sh bench)"; exit 77; }
start=$(date +%s)
rc=0
for s in ${STORM_SCENARIOS:-link head check}; do
	bash "$0" --scenario "$s" || { echo "storm: scenario $s failed"; rc=1; }
done
loss=${STORM_LOSS_PM:-10}
$REPORT targets "$OUT" "$loss" | tee "$OUT/table.txt"
for s in link head; do
	for d in ours-0 comp-0 "ours-$loss" "comp-$loss"; do
		[ -f "$OUT/$s/$d/pis.txt" ] || continue 2
	done
	$REPORT table "$OUT/$s/ours-0" "$OUT/$s/comp-0" "$OUT/$s/ours-$loss" \
		"$OUT/$s/comp-$loss" | tee -a "$OUT/table.txt"
	$REPORT plot "$OUT/$([ $s = link ] && echo storm || echo storm-100).png" \
		"$OUT/$s/ours-0" "$OUT/$s/comp-0" "$OUT/$s/ours-$loss" \
		"$OUT/$s/comp-$loss"
done
printf 'load average: %s; %s cpus; bench %s s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$(nproc)" $(( $(date +%s) - start ))
exit $rc
