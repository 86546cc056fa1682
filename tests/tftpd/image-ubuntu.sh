#!/bin/bash
# Image mode on an Ubuntu-shaped Pi image (MBR, FAT32 system-boot, ext4
# writable): $T/boot/abcd1234 -> ../ubuntu.img. Every file of the boot
# partition fetched with curl equals what mcopy extracts; the Pi-like
# client's probe-abort-fetch sequence works, including an initramfs over
# 64 MiB; tftp-hpa too; lookups are case-insensitive; '#N' picks a
# partition; a normal boot logs nothing above info.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/image.inc"
need tftp
IMG=$T/ubuntu.img
M=$IMG@@1M
make_ubuntu "$IMG"
populate "$M" big
ln -s ../ubuntu.img "$B/abcd1234"
ln -s '../ubuntu.img#1' "$B/dc-a6-32-01-36-c2"
ln -s '../ubuntu.img#2' "$B/0000beef"
start_tftpd

# Every file of the partition, with curl (pi-tftp for empty ones).
n=0
while read -r f; do
	[ "$f" = initrd.img ] && continue	# fetched below, by the Pi client
	want "$M" "$f"
	fetch_any "abcd1234/$f" "$O/got" || fail "fetch $f"
	assert_same_file "$O/got" "$O/want"
	n=$((n + 1))
done < <(files "$M")
[ "$n" -ge 20 ] || fail "only $n files checked"
note "curl: $n files equal mcopy's"

# The Pi 4's sequence; bootsig.bin must be "file not found".
$PITFTP -p "$PORT" -x bootsig.bin pi abcd1234 "$O" start4.elf config.txt \
	fixup4.dat bcm2711-rpi-4-b.dtb overlays/vc4-kms-v3d.dtbo cmdline.txt \
	vmlinuz initrd.img > "$T/pi.out" || { cat "$T/pi.out"; fail "pi sequence"; }
for f in start4.elf config.txt fixup4.dat bcm2711-rpi-4-b.dtb cmdline.txt \
    vmlinuz initrd.img; do
	want "$M" "$f"
	assert_same_file "$O/$f" "$O/want"
done
want "$M" overlays/vc4-kms-v3d.dtbo
assert_same_file "$O/overlays_vc4-kms-v3d.dtbo" "$O/want"
note "pi-tftp: Pi 4 sequence ok, initrd.img $(stat -c %s "$O/initrd.img") bytes"

# tftp-hpa, and case-insensitive names as the Pi's FAT driver has them.
(cd "$O" && tftp -m binary 127.0.0.1 "$PORT" -c get abcd1234/start4.elf h1)
want "$M" start4.elf
assert_same_file "$O/h1" "$O/want"
fetch_curl abcd1234/CONFIG.TXT "$O/c1"
fetch_curl "abcd1234/a long name with SPACES.TXT" "$O/c2"
fetch_curl abcd1234/OVERLAYS/VC4-KMS-V3D.DTBO "$O/c3"
want "$M" config.txt
assert_same_file "$O/c1" "$O/want"
assert_same_file "$O/c2" "$O/want"
want "$M" overlays/vc4-kms-v3d.dtbo
assert_same_file "$O/c3" "$O/want"

# '#1' by MAC entry is the same partition; '#2' is ext4: not found, and one
# warning that says so.
fetch_curl dc-a6-32-01-36-c2/config.txt "$O/m1"
want "$M" config.txt
assert_same_file "$O/m1" "$O/want"
if fetch_curl 0000beef/config.txt "$O/x" 2>/dev/null; then
	fail "partition 2 (ext4) served a file"
fi
assert_log "$T/tftpd.log" "image 0000beef \(.*/ubuntu.img\): partition 2: config.txt: no FAT boot sector"

# Out of the partition: refused.
if fetch_curl abcd1234/../ubuntu.img "$O/x" 2>/dev/null; then
	fail "../ served"
fi
if fetch_curl abcd1234/overlays/../../ubuntu.img "$O/x" 2>/dev/null; then
	fail "overlays/../../ served"
fi

# A boot logs nothing above info: the one warning is the ext4 partition.
[ "$(grep -c 'warning' "$T/tftpd.log")" = 1 ] ||
	{ cat "$T/tftpd.log"; fail "unexpected warnings"; }
assert_alive "$TFTPD_PID"
stop_pid "$TFTPD_PID"
