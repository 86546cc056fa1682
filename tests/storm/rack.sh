#!/bin/bash
# A boot storm: STORM_PIS (20) Pi-like clients (tests/tools/pi-boot) power on
# at the same instant on one LAN, with 1% loss each way on every Pi's link
# and the server's link capped at 1 Gbit/s, while three hosts misbehave (a
# DHCP flood, TFTP junk and abandoned transfers, stalled NBD handshakes).
# Each Pi does what a Pi 4 does: DHCP (address from the LAN's dnsmasq, boot
# server from dhcpproxyd), the bootloader's TFTP sequence from tftpd (image
# mode), its root over NBD from nbdd; the daemons run as nobody, as
# deployed. The LAN is tests/storm/lan.inc.
#
# What a user would check: every Pi booted, on its first attempt (a Pi
# whose boot fails starts it again, as BOOT_ORDER=0xf12 does; here none
# may need to); every byte right (each client checks every file and every
# read, and what each wrote is in its image);
# the daemons alive through the storm and exiting 0 on SIGTERM; each
# daemon's memory per Pi within what its man page says; nothing left
# running, every namespace gone. No timing is asserted: speed is the
# benchmark's (tests/bench/storm.sh).
# Runs alone: every Pi must boot on its first attempt, within the
# bootloader's timeouts, which a test beside it on these cores could break.
# The storm mounts an XFS file system; in a mount namespace of its own, so
# that no other process on the machine holds a copy of that mount (ip netns
# exec copies every mount there is, and / is often private).
[ -n "${STORM_MNTNS:-}" ] || [ "$(id -u)" != 0 ] ||
	exec unshare --mount --propagation private env STORM_MNTNS=1 bash "$0" "$@"
. "$(dirname "$0")/../lib/lib.sh"
STORM_PIS=${STORM_PIS:-20}
STORM_LOSS_PM=${STORM_LOSS_PM:-10}
STORM_DEADLINE=${STORM_DEADLINE:-100}
. "$(dirname "$0")/../storm/lan.inc"
REPORT="python3 $STORM_DIR/report.py"

start=$(date +%s)
storm_lan
storm_images
storm_router
storm_start_ours
note "LAN and $STORM_PIS images ready in $(( $(date +%s) - start )) s"

storm_run ours ours
storm_alive ours
storm_stop ours
stop_pid "$ROUTER_PID"
$REPORT summary "$STORM_OUT/ours" | tee "$T/summary.txt" | sed 's/^/# /'
$REPORT writes "$STORM_OUT/ours" "$SRV" "$STORM_WRITES" >"$T/writes.txt" ||
	fail "writes missing from images: $(cat "$T/writes.txt")"
# Each daemon's memory per Pi within what its man page says (MEMORY).
# Under AddressSanitizer most of a daemon's memory is the sanitizer's
# (shadow, quarantine): the figures are shown, not checked.
mem_rc=0
$REPORT memory "$STORM_OUT/ours" >"$T/memory.txt" || mem_rc=$?
if ldd "$BIN/tftpd" 2>/dev/null | has libasan; then
	sed 's/^/# (sanitizer build, not checked) /' "$T/memory.txt"
else
	[ "$mem_rc" = 0 ] || fail "more memory than documented: $(cat "$T/memory.txt")"
	sed 's/^/# /' "$T/memory.txt"
fi

field() { grep -o " $1=[^ ]*" "$T/summary.txt" | head -1 | cut -d= -f2; }
failed=$(field failed)
[ "$(field crashed)" = 0 ] || fail "a client crashed"
[ "$(grep -c '^pi ' "$STORM_OUT/ours/pis.txt")" = "$STORM_PIS" ] ||
	fail "not every Pi reported"
# A wrong byte anywhere fails, whatever else happened.
! grep -E 'differ|reads back different' "$STORM_OUT/ours/pis.txt" ||
	fail "a Pi received wrong bytes"
[ "$failed" = 0 ] || fail "$failed of $STORM_PIS Pis failed to boot: $(
	grep '^  FAILED' "$T/summary.txt")"
# Not overloaded: no Pi may need its bootloader's restart to get there.
[ "$(field attempts_max)" = 1 ] || fail "$(field restarted) Pi(s) had to" \
	"start their boot again: $(grep '^  restarted' "$T/summary.txt")"
booted=$(field booted)

storm_teardown
note "storm: $booted of $STORM_PIS booted, wall $(field wall) s, test $(( $(date +%s) - start )) s"
echo ok
