#!/bin/bash
# A real netboot: a QEMU virtual machine with no disk boots a stock Debian
# kernel whose root file system lives on nbdd.
#
#   namespace lan     bridge br0, the VM's tap0, and the far ends of the veths
#   namespace router  10.77.0.254  dnsmasq: the LAN's DHCP server, addresses
#                                  only, no PXE settings
#   namespace boot    10.77.0.1    dhcpproxyd, tftpd -r srv/boot (image mode:
#                                  srv/boot/ENTRY -> ../netboot.img), nbdd -r srv
#
# iPXE (Debian's ipxe-qemu ROM) gets its address from dnsmasq and its boot
# file from dhcpproxyd: boot.ipxe out of the image's FAT partition, which
# loads vmlinuz and initrd.img from there too. The initramfs (initramfs-tools
# with nbd-client's script) connects nbdroot= to nbdd; the kernel mounts
# /dev/nbd0p2, whose init writes /marker, writes e2e-fat.txt on the boot
# partition (/dev/nbd0p1), syncs and powers off. The test then fetches
# e2e-fat.txt from tftpd (image mode sees what was written through nbdd) and
# reads /marker out of the image.
#
# Meanwhile a second VM boots a shared base (lab.img, mode 0444, its own
# boot entry) the same way, through its overlay, and then boots it again:
# the second boot must not find the first one's /marker, tftpd must not
# serve what it wrote on its boot partition, and the base is unchanged.
# A VM that powers off sends no NBD_CMD_DISC, so nbdd keeps the overlay
# until keepalive drops the dead connection and the grace period ends:
# the test runs nbdd with -g 2 and does keepalive's part at once (ss -K
# in nbdd's namespace), then waits for the overlay to go before booting
# again, as a Pi switched off for two minutes would.
#
# Environment:
#   E2E_TIMEOUT=SECONDS   how long the VM may take (default 300)
#   E2E_ACCEL=tcg|kvm     QEMU accelerator (default tcg: software emulation,
#                         slower but dependable; KVM hangs on some hosts)
#   E2E_STANDINS="dhcp tftp nbd"  debugging only: use Debian's tools in place
#                         of dhcpproxyd (dnsmasq proxy DHCP), tftpd (dnsmasq
#                         TFTP from a directory) or nbdd (qemu-nbd)
#   E2E_KEEP=DIR          copy the logs and the image there at the end
#   E2E_TLS=0             skip the second boot, the root over TLS (below)
. "$(dirname "$0")/../lib/lib.sh"

need_root
need qemu-system-x86_64 dnsmasq mkinitramfs lsinitramfs sfdisk mkfs.vfat \
	mcopy mkfs.ext4 debugfs e2fsck ip curl unmkinitramfs cpio zstd tcpdump \
	certtool
[ -e /dev/net/tun ] || skip "no /dev/net/tun for the VM's tap device"
ROM=/usr/lib/ipxe/qemu/pxe-virtio.rom
[ -r "$ROM" ] || skip "no $ROM (ipxe-qemu)"

TIMEOUT=${E2E_TIMEOUT:-300}
ACCEL=${E2E_ACCEL:-tcg}
STANDINS=" ${E2E_STANDINS:-} "
standin() { case $STANDINS in *" $1 "*) return 0 ;; esac; return 1; }

SERVER=10.77.0.1
ROUTER=10.77.0.254
NBD_PORT=10809
EXPORT=netboot
MAC=52:54:00:e2:e0:01
ENTRY=52-54-00-e2-e0-01		# the boot entry, by MAC address
TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
CONSOLE=$T/vm-console.log	# sorts last, so lib.sh prints it last
BASE=lab			# the shared base, and the VM that boots it
BASE_MAC=52:54:00:e2:e0:02
BASE_ENTRY=52-54-00-e2-e0-02
BASE_TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
GRACE=2
BASE_VM=1			# not with stand-ins: they know only the first VM
[ -z "${E2E_STANDINS:-}" ] || BASE_VM=0
BASE_CONSOLE1=$T/vm-console-base1.log
BASE_CONSOLE2=$T/vm-console-base2.log
SHOWN_CONSOLE=			# the console a failure is about

for d in dhcpproxyd tftpd nbdd; do
	case $d in dhcpproxyd) s=dhcp ;; tftpd) s=tftp ;; *) s=nbd ;; esac
	standin "$s" && continue
	[ -x "$BIN/$d" ] || fail "$BIN/$d not built"
	! grep -q 'not implemented yet' "$BIN/$d" ||
		skip "$d is still the placeholder main (not implemented yet)"
done

# The VM's serial console without its escape sequences and carriage returns.
console_tail() {
	tr -d '\r' < "${SHOWN_CONSOLE:-$CONSOLE}" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
		grep -av '^[[:space:]]*$' | uniq -c |
		sed -E 's/^ *1 //; s/^ *([0-9]+) (.*)/\2   [x\1]/' | tail -"$1"
}

# On failure the logs are shown here, the console last and then the reason,
# so that the last lines of the output (all that tests/run shows) say what
# went wrong; lib.sh's own dump is left nothing to repeat.
REASON=
fail() { REASON="$*"; echo "FAIL: $*" >&2; exit 1; }
report() {
	# $rc is the exit status, a local of lib.sh's cleanup that runs us.
	local l
	if [ -n "${E2E_KEEP:-}" ]; then
		mkdir -p "$E2E_KEEP"
		cp "$T"/*.log "$E2E_KEEP"/ 2>/dev/null
		cp --sparse=always "$T/srv/$EXPORT.img" "$E2E_KEEP"/ 2>/dev/null
	fi
	case ${rc:-1} in 0|77) return 0 ;; esac
	for l in dnsmasq dhcpproxyd tftpd nbdd qemu; do
		[ -s "$T/$l.log" ] || continue
		echo "--- $l (last lines)"; tail -8 "$T/$l.log"
	done
	if [ -s "${SHOWN_CONSOLE:-$CONSOLE}" ]; then
		echo "--- VM console $(basename "${SHOWN_CONSOLE:-$CONSOLE}") (last lines)"
		console_tail 60
	else
		echo "--- VM console: empty"
	fi
	echo "e2e-netboot failed: ${REASON:-see above}"
	mkdir -p "$T/shown" && mv "$T"/*.log "$T/shown/" 2>/dev/null
	return 0
}
CLEANUPS+=(report)

# --- the image -------------------------------------------------------------
start=$(date +%s)
img=$("$TOP/tests/e2e/make-image.sh" "$BIN/e2e") || fail "building the image failed"
note "image $img ($(( $(date +%s) - start )) s)"
mkdir -p "$T/srv/boot"
cp --sparse=always "$img" "$T/srv/$EXPORT.img"
ln -s "../$EXPORT.img" "$T/srv/boot/$ENTRY"
sed -e "s/@SERVER@/$SERVER/" -e "s/@PORT@/$NBD_PORT/" \
	-e "s/@EXPORT@/$EXPORT/" -e "s/@TOKEN@/$TOKEN/" \
	"$TOP/tests/e2e/boot.ipxe" > "$T/boot.ipxe"
part1=$(sfdisk -d "$T/srv/$EXPORT.img" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p')
part2=$(sfdisk -d "$T/srv/$EXPORT.img" | sed -n 's/.*2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p')
[ -n "$part1" ] && [ -n "$part2" ] || fail "no partition table in the image"
mcopy -o -i "$T/srv/$EXPORT.img@@$(( part1 * 512 ))" "$T/boot.ipxe" ::boot.ipxe
# The shared base: the same system, its boot script naming export lab,
# a file nbdd may not write.
cp --sparse=always "$img" "$T/srv/$BASE.img"
sed -e "s/@SERVER@/$SERVER/" -e "s/@PORT@/$NBD_PORT/" \
	-e "s/@EXPORT@/$BASE/" -e "s/@TOKEN@/$BASE_TOKEN/" \
	"$TOP/tests/e2e/boot.ipxe" > "$T/boot-base.ipxe"
mcopy -o -i "$T/srv/$BASE.img@@$(( part1 * 512 ))" "$T/boot-base.ipxe" ::boot.ipxe
chmod 444 "$T/srv/$BASE.img"
base_sum=$(sha256sum <"$T/srv/$BASE.img")
ln -s "../$BASE.img" "$T/srv/boot/$BASE_ENTRY"

# --- the network -------------------------------------------------------------
netns_add lan
netns_add router
netns_add boot
LAN=${NS_PREFIX}lan RT=${NS_PREFIX}router BOOT=${NS_PREFIX}boot
ip -n "$LAN" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$LAN" link set br0 up
ip -n "$LAN" link add r-br type veth peer name eth0 netns "$RT"
ip -n "$LAN" link add b-br type veth peer name eth0 netns "$BOOT"
ip -n "$LAN" tuntap add dev tap0 mode tap
ip -n "$LAN" tuntap add dev tap1 mode tap
for l in r-br b-br tap0 tap1; do
	ip -n "$LAN" link set "$l" master br0 up
done
ip -n "$RT" addr add "$ROUTER/24" dev eth0
ip -n "$RT" link set eth0 up
ip -n "$BOOT" addr add "$SERVER/24" dev eth0
ip -n "$BOOT" link set eth0 up

# --- the LAN's DHCP server: addresses only -------------------------------------
start_bg dnsmasq ip netns exec "$RT" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--interface=eth0 --bind-interfaces --log-dhcp --log-facility=- \
	--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,10m \
	--dhcp-leasefile="$T/leases" --pid-file=
DNSMASQ_PID=$LAST_PID
wait_port udp 67 "$RT"

# --- the boot server -------------------------------------------------------------
if standin nbd; then
	note "stand-in: qemu-nbd in place of nbdd"
	start_bg nbdd ip netns exec "$BOOT" qemu-nbd -f raw -x "$EXPORT" -b "$SERVER" \
		-p "$NBD_PORT" --persistent --shared=4 "$T/srv/$EXPORT.img"
else
	start_bg nbdd ip netns exec "$BOOT" "$BIN/nbdd" -v -r "$T/srv" -l "$SERVER" -p "$NBD_PORT" -g "$GRACE"
fi
NBDD_PID=$LAST_PID

if standin tftp; then
	note "stand-in: dnsmasq's TFTP from a directory in place of tftpd"
	mkdir -p "$T/tftp/$ENTRY"
	mcopy -s -i "$T/srv/$EXPORT.img@@$(( part1 * 512 ))" ::/ "$T/tftp/$ENTRY/"
	start_bg tftpd ip netns exec "$BOOT" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
		--interface=eth0 --bind-interfaces --pid-file= \
		--enable-tftp --tftp-root="$T/tftp" --log-facility=-
else
	start_bg tftpd ip netns exec "$BOOT" "$BIN/tftpd" -v -r "$T/srv/boot" -l "$SERVER"
fi
TFTPD_PID=$LAST_PID

if standin dhcp; then
	note "stand-in: dnsmasq's proxy DHCP in place of dhcpproxyd"
	start_bg dhcpproxyd ip netns exec "$BOOT" dnsmasq --no-daemon --conf-file=/dev/null \
		--port=0 --interface=eth0 --bind-interfaces --pid-file= \
		--log-dhcp --dhcp-range="$SERVER,proxy" \
		--dhcp-userclass=set:ipxe,iPXE \
		--pxe-service=tag:ipxe,x86PC,"e2e netboot",$ENTRY/boot.ipxe,$SERVER \
		--dhcp-boot=tag:ipxe,$ENTRY/boot.ipxe,,$SERVER
else
	start_bg dhcpproxyd ip netns exec "$BOOT" "$BIN/dhcpproxyd" -v -r "$T/srv/boot"
fi
DHCPPROXYD_PID=$LAST_PID

wait_port tcp "$NBD_PORT" "$BOOT"
wait_port udp 69 "$BOOT"
wait_port udp 67 "$BOOT"

# --- the virtual machines -----------------------------------------------------
# TCG by default: KVM is not dependable on the machines that run this test
# (it hung the guest on ours, and -cpu host aborted). Debian's
# iPXE ROM for virtio is built for the modern device (1af4:1041), hence
# disable-legacy=on; SeaBIOS skips it on the default transitional device.
# vm_start CONSOLE TAP MAC: a VM with no disk netboots on TAP; sets
# VM_PID and VM_START.
vm_start() {
	VM_START=$(date +%s)
	start_bg "qemu-$(basename "$1" .log)" ip netns exec "$LAN" \
		qemu-system-x86_64 -accel "$ACCEL" \
		-machine pc -m 512 -smp 1 -nographic -monitor none \
		-serial "file:$1" -no-reboot -boot n \
		-netdev tap,id=n0,ifname="$2",script=no,downscript=no \
		-device "virtio-net-pci,disable-legacy=on,netdev=n0,mac=$3,romfile=$ROM"
	VM_PID=$LAST_PID
}

# vm_wait PID START CONSOLE: until the VM powers off, having written its
# marker; sets vm_secs. A failure names the stage the boot reached.
vm_wait() {
	local pid=$1 t0=$2 qrc=0 stage why
	SHOWN_CONSOLE=$3
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(( $(date +%s) - t0 )) -ge "$TIMEOUT" ]; then
			kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
			fail "the VM did not power off within $TIMEOUT s"
		fi
		# SeaBIOS gave up (iPXE failed): no need to wait for the timeout.
		if grep -q 'No bootable device' "$3" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
			fail "the VM found nothing to boot after $(( $(date +%s) - t0 )) s"
		fi
		sleep 1
	done
	wait "$pid" || qrc=$?
	vm_secs=$(( $(date +%s) - t0 ))
	[ "$qrc" = 0 ] || fail "QEMU exited with status $qrc after $vm_secs s"
	# -no-reboot and panic=5: a kernel panic or an initramfs that gives up
	# also ends QEMU, with status 0. Say which stage the boot reached.
	if ! grep -q '^e2e: marker written' "$3"; then
		stage="iPXE never ran the boot script"
		grep -q '^e2e: iPXE script' "$3" && stage="the boot script ran, but the kernel did not start"
		grep -q 'Linux version' "$3" && stage="the kernel started, but the root's init did not run"
		grep -q 'Connected /dev/nbd0' "$3" && stage="nbd-client connected, but the root's init did not run"
		grep -q '^e2e: root is' "$3" && stage="the root's init started, but did not finish"
		# nbd-client's error, the initramfs's alert, the kernel's panic.
		why=$(tr -d '\r' < "$3" | grep -a -E 'Error:|ALERT!|Kernel panic' |
			head -3 | tr '\n' ' ' || true)
		fail "the VM stopped after $vm_secs s: $stage${why:+: $why}"
	fi
}

# The two VMs boot side by side, one core each.
note "booting the VMs ($ACCEL, timeout $TIMEOUT s each)"
vm_start "$CONSOLE" tap0 "$MAC"
QEMU_PID=$VM_PID vm_start_a=$VM_START
if [ "$BASE_VM" = 1 ]; then
	vm_start "$BASE_CONSOLE1" tap1 "$BASE_MAC"
	BASE_PID=$VM_PID base_start=$VM_START
fi
vm_wait "$QEMU_PID" "$vm_start_a" "$CONSOLE"
note "the VM powered off after $vm_secs s"
a_secs=$vm_secs
SHOWN_CONSOLE=

# --- what the VM wrote into the boot partition through nbdd, tftpd serves ---
# The coherence the suite is built for: no mount on the server side, so the
# next TFTP request sees what the client's kernel wrote over NBD.
if standin tftp; then
	note "stand-in TFTP serves a copy of the boot files: e2e-fat.txt not checked"
else
	ip netns exec "$BOOT" curl -sS --max-time 20 -o "$T/e2e-fat.txt" \
		"tftp://$SERVER/$ENTRY/e2e-fat.txt" 2>"$T/curl.out" ||
		fail "fetching $ENTRY/e2e-fat.txt from tftpd failed: $(cat "$T/curl.out")"
	fat=$(cat "$T/e2e-fat.txt")
	[ "$fat" = "written-by-vm $TOKEN" ] ||
		fail "tftpd served e2e-fat.txt as '$fat', expected 'written-by-vm $TOKEN'"
	note "tftpd serves the file the VM wrote on the boot partition: $fat"
fi

# --- the shared base: each boot fresh, the base never written ------------------
if [ "$BASE_VM" = 1 ]; then
	vm_wait "$BASE_PID" "$base_start" "$BASE_CONSOLE1"
	note "the VM on the shared base powered off after $vm_secs s"
	assert_log "$BASE_CONSOLE1" '^e2e: no /marker yet'
	# Its writes to the boot partition are in its overlay; tftpd serves
	# the base's boot files.
	assert_log "$T/tftpd.log" "$BASE_ENTRY/vmlinuz"
	if ip netns exec "$BOOT" curl -sS --max-time 20 -o "$T/base-fat.txt" \
	    "tftp://$SERVER/$BASE_ENTRY/e2e-fat.txt" 2>"$T/curl.out"; then
		fail "tftpd served the base VM's e2e-fat.txt: $(cat "$T/base-fat.txt")"
	fi
	vmip=$(sed -nE "s/^nbdd: ([0-9.]+):[0-9]+: export $BASE \(shared base.*/\1/p" \
	    "$T/nbdd.log" | head -1)
	[ -n "$vmip" ] || fail "nbdd did not serve $BASE through an overlay"
	# No DISC from a VM that powers off: keepalive would drop the dead
	# connection within a minute; ss -K does it now. Then -g runs out.
	if ! grep -q "$vmip: export $BASE: the client disconnected cleanly" "$T/nbdd.log"; then
		ip netns exec "$BOOT" ss -K dst "$vmip" >/dev/null 2>&1 ||
			note "ss -K failed: waiting for keepalive"
	fi
	for _ in $(seq 120); do
		grep -q "$vmip: export $BASE: overlay discarded" "$T/nbdd.log" && break
		sleep 1
	done
	assert_log "$T/nbdd.log" "$vmip: export $BASE: overlay discarded"
	note "the overlay is gone; booting the shared base again"
	vm_start "$BASE_CONSOLE2" tap1 "$BASE_MAC"
	vm_wait "$VM_PID" "$VM_START" "$BASE_CONSOLE2"
	grep -a '^e2e: found /marker' "$BASE_CONSOLE2" &&
		fail "the second boot of the shared base found the first one's marker"
	assert_log "$BASE_CONSOLE2" '^e2e: no /marker yet'
	[ "$(sha256sum <"$T/srv/$BASE.img")" = "$base_sum" ] ||
		fail "the shared base was written"
	note "booted the shared base twice ($vm_secs s), fresh each time, the base unchanged"
	SHOWN_CONSOLE=
fi

# --- our daemons did the work, and shut down cleanly --------------------------
# iPXE took its boot file from the proxy (dnsmasq names none) and its
# address from dnsmasq.
assert_log "$CONSOLE" "tftp://$SERVER/$ENTRY/boot\.ipxe"
assert_log "$T/dnsmasq.log" "DHCPACK.*$MAC"
standin dhcp || assert_log "$T/dhcpproxyd.log" "$ENTRY/boot\.ipxe"
if ! standin tftp; then
	for f in boot.ipxe vmlinuz initrd.img; do
		assert_log "$T/tftpd.log" "$ENTRY/$f"
	done
fi
standin nbd || assert_log "$T/nbdd.log" "$EXPORT"
grep -E ' bytes in ' "$T/tftpd.log" | sed 's/^/# /' || true

# Ours must exit with status 0 on SIGTERM; the stand-ins are just ended.
for d in dhcp:$DHCPPROXYD_PID tftp:$TFTPD_PID nbd:$NBDD_PID; do
	if standin "${d%%:*}"; then
		kill -TERM "${d#*:}"
	else
		stop_pid "${d#*:}"
	fi
done
kill -TERM "$DNSMASQ_PID"

# --- the marker, written through nbdd, is in the image ------------------------
read -r p2start p2size <<<"$part2"
dd if="$T/srv/$EXPORT.img" of="$T/root.ext4" bs=512 skip="$p2start" \
	count="$p2size" status=none
# Replays the journal, if the VM left one, into the copy.
e2fsck -fy "$T/root.ext4" >"$T/e2fsck.out" 2>&1 || [ $? -le 1 ] ||
	fail "e2fsck found the root file system broken: $(cat "$T/e2fsck.out")"
marker=$(debugfs -R 'cat /marker' "$T/root.ext4" 2>/dev/null)
[ -n "$marker" ] || fail "no /marker in the image's root file system"
[ "$marker" = "netboot-ok $TOKEN root=/dev/nbd0p2" ] ||
	fail "/marker holds '$marker', expected 'netboot-ok $TOKEN root=/dev/nbd0p2'"
note "marker found: $marker"
echo "netboot OK in $a_secs s"

# --- a root over TLS ------------------------------------------------------------
# The same VM boots again, now with nbdd in required mode (-X -y): its boot
# entry points at netboot-tls.img, a copy of the image whose initramfs
# carries a client certificate named after the entry (CN=52-54-00-e2-e0-01,
# added by examples/initramfs-tools/hooks/nbd-tls through
# tests/e2e/make-tls-initrd.sh) and runs nbd-client through the boot script
# scripts/nbd-tls-client. The VM mounts /dev/nbd0p2 over TLS, writes its
# marker and powers off. tcpdump captures the NBD port in the server's
# namespace; the streams, reassembled, must hold the plaintext greeting
# (the check can see plaintext) but never the export's name, the marker,
# the file written to the boot partition, or a string from the root's init.
tls_root() {
	local export=netboot-tls ts creds p1 p2s p2n marker fat
	CONSOLE=$T/vm-tls-console.log
	ts=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	. "$TOP/tests/lib/tls.inc"
	tls_make "$T/tls" "$SERVER"
	tls_add_client "$ENTRY"
	creds=$TLS_CLIENT/$ENTRY

	# The image, its initramfs given the Pi's credentials, its entry.
	cp --sparse=always "$img" "$T/srv/$export.img"
	p1=$(( part1 * 512 ))
	mcopy -i "$T/srv/$export.img@@$p1" ::initrd.img "$T/initrd.img"
	"$TOP/tests/e2e/make-tls-initrd.sh" "$T/initrd.img" "$T/initrd-tls.img" "$creds" ||
		fail "over TLS: making the TLS initramfs failed"
	mcopy -o -i "$T/srv/$export.img@@$p1" "$T/initrd-tls.img" ::initrd.img
	sed -e "s/@SERVER@/$SERVER/" -e "s/@PORT@/$NBD_PORT/" \
		-e "s/@EXPORT@/$export/" -e "s/@TOKEN@/$ts/" \
		"$TOP/tests/e2e/boot.ipxe" > "$T/boot-tls.ipxe"
	mcopy -o -i "$T/srv/$export.img@@$p1" "$T/boot-tls.ipxe" ::boot.ipxe
	ln -sfn "../$export.img" "$T/srv/boot/$ENTRY"

	# The servers again, nbdd requiring TLS; the capture first.
	start_bg tcpdump ip netns exec "$BOOT" sh -c \
		'exec tcpdump -i eth0 -n -s 0 -U -w - "tcp port $0" > "$1"' \
		"$NBD_PORT" "$T/nbd-tls.pcap"
	TCPDUMP_PID=$LAST_PID
	start_bg dnsmasq ip netns exec "$RT" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
		--interface=eth0 --bind-interfaces --log-dhcp --log-facility=- \
		--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,10m \
		--dhcp-leasefile="$T/leases" --pid-file=
	DNSMASQ_PID=$LAST_PID
	start_bg nbdd ip netns exec "$BOOT" "$BIN/nbdd" -v -r "$T/srv" -l "$SERVER" \
		-p "$NBD_PORT" -X "$TLS_SERVER" -y
	NBDD_PID=$LAST_PID
	start_bg tftpd ip netns exec "$BOOT" "$BIN/tftpd" -v -r "$T/srv/boot" -l "$SERVER"
	TFTPD_PID=$LAST_PID
	start_bg dhcpproxyd ip netns exec "$BOOT" "$BIN/dhcpproxyd" -v -r "$T/srv/boot"
	DHCPPROXYD_PID=$LAST_PID
	wait_port udp 67 "$RT"
	wait_port tcp "$NBD_PORT" "$BOOT"
	wait_port udp 69 "$BOOT"
	wait_port udp 67 "$BOOT"
	for _ in $(seq 50); do grep -q 'listening on eth0' "$T/tcpdump.log" && break; sleep 0.1; done

	note "booting the VM with its root over TLS ($ACCEL, timeout $TIMEOUT s)"
	vm_start "$CONSOLE" tap0 "$MAC"
	vm_wait "$VM_PID" "$VM_START" "$CONSOLE"
	SHOWN_CONSOLE=
	assert_log "$CONSOLE" "^e2e: marker written, token $ts"
	note "over TLS: the VM powered off after $vm_secs s"
	assert_log "$T/nbdd.log" "TLS required: X\.509 from"
	assert_log "$T/nbdd.log" "TLS: TLS1\.[23] [A-Z0-9-]+, identity $ENTRY"
	assert_log "$T/nbdd.log" "export $export \(read-write"
	ip netns exec "$BOOT" curl -sS --max-time 20 -o "$T/e2e-fat-tls.txt" \
		"tftp://$SERVER/$ENTRY/e2e-fat.txt" 2>"$T/curl.out" ||
		fail "over TLS: fetching e2e-fat.txt failed: $(cat "$T/curl.out")"
	fat=$(cat "$T/e2e-fat-tls.txt")
	[ "$fat" = "written-by-vm $ts" ] ||
		fail "over TLS: tftpd served e2e-fat.txt as '$fat'"
	for d in $DHCPPROXYD_PID $TFTPD_PID $NBDD_PID; do
		stop_pid "$d"
	done
	kill -TERM "$DNSMASQ_PID"
	kill -TERM "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true

	read -r p2s p2n <<<"$part2"
	dd if="$T/srv/$export.img" of="$T/root-tls.ext4" bs=512 skip="$p2s" \
		count="$p2n" status=none
	e2fsck -fy "$T/root-tls.ext4" >"$T/e2fsck.out" 2>&1 || [ $? -le 1 ] ||
		fail "over TLS: e2fsck found the root broken: $(cat "$T/e2fsck.out")"
	marker=$(debugfs -R 'cat /marker' "$T/root-tls.ext4" 2>/dev/null)
	[ "$marker" = "netboot-ok $ts root=/dev/nbd0p2" ] ||
		fail "over TLS: /marker holds '$marker'"
	note "over TLS: marker found: $marker"

	# The root crossed the wire only encrypted.
	/usr/bin/python3 "$TOP/tests/e2e/pcap-streams.py" "$T/nbd-tls.pcap" \
		"$NBD_PORT" --min-bytes $((512 * 1024)) +NBDMAGIC +IHAVEOPT \
		"-$export" "-netboot-ok $ts" "-written-by-vm $ts" \
		"-of the netboot test's root file system" >"$T/pcap.out" 2>&1 ||
		fail "over TLS: the capture: $(cat "$T/pcap.out")"
	note "over TLS: capture: $(head -1 "$T/pcap.out"); no plaintext of the root"
	echo "netboot over TLS OK in $vm_secs s"
}
[ "${E2E_TLS:-1}" = 0 ] || standin nbd || tls_root
