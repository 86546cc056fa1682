#!/bin/bash
# A Pi-like client replays the bootloader's sequence (pi-netboot.md): for
# each file a probe with tsize=0 blksize=1468 aborted by an ERROR after
# the OACK, the same request again at once, a lock-step fetch; missing
# optional files are "file not found". The Pi 3 ROM's option-less
# bootcode.bin and bootsig.bin come first. Probes log nothing above debug.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/layout.inc"
make_layout
start_tftpd
O=$T/out

# Pi 3 ROM: no prefix, no options, 512-byte blocks.
$PITFTP -p "$PORT" get bootcode.bin "$O/bootcode.bin" >/dev/null
assert_same_file "$O/bootcode.bin" "$R/bootcode.bin"
if $PITFTP -p "$PORT" get bootsig.bin "$O/bootsig.bin" 2>"$T/sig.err" >/dev/null; then
	fail "bootsig.bin was served"
fi
grep -q "server error 1" "$T/sig.err" || fail "bootsig.bin: $(cat "$T/sig.err")"

# Pi 4: the probed, aborted, restarted sequence.
$PITFTP -p "$PORT" -x bootsig.bin pi abcd1234 "$O" start4.elf config.txt \
	fixup4.dat bcm2711-rpi-4-b.dtb overlays/vc4-kms-v3d.dtbo empty.bin \
	exact1024.bin | tee "$T/pi.out"
for f in start4.elf config.txt fixup4.dat bcm2711-rpi-4-b.dtb empty.bin exact1024.bin; do
	assert_same_file "$O/$f" "$T/mnt/pi/$f"
done
assert_same_file "$O/overlays_vc4-kms-v3d.dtbo" "$T/mnt/pi/overlays/vc4-kms-v3d.dtbo"
[ "$(grep -c '^ok probe' "$T/pi.out")" = 7 ] || fail "not every probe passed"
# A serial with no entry: the probe gets "file not found" at once.
if $PITFTP -p "$PORT" pi 00000000 "$O" start4.elf >"$T/nope.out"; then
	fail "probe of a missing serial succeeded"
fi
grep -q "server error 1" "$T/nope.out" || fail "missing serial: $(cat "$T/nope.out")"

# The probes ended at once, quietly: debug lines, no warning, no failure.
assert_log "$T/tftpd.log" "start4.elf: probe ended by the client after the OACK"
if grep -E "warning|error:|failed|aborted" "$T/tftpd.log"; then
	fail "probe or not-found logged above debug level"
fi
# ... and without -v they are not logged at all.
stop_pid "$TFTPD_PID"
PORT=$(free_port udp)
start_bg quiet "$BIN/tftpd" -r "$R" -l 127.0.0.1 -p "$PORT"
wait_port udp "$PORT"
$PITFTP -p "$PORT" -x missing.txt pi abcd1234 "$O" start4.elf >/dev/null
if grep -Eq "probe|not found" "$T/quiet.log"; then
	fail "probe or not found logged at the default level"
fi
assert_log "$T/quiet.log" "abcd1234/start4.elf: 3000000 bytes in"
stop_pid "$LAST_PID"
