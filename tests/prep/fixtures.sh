#!/bin/bash
# netboot-prep on images shaped like Raspberry Pi OS and Ubuntu for the
# Pi (tests/prep/make-fixture.sh): what it finds, cmdline.txt, fstab, the
# first-boot steps, nbd-client in the initramfs (already there; appended,
# then found again), the size, owner and mode, the boot entry; the same
# input twice gives the same files, and the prepared image prepared again
# changes nothing. The input is never written.
. "$(dirname "$0")/../lib/lib.sh"

need_root
need mcopy mtype debugfs sfdisk mkfs.vfat mkfs.ext4 cpio gzip depmod losetup
PREP=$BIN/netboot-prep
[ -x "$PREP" ] || fail "$PREP not built"
FX=$TOP/tests/prep/make-fixture.sh
SRV=$T/srv
mkdir -p "$SRV"

fat_cat() { mtype -i "$1@@1M" "::$2"; }
root_cat() {	# root_cat IMG PATH: a file of partition 2, read offline
	local s n
	read -r s n < <(sfdisk -d "$1" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
	dd if="$1" of="$T/p2.ext4" bs=512 skip="$s" count="$n" status=none
	debugfs -R "cat $2" "$T/p2.ext4" 2>/dev/null
}
# The files of the archive netboot-prep appended to an initramfs.
appended_list() {
	python3 - "$1" <<'PY'
import gzip, sys
b = open(sys.argv[1], 'rb').read()
i = b.find(b'\x1f\x8b\x08\x08\0\0\0\0')
assert i > 0 and b[i+10:i+32] == b'netboot-prep-nbd.cpio\0', 'no appended archive'
d = gzip.decompress(b[i:])
o = 0
while o < len(d):
    n = int(d[o+94:o+102], 16); s = int(d[o+54:o+62], 16)
    name = d[o+110:o+110+n-1].decode()
    if name == 'TRAILER!!!': break
    print(name)
    o = (o + 110 + n + 3) & ~3
    if name.endswith('ORDER'):
        sys.stderr.write(d[o:o+s].decode())
    o = (o + s + 3) & ~3
PY
}

# --- Raspberry Pi OS bookworm ------------------------------------------------
"$FX" raspios "$T/raspios.img" >/dev/null 2>&1 || fail "building the fixture"
in_sum=$(sha256sum < "$T/raspios.img")
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root -P 10000000ABCD1234 \
	-P DC:A6:32:01:36:C2 "$T/raspios.img" pios >"$T/pios.log" 2>&1 ||
	fail "raspios: $(cat "$T/pios.log")"
cat "$T/pios.log"
assert_log "$T/pios.log" 'recognise: Raspberry Pi OS, Debian GNU/Linux 12 \(bookworm\)'
[ "$(sha256sum < "$T/raspios.img")" = "$in_sum" ] || fail "the input was written"
cmd=$(fat_cat "$SRV/pios.img" cmdline.txt)
[ "$cmd" = "console=serial0,115200 console=tty1 root=/dev/nbd0p2 nbdroot=10.0.0.4/pios ip=dhcp rootfstype=ext4 fsck.repair=yes rootwait quiet cfg80211.ieee80211_regdom=GB" ] ||
	fail "raspios cmdline.txt: $cmd"
root_cat "$SRV/pios.img" /etc/fstab > "$T/fstab"
grep -q '^/dev/nbd0p1  /boot/firmware  vfat' "$T/fstab" || fail "fstab: $(cat "$T/fstab")"
grep -q '^/dev/nbd0p2  /               ext4' "$T/fstab" || fail "fstab: $(cat "$T/fstab")"
! grep -q PARTUUID "$T/fstab" || fail "fstab still names the SD card"
assert_log "$T/pios.log" 'initramfs8 already carries it'
assert_log "$T/pios.log" 'initramfs_2712 already carries it'
[ "$(stat -c '%a %U' "$SRV/pios.img")" = "640 root" ] || fail "mode $(stat -c %a "$SRV/pios.img")"
[ "$(readlink "$SRV/boot/abcd1234")" = ../pios.img ] || fail "no entry abcd1234"
[ "$(readlink "$SRV/boot/dc-a6-32-01-36-c2")" = ../pios.img ] || fail "no MAC entry"
ls -a "$SRV" | has prep && fail "a work file was left: $(ls -a "$SRV")"

# --- Ubuntu 24.04: nbd-client appended to initrd.img -------------------------
"$FX" ubuntu "$T/ubuntu.img" >/dev/null 2>&1 || fail "building the fixture"
in_sum=$(sha256sum < "$T/ubuntu.img")
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root -b -S 300M "$T/ubuntu.img" noble \
	>"$T/noble.log" 2>&1 || fail "ubuntu: $(cat "$T/noble.log")"
cat "$T/noble.log"
[ "$(sha256sum < "$T/ubuntu.img")" = "$in_sum" ] || fail "the input was written"
assert_log "$T/noble.log" 'recognise: Ubuntu for Raspberry Pi, Ubuntu 24.04.1 LTS'
cmd=$(fat_cat "$SRV/noble.img" cmdline.txt)
[ "$cmd" = "console=serial0,115200 multipath=off dwc_otg.lpm_enable=0 console=tty1 root=/dev/nbd0p2 nbdroot=10.0.0.4/noble ip=dhcp rootfstype=ext4 rootwait fixrtc quiet splash" ] ||
	fail "ubuntu cmdline.txt: $cmd"
root_cat "$SRV/noble.img" /etc/cloud/cloud.cfg.d/99-netboot-prep.cfg | has 'mode: off' ||
	fail "cloud-init's growpart is still on"
[ "$(stat -c '%a %U %s' "$SRV/noble.img")" = "440 root $((300 << 20))" ] ||
	fail "shared base: $(stat -c '%a %U %s' "$SRV/noble.img")"
# The root partition and its file system fill the grown image.
end=$(sfdisk -d "$SRV/noble.img" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p' | awk '{print ($1 + $2) * 512}')
[ "$end" = $((300 << 20)) ] || fail "partition 2 ends at $end"
root_cat "$SRV/noble.img" /etc/fstab >/dev/null
blocks=$(debugfs -R stats "$T/p2.ext4" 2>/dev/null | sed -n 's/^Block count: *//p')
[ "$blocks" -gt $(( (200 << 20) / 4096 )) ] || fail "the file system was not grown: $blocks blocks"
mcopy -n -i "$SRV/noble.img@@1M" ::initrd.img "$T/initrd.img"
appended_list "$T/initrd.img" >"$T/added" 2>"$T/order" || fail "initrd.img: $(cat "$T/order")"
kver=$(ls /lib/modules | sort -V | tail -1)
for f in sbin/nbd-client scripts/local-top/nbd scripts/local-top/ORDER \
    "usr/lib/modules/$kver/kernel/drivers/block/nbd.ko" \
    "usr/lib/modules/$kver/kernel/drivers/net/virtio_net.ko" \
    "usr/lib/modules/$kver/modules.dep" usr/lib/x86_64-linux-gnu/libgnutls.so.30; do
	grep -qx "$f" "$T/added" || fail "initrd.img lacks $f: $(cat "$T/added")"
done
! grep -q mac80211_hwsim "$T/added" || fail "a wireless driver was added"
head -1 "$T/order" | has -x '/scripts/local-top/nbd "$@"' || fail "ORDER: $(cat "$T/order")"
grep -q cryptroot "$T/order" || fail "ORDER lost the image's own scripts"
# The root's copy, which the distribution's hooks copy back, too.
root_cat "$SRV/noble.img" "/boot/initrd.img-$kver" > "$T/root-initrd"
cmp -s "$T/root-initrd" "$T/initrd.img" || fail "/boot/initrd.img-$kver was not updated"

# The same input again (-f): the same files.
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root -b -f -S 300M "$T/ubuntu.img" noble \
	>"$T/noble2.log" 2>&1 || fail "ubuntu again: $(cat "$T/noble2.log")"
mcopy -n -i "$SRV/noble.img@@1M" ::initrd.img "$T/initrd2.img"
cmp -s "$T/initrd.img" "$T/initrd2.img" || fail "a second run gave another initrd.img"
[ "$(fat_cat "$SRV/noble.img" cmdline.txt)" = "$cmd" ] || fail "a second run gave another cmdline.txt"
# The prepared image prepared again: nothing more to do.
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root "$SRV/noble.img" noble-again \
	>"$T/again.log" 2>&1 || fail "prepared again: $(cat "$T/again.log")"
assert_log "$T/again.log" 'initrd.img already carries it \(added by netboot-prep\)'
mcopy -n -i "$SRV/noble-again.img@@1M" ::initrd.img "$T/initrd3.img"
cmp -s "$T/initrd.img" "$T/initrd3.img" || fail "preparing again changed initrd.img"
[ "$(fat_cat "$SRV/noble-again.img" cmdline.txt)" = "${cmd/noble /noble-again }" ] ||
	fail "prepared again: $(fat_cat "$SRV/noble-again.img" cmdline.txt)"
echo ok
