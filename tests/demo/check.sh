#!/bin/bash
# make demo's script, as a test: it must pass end to end and leave no daemon
# running behind it.
. "$(dirname "$0")/../lib/lib.sh"
need bc mcopy sfdisk mkfs.vfat mkfs.ext4 python3

DEMO_SRV=$T/srv BUILD=$BUILD "$TOP/tests/demo/run" >"$T/demo.log" 2>&1 ||
	{ tail -30 "$T/demo.log"; fail "make demo's script failed"; }
assert_log "$T/demo.log" "Demo passed"
assert_log "$T/demo.log" 'menu "Raspberry Pi Boot" found'
assert_log "$T/demo.log" "initrd.img +31457280 bytes"
assert_log "$T/demo.log" "label writable"
assert_log "$T/demo.log" "cmdline.txt over TFTP now: .* quiet splash"
for d in dhcpproxyd tftpd nbdd; do
	if pgrep -f "$BIN/$d -r $T/srv" >/dev/null; then
		fail "$d still running after the demo"
	fi
done
echo ok
