#!/bin/bash
# An overloaded boot storm: a rack bigger than its link. 12 Pi-like
# clients (tests/tools/pi-boot) power on at the same instant behind a
# server link capped at 16 Mbit/s, each with a 10 MiB initramfs: shared
# fairly, each initramfs would take about twice the 30 s its bootloader
# gives it (TFTP_FILE_TIMEOUT), every Pi would fail it, start its boot
# again (BOOT_ORDER=0xf12) and fail again. tftpd serves the oldest boots
# first and holds the others at their next file (tftpd(8), OVERLOAD), so
# the rack boots in waves. 1% loss each way on every Pi's link, the
# misbehaving hosts running, the daemons as nobody; the LAN is
# tests/storm/lan.inc.
#
# What a user would check: every Pi at its root within the storm's
# deadline, on its first or second attempt; every byte right; tftpd said
# it was overloaded and that it held transfers for older boots; the
# daemons alive and exiting 0 on SIGTERM; nothing left running. No
# timing is asserted beyond the deadline (a Pi that has not booted by
# then has not booted): speed is the benchmark's (tests/bench/storm.sh).
#
# PIBOOT=DIR/tools/pi-boot runs another build's daemons (BUILD) against
# this build's Pi client, for a before and after.
#
# Plain pass only: it asks about physics the sanitizers' CPU cost changes.
# (The 20-Pi storm runs the same tftpd code under them.)
# Runs alone: the waves follow what tftpd measures of its link, which a
# test beside it on these cores would change.
[ -n "${STORM_MNTNS:-}" ] || [ "$(id -u)" != 0 ] ||
	exec unshare --mount --propagation private env STORM_MNTNS=1 bash "$0" "$@"
. "$(dirname "$0")/../lib/lib.sh"
STORM_PIS=${STORM_PIS:-12}
STORM_LOSS_PM=${STORM_LOSS_PM:-10}
STORM_RATE=${STORM_RATE:-16mbit}
STORM_DEADLINE=${STORM_DEADLINE:-150}
STORM_READ=${STORM_READ:-1048576}
export START4_BYTES=${START4_BYTES:-262144}
export KERNEL_BYTES=${KERNEL_BYTES:-524288}
export INITRD_BYTES=${INITRD_BYTES:-10485760}
. "$(dirname "$0")/../storm/lan.inc"
REPORT="python3 $STORM_DIR/report.py"

start=$(date +%s)
storm_lan
storm_images
storm_router
storm_start_ours
note "LAN and $STORM_PIS images ready in $(( $(date +%s) - start )) s;" \
	"fair sharing would need $(awk -v n="$STORM_PIS" -v s="$INITRD_BYTES" \
	-v r="$STORM_RATE" 'BEGIN { sub("mbit", "", r);
	printf "%.1f", n * s / (r * 125000) / 30 }') x 30 s per initramfs"

storm_run ours ours
storm_alive ours
storm_stop ours
stop_pid "$ROUTER_PID"
$REPORT summary "$STORM_OUT/ours" | tee "$T/summary.txt" | sed 's/^/# /'
$REPORT writes "$STORM_OUT/ours" "$SRV" "$STORM_WRITES" >"$T/writes.txt" ||
	fail "writes missing from images: $(cat "$T/writes.txt")"

field() { grep -o " $1=[^ ]*" "$T/summary.txt" | head -1 | cut -d= -f2; }
[ "$(field crashed)" = 0 ] || fail "a client crashed"
[ "$(grep -c '^pi ' "$STORM_OUT/ours/pis.txt")" = "$STORM_PIS" ] ||
	fail "not every Pi reported"
! grep -E 'differ|reads back different' "$STORM_OUT/ours/pis.txt" ||
	fail "a Pi received wrong bytes"
[ "$(field failed)" = 0 ] || fail "$(field failed) of $STORM_PIS Pis not at" \
	"their root after $STORM_DEADLINE s: $(grep -E '^  (FAILED|restarted)' \
	"$T/summary.txt")"
[ "$(field attempts_max)" -le 2 ] || fail "a Pi needed $(field attempts_max)" \
	"attempts: $(grep '^  restarted' "$T/summary.txt")"
# What the administrator reads in tftpd's log.
assert_log "$T/ours-tftpd.log" 'warning: overloaded: [0-9]+ transfers, more than can finish before their clients give up'
# A Pi's file served whole after it waited for older boots (a boot
# outside the wave waits at its small files: tftpd(8), OVERLOAD).
assert_log "$T/ours-tftpd.log" '/[^ :]+: [0-9]+ bytes in .*, held [0-9.]+ s for older boots'

storm_teardown
note "overloaded storm: $(field booted) of $STORM_PIS at root, the last at" \
	"$(field last_root) s, attempts max $(field attempts_max), test" \
	"$(( $(date +%s) - start )) s"
echo ok
