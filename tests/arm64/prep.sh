#!/bin/bash
# The proof on a real arm64 kernel: a Debian bookworm arm64 Raspberry Pi
# image built from Debian's packages, without nbd-client
# (tests/arm64/make-image.sh, cached), prepared by netboot-prep, served by
# the three daemons, booted in qemu-system-aarch64 -M virt -cpu cortex-a72
# under TCG, as a Pi boots:
#
#   namespace lan     bridge br0, the VM's tap0, the far ends of the veths
#   namespace router  10.78.0.254  dnsmasq: the LAN's DHCP server
#   namespace boot    10.78.0.1    dhcpproxyd -U, tftpd, nbdd
#   namespace client               the Pi's bootloader, played by pi-dhcp
#                                  (DHCP) and curl (TFTP)
#
# The Pi's bootloader part: its DISCOVER (serial in option 97) is answered
# by dhcpproxyd once netboot-prep enrolled it (before, dhcpproxyd -U
# records it and netboot-prep -L lists it); then config.txt, cmdline.txt,
# the kernel and the initramfs config.txt names come from tftpd out of the
# prepared image's FAT partition, as the firmware fetches them. QEMU
# starts that kernel and initramfs with that command line (plus
# console=ttyAMA0 for the virtual board and a token); the initramfs's
# nbd-client (appended by netboot-prep) mounts the root from nbdd; systemd
# mounts /boot/firmware from fstab; root-check.service reports what it
# sees, writes the token to the root and the boot partition and powers
# off. The test then reads both out of the image.
#
# Plain pass only: the emulated arm64 guest is nearly all of its time.
# (netboot-prep's steps run under the sanitizers in the prep-* tests and
# its parsers in the fuzzers, the daemons in every other test.)
#
# PREP_KERNEL_UPDATE=1 (make bench: tests/bench/prep-kernel-update.sh)
# then runs the distribution's own kernel hooks on the prepared image in
# an arm64 chroot (update-initramfs -u, whose raspi-firmware hook writes
# cmdline.txt and the initramfs into the boot partition anew), which takes
# 10 minutes and more under emulation, and boots it a second time.
#
# binfmt_misc with qemu-aarch64 is needed (the image's dpkg runs in a
# chroot); the test mounts and registers it when it can, and fails saying
# why when it cannot.
. "$(dirname "$0")/../lib/lib.sh"

need_root
# Missing tools fail the test rather than skip it: the proof must run.
for c in mmdebstrap qemu-system-aarch64 dnsmasq curl mcopy mtype debugfs sfdisk; do
	command -v "$c" >/dev/null || fail "$c is not installed (tests/deps.sh installs it)"
done
[ -e /dev/net/tun ] || fail "no /dev/net/tun for the VM's tap device"
PREP=$BIN/netboot-prep
for d in dhcpproxyd tftpd nbdd netboot-prep; do
	[ -x "$BIN/$d" ] || fail "$BIN/$d not built"
done
TIMEOUT=${ARM64_TIMEOUT:-600}
CACHE=${ARM64_CACHE:-/var/cache/netboot-tests/arm64}
SERVER=10.78.0.1
ROUTER=10.78.0.254
SERIAL=a64e7e57
MAC=dc:a6:32:64:7e:57
NAME=raspi

# --- arm64 programs in a chroot ------------------------------------------------
if [ "$(dpkg --print-architecture)" != arm64 ]; then
	if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
			fail "binfmt_misc cannot be mounted: arm64 programs cannot run here"
	fi
	if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
		[ -r /usr/lib/binfmt.d/qemu-aarch64.conf ] ||
			fail "no qemu-aarch64 binfmt entry and no /usr/lib/binfmt.d/qemu-aarch64.conf (qemu-user-static)"
		cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register ||
			fail "cannot register qemu-aarch64 with binfmt_misc"
	fi
fi

# --- the image ---------------------------------------------------------------
t0=$(date +%s)
img=$("$TOP/tests/arm64/make-image.sh" "$CACHE") || fail "building the arm64 image failed"
note "image $img ($(( $(date +%s) - t0 )) s; $(du -m "$img" | cut -f1) MiB on disk, $(( $(stat -c %s "$img") >> 20 )) MiB)"
debs=$(dirname "$img")/debs
ls "$debs"/nbd-client_*_arm64.deb >/dev/null || fail "no nbd-client .deb beside the image"
mkdir -p "$T/srv"
in_sum=$(sha256sum < "$img")

# --- the network and the daemons ------------------------------------------------
netns_add lan
netns_add router
netns_add boot
netns_add client
LAN=${NS_PREFIX}lan RT=${NS_PREFIX}router BOOT=${NS_PREFIX}boot CL=${NS_PREFIX}client
ip -n "$LAN" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$LAN" link set br0 up
for n in router boot client; do
	ip -n "$LAN" link add "l-$n" type veth peer name eth0 netns "$NS_PREFIX$n"
	ip -n "$LAN" link set "l-$n" master br0 up
	ip -n "$NS_PREFIX$n" link set eth0 up
done
ip -n "$LAN" tuntap add dev tap0 mode tap
ip -n "$LAN" link set tap0 master br0 up
ip -n "$RT" addr add "$ROUTER/24" dev eth0
ip -n "$BOOT" addr add "$SERVER/24" dev eth0

start_bg dnsmasq ip netns exec "$RT" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--interface=eth0 --bind-interfaces --log-dhcp --log-facility=- --user=root \
	--dhcp-range=10.78.0.100,10.78.0.150,255.255.255.0,10m \
	--dhcp-leasefile="$T/leases" --pid-file=
DNSMASQ_PID=$LAST_PID
mkdir -p "$T/srv/boot"
start_bg dhcpproxyd ip netns exec "$BOOT" "$BIN/dhcpproxyd" -v -r "$T/srv/boot" -U "$T/unknown"
DP_PID=$LAST_PID
start_bg tftpd ip netns exec "$BOOT" "$BIN/tftpd" -v -r "$T/srv/boot" -l "$SERVER"
TFTPD_PID=$LAST_PID
start_bg nbdd ip netns exec "$BOOT" "$BIN/nbdd" -v -r "$T/srv" -l "$SERVER"
NBDD_PID=$LAST_PID
wait_port udp 67 "$RT"
wait_port udp 67 "$BOOT"
wait_port udp 69 "$BOOT"
wait_port tcp 10809 "$BOOT"

pi_dhcp() {
	ip netns exec "$CL" "$BIN/tools/pi-dhcp" -i eth0 -w 2 -m pi -s "$SERIAL" -M "$MAC"
}

# --- the Pi asks before it is enrolled: recorded, listed ---------------------------
pi_dhcp > "$T/dhcp1.out"
grep -q "^REPLY from=$SERVER:" "$T/dhcp1.out" && fail "dhcpproxyd answered a Pi with no entry"
"$PREP" -r "$T/srv" -U "$T/unknown" -L > "$T/list" 2>&1 || fail "-L: $(cat "$T/list")"
grep -q "^$SERIAL dc-a6-32-64-7e-57 " "$T/list" || fail "-L does not list the Pi: $(cat "$T/list")"

# --- prepare ----------------------------------------------------------------
debargs=()
for d in "$debs"/*.deb; do debargs+=(-d "$d"); done
t0=$(date +%s)
"$PREP" -r "$T/srv" -s "$SERVER" -S 3G -u root -g root "${debargs[@]}" \
	-P "10000000$SERIAL" "$img" "$NAME" > "$T/prep.log" 2>&1 ||
	fail "netboot-prep: $(tail -5 "$T/prep.log")"
prep_secs=$(( $(date +%s) - t0 ))
sed 's/^/# /' "$T/prep.log"
note "netboot-prep took $prep_secs s; the image: $(du -m "$T/srv/$NAME.img" | cut -f1) MiB on disk"
[ "$(sha256sum < "$img")" = "$in_sum" ] || fail "netboot-prep wrote its input"
assert_log "$T/prep.log" 'recognise: Debian \(raspi-firmware\)'
assert_log "$T/prep.log" 'nbd-client: installed in the image \(dpkg -i\)'
assert_log "$T/prep.log" 'nbd-client: initrd.img-.*: [0-9]+ files appended'

# boot_once CONSOLE TOKEN: the Pi's bootloader, then the VM; sets vm_secs.
boot_once() {
	local console=$1 token=$2 kernel initrd cmd t0 qrc=0
	# The bootloader: its proxy offer, then its files over TFTP.
	pi_dhcp > "$T/dhcp.out"
	grep -q "^REPLY from=$SERVER:.* type=OFFER" "$T/dhcp.out" ||
		fail "dhcpproxyd did not answer the enrolled Pi: $(cat "$T/dhcp.out")"
	# The address the LAN's DHCP server offered, as the Pi takes it.
	ip -n "$CL" addr replace 10.78.0.50/24 dev eth0
	rm -rf "$T/tftp" && mkdir "$T/tftp"
	for f in config.txt cmdline.txt; do
		ip netns exec "$CL" curl -sS --max-time 30 -o "$T/tftp/$f" \
			"tftp://$SERVER/$SERIAL/$f" || fail "TFTP $SERIAL/$f"
	done
	kernel=$(sed -n 's/^kernel=//p' "$T/tftp/config.txt" | tail -1)
	initrd=$(awk '$1 == "initramfs" { print $2 }' "$T/tftp/config.txt" | tail -1)
	[ -n "$kernel" ] && [ -n "$initrd" ] || fail "config.txt names no kernel or initramfs: $(cat "$T/tftp/config.txt")"
	for f in "$kernel" "$initrd"; do
		ip netns exec "$CL" curl -sS --max-time 60 -o "$T/tftp/$f" \
			"tftp://$SERVER/$SERIAL/$f" || fail "TFTP $SERIAL/$f"
	done
	cmd=$(tr '\n' ' ' < "$T/tftp/cmdline.txt")
	note "cmdline.txt: $cmd"
	note "kernel $kernel ($(stat -c %s "$T/tftp/$kernel") bytes), initramfs $initrd ($(stat -c %s "$T/tftp/$initrd") bytes)"
	t0=$(date +%s)
	start_bg "qemu-$(basename "$console" .log)" ip netns exec "$LAN" \
		qemu-system-aarch64 -M virt -cpu cortex-a72 -accel tcg -m 1024 -smp 1 \
		-nographic -monitor none -serial "file:$console" -no-reboot \
		-kernel "$T/tftp/$kernel" -initrd "$T/tftp/$initrd" \
		-append "$cmd console=ttyAMA0 panic=10 netboot_token=$token" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device "virtio-net-pci,netdev=n0,mac=$MAC"
	local pid=$LAST_PID
	CONSOLE_SHOWN=$console
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(date +%s) - t0 )) -ge "$TIMEOUT" ]; then
			kill -KILL "$pid"; wait "$pid" 2>/dev/null
			fail "the VM did not power off within $TIMEOUT s: $(tr -d '\r' < "$console" | tail -20)"
		fi
		sleep 1
	done
	wait "$pid" || qrc=$?
	vm_secs=$(( $(date +%s) - t0 ))
	[ "$qrc" = 0 ] || fail "QEMU exited with status $qrc"
	[ -z "${ARM64_KEEP:-}" ] || cp "$console" "$ARM64_KEEP/"
	if ! grep -aq "root-check: written, token $token" "$console"; then
		fail "the VM stopped after $vm_secs s without its report: $(tr -d '\r' < "$console" |
			grep -a -E 'nbd|ALERT|panic|root-check|Begin|mount|Failed' | tail -15)"
	fi
	local root_at
	root_at=$(tr -d '\r' < "$console" | grep -a -m1 -o '^\[ *[0-9.]*\] EXT4-fs (nbd0p2): mounted' | grep -o '[0-9.]*' | head -1 || true)
	note "booted in $vm_secs s (root mounted ${root_at:-?} s after the kernel started)"
	assert_log "$console" "root-check: root=/dev/nbd0p2 firmware=/dev/nbd0p1 "
}

# stop_daemons: each must exit 0; then the image is read offline.
check_image() {	# check_image TOKEN
	local s n got
	read -r s n < <(sfdisk -d "$T/srv/$NAME.img" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
	dd if="$T/srv/$NAME.img" of="$T/root.ext4" bs=512 skip="$s" count="$n" status=none
	e2fsck -fy "$T/root.ext4" > "$T/e2fsck.out" 2>&1 || [ $? -le 1 ] ||
		fail "e2fsck: the root is broken: $(tail -5 "$T/e2fsck.out")"
	got=$(debugfs -R 'cat /root-check.txt' "$T/root.ext4" 2>/dev/null)
	[ "$got" = "root-check $1 root=/dev/nbd0p2 firmware=/dev/nbd0p1" ] ||
		fail "/root-check.txt in the image: '$got'"
	got=$(mtype -i "$T/srv/$NAME.img@@$(( $(sfdisk -d "$T/srv/$NAME.img" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p') * 512 ))" ::root-check.txt | tr -d '\r')
	[ "$got" = "root-check $1" ] || fail "root-check.txt in the boot partition: '$got'"
}

TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
boot_once "$T/vm-console.log" "$TOKEN"
assert_log "$T/nbdd.log" "export $NAME \(read-write"
for f in config.txt cmdline.txt; do assert_log "$T/tftpd.log" "$SERIAL/$f"; done
stop_pid "$DP_PID"
stop_pid "$TFTPD_PID"
stop_pid "$NBDD_PID"
check_image "$TOKEN"
note "the guest wrote its token into the image's root and boot partition"
echo "arm64 guest: prepared in $prep_secs s, booted over NBD in $vm_secs s"

[ "${PREP_KERNEL_UPDATE:-0}" = 1 ] || exit 0

# --- a kernel update by the distribution's own hooks, then boot again ---------------
note "kernel update: update-initramfs -u in an arm64 chroot (emulated; many minutes)"
p1=$(( $(sfdisk -d "$T/srv/$NAME.img" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p') * 512 ))
read -r s n < <(sfdisk -d "$T/srv/$NAME.img" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
loop=$(losetup --find --show -o $((s * 512)) --sizelimit $((n * 512)) "$T/srv/$NAME.img")
CLEANUPS+=("losetup -d $loop")
mkdir "$T/mnt"
mount "$loop" "$T/mnt"
CLEANUPS=("umount -l '$T/mnt/proc' '$T/mnt/dev' '$T/mnt'" "${CLEANUPS[@]}")
# This kernel has no vfat: the boot partition's files go through a
# directory, as the Pi's mounted /boot/firmware would take them.
mcopy -s -n -i "$T/srv/$NAME.img@@$p1" '::*' "$T/mnt/boot/firmware/"
mount -t proc proc "$T/mnt/proc"
mount --bind /dev "$T/mnt/dev"
t0=$(date +%s)
chroot "$T/mnt" update-initramfs -u > "$T/update.log" 2>&1 || fail "update-initramfs -u: $(tail -5 "$T/update.log")"
note "update-initramfs -u took $(( $(date +%s) - t0 )) s"
kver=$(ls "$T/mnt/lib/modules" | sort -V | tail -1)
grep -q "nbdroot=$SERVER/$NAME" "$T/mnt/boot/firmware/cmdline.txt" ||
	fail "raspi-firmware wrote cmdline.txt without nbdroot=: $(cat "$T/mnt/boot/firmware/cmdline.txt")"
grep -q "root=/dev/nbd0p2" "$T/mnt/boot/firmware/cmdline.txt" ||
	fail "raspi-firmware wrote cmdline.txt without root=/dev/nbd0p2"
for f in cmdline.txt config.txt "initrd.img-$kver"; do
	mcopy -o -i "$T/srv/$NAME.img@@$p1" "$T/mnt/boot/firmware/$f" "::$f"
done
umount "$T/mnt/proc" "$T/mnt/dev" "$T/mnt"
losetup -d "$loop"
CLEANUPS=()
start_bg dhcpproxyd2 ip netns exec "$BOOT" "$BIN/dhcpproxyd" -v -r "$T/srv/boot"
DP_PID=$LAST_PID
start_bg tftpd2 ip netns exec "$BOOT" "$BIN/tftpd" -v -r "$T/srv/boot" -l "$SERVER"
TFTPD_PID=$LAST_PID
start_bg nbdd2 ip netns exec "$BOOT" "$BIN/nbdd" -v -r "$T/srv" -l "$SERVER"
NBDD_PID=$LAST_PID
wait_port udp 67 "$BOOT"; wait_port udp 69 "$BOOT"; wait_port tcp 10809 "$BOOT"
TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
boot_once "$T/vm-console-2.log" "$TOKEN"
stop_pid "$DP_PID"; stop_pid "$TFTPD_PID"; stop_pid "$NBDD_PID"
check_image "$TOKEN"
echo "arm64 guest: after a kernel update's hooks, booted over NBD again in $vm_secs s"
