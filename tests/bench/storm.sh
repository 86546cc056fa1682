#!/bin/bash
# The boot storm, measured: STORM_PIS (100) Pi-like clients power on at the
# same instant, each booting its own image (kernel ~8.5 MB, initramfs 25
# MiB, 32 MiB read from its root), over a server link capped at 1 Gbit/s,
# while three hosts misbehave (tests/storm/lan.sh has the LAN and every
# value). Four storms in one run, on the same LAN and images:
#   ours    dhcpproxyd + tftpd (image mode) + nbdd       loss-free, then
#   comp    dnsmasq proxy DHCP + dnsmasq TFTP from a     1% each way on
#           directory + nbd-server                       every Pi's link
# and prints the table of both sets (ratios ours / composition, the issue's
# targets beside them), then draws every Pi's phases as a PNG under the
# build directory.
#
# usage: tests/bench/storm.sh   (BUILD, STORM_PIS, STORM_LOSS_PM, STORM_BAD,
#                                STORM_READ, START4_BYTES, KERNEL_BYTES,
#                                INITRD_BYTES, ROOT_MIB to tune)
# The storm mounts an XFS file system; in a mount namespace of its own, so
# that no other process on the machine holds a copy of that mount (ip netns
# exec copies every mount there is, and / is often private).
[ -n "${STORM_MNTNS:-}" ] || [ "$(id -u)" != 0 ] ||
	exec unshare --mount --propagation private env STORM_MNTNS=1 bash "$0" "$@"
. "$(dirname "$0")/../lib.sh"
STORM_PIS=${STORM_PIS:-100}
LOSS=${STORM_LOSS_PM:-10}
STORM_LOSS_PM=0
STORM_DEADLINE=${STORM_DEADLINE:-300}
STORM_READ=${STORM_READ:-33554432}
STORM_WRITES=${STORM_WRITES:-64}
export START4_BYTES=${START4_BYTES:-2252800}
export KERNEL_BYTES=${KERNEL_BYTES:-8921088}
export INITRD_BYTES=${INITRD_BYTES:-26214400}
export ROOT_MIB=${ROOT_MIB:-48}
STORM_OUT=$TOP/$BUILD/storm
rm -rf "$STORM_OUT"
. "$(dirname "$0")/../storm/lan.sh"
need gnuplot
REPORT="python3 $STORM_DIR/report.py"

start=$(date +%s)
storm_lan
storm_images
storm_router
note "LAN and $STORM_PIS images ready in $(( $(date +%s) - start )) s"

# storm NAME SET LOSS: one storm against one server set.
storm() {
	storm_loss "$3"
	if [ "$2" = ours ]; then storm_start_ours; else storm_start_comp; fi
	note "storm $1: $STORM_PIS Pis, loss $3/1000 each way"
	storm_run "$1" "$2"
	storm_alive "$2"
	storm_stop "$2"
	$REPORT summary "$STORM_OUT/$1" | sed 's/^/# /'
	$REPORT writes "$STORM_OUT/$1" "$SRV" "$STORM_WRITES" | sed 's/^/# /'
	! grep -E 'differ|reads back different' "$STORM_OUT/$1/pis.txt" ||
		fail "$1: a Pi received wrong bytes"
}
storm ours-0 ours 0
storm comp-0 comp 0
storm ours-$LOSS ours "$LOSS"
storm comp-$LOSS comp "$LOSS"
stop_pid "$ROUTER_PID"

$REPORT table "$STORM_OUT/ours-0" "$STORM_OUT/comp-0" \
	"$STORM_OUT/ours-$LOSS" "$STORM_OUT/comp-$LOSS" | tee "$STORM_OUT/table.txt"
$REPORT plot "$STORM_OUT/storm.png" "$STORM_OUT/ours-0" "$STORM_OUT/comp-0" \
	"$STORM_OUT/ours-$LOSS" "$STORM_OUT/comp-$LOSS"
printf 'load average: %s; %s cpus; bench %s s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$(nproc)" $(( $(date +%s) - start ))
storm_teardown
