#!/bin/bash
# Two boot servers on one LAN, one Ceph cluster (netboot(7), SEVERAL
# SERVERS). Each server runs dhcpproxyd, tftpd -C and nbdd -C over the
# same layout: every Pi's /srv/pi-SERIAL.img is a symlink to
# rbd:rbd/pi-SERIAL, so both servers have an entry for every Pi and both
# proxies answer. A Pi boots from whichever offer it takes; its
# cmdline.txt (inside its image, in Ceph) names the NBD service address,
# which one server holds at a time, as keepalived would move it.
#
# Checked, with tests/tools/pi-boot as the Pis (every TFTP byte against
# the image's own files, every NBD read against the template, its writes
# read back after FLUSH):
#  - every Pi boots, and each image's RBD lock is held by the server that
#    serves it; the other server, asked for the same image, refuses and
#    names the holder (one writer across servers);
#  - server A killed with SIGKILL (dhcpproxyd, tftpd and nbdd at once)
#    and the service address moved to B: every Pi, started again, boots
#    from B, which takes each lock once A's watch has expired; what a Pi
#    wrote through A and flushed is there when it boots from B;
#  - B exits cleanly; nothing is left running.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/ceph.inc"
need dnsmasq mcopy mkfs.vfat sfdisk nbdinfo
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "python3-libnbd not installed"
PIBOOT=$BIN/tools/pi-boot
[ -x "$PIBOOT" ] || fail "no $PIBOOT: build with make BUILD=$BUILD"

PIS=4
NET=10.14
ROUTER=$NET.0.1
SERVICE=$NET.0.10		# the NBD service address, A's then B's
declare -A LANADDR=([a]=$NET.0.2 [b]=$NET.0.3)
declare -A STOREADDR=([a]=10.99.0.2 [b]=10.99.0.3)
LAN=${NS_PREFIX}lan
TEMPLATE=$T/template.img
REF=$T/ref
chmod 755 "$T"

pi_serial() { printf '%08x' $((0x7e700000 + $1)); }
pi_mac() { printf 'dc:a6:32:7e:00:%02x' "$1"; }

veth() {	# veth NAME NS: NS's eth0 on the LAN's bridge
	ip -n "$LAN" link add name "$1" type veth peer name eth0 netns "$2"
	ip -n "$LAN" link set "$1" master br0 up
	ip -n "$2" link set eth0 up
}

ceph_start

# --- the LAN: a router with the LAN's DHCP server, two servers, the Pis ----
netns_add lan
ip -n "$LAN" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$LAN" link set br0 up
netns_add router
veth r0 "${NS_PREFIX}router"
ip -n "${NS_PREFIX}router" addr add "$ROUTER/16" dev eth0
for s in a b; do
	netns_add "srv$s"
	veth "s$s" "${NS_PREFIX}srv$s"
	ip -n "${NS_PREFIX}srv$s" addr add "${LANADDR[$s]}/16" dev eth0
	ceph_attach "srv$s" "${STOREADDR[$s]}"
done
for i in $(seq $PIS); do
	netns_add "pi$i"
	ip -n "$LAN" link add name "p$i" type veth peer name eth0 netns "${NS_PREFIX}pi$i"
	ip -n "${NS_PREFIX}pi$i" link set eth0 address "$(pi_mac "$i")" up
	ip -n "$LAN" link set "p$i" master br0 up
done
sed -e "s/^interface=.*/interface=eth0/" \
    -e "s/^dhcp-range=.*/dhcp-range=$NET.1.0,$NET.1.200,255.255.0.0,1h/" \
    -e "s/192\.168\.0\.1\$/$ROUTER/" \
    -e "s|^dhcp-leasefile=.*|dhcp-leasefile=$T/leases|" \
    "$TOP/examples/dnsmasq-dhcp-only.conf" > "$T/router.conf"
printf 'no-ping\nuser=root\n' >> "$T/router.conf"
start_bg router ip netns exec "${NS_PREFIX}router" dnsmasq --keep-in-foreground \
	--conf-file="$T/router.conf" --pid-file= --log-facility=-
wait_port udp 67 "${NS_PREFIX}router"

# --- the images, in Ceph: one per Pi, its cmdline.txt naming the service ----
START4_BYTES=262144 KERNEL_BYTES=524288 INITRD_BYTES=1048576 ROOT_MIB=20 \
	"$TOP/tests/storm/make-image.sh" "$TEMPLATE" "$REF/template" ||
	fail "building the template image failed"
off=$(( $(sfdisk -d "$TEMPLATE" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p') * 512 ))
export MTOOLS_SKIP_CHECK=1
for i in $(seq $PIS); do
	sn=$(pi_serial "$i")
	cp --sparse=always "$TEMPLATE" "$T/pi-$sn.img"
	sed "s|@NBDROOT@|$SERVICE/pi-$sn|" "$REF/template/cmdline.txt" > "$T/cmdline-$sn.txt"
	mcopy -o -i "$T/pi-$sn.img@@$off" "$T/cmdline-$sn.txt" ::/cmdline.txt
	cp -al "$REF/template" "$REF/$sn"
	rm "$REF/$sn/cmdline.txt"
	cp "$T/cmdline-$sn.txt" "$REF/$sn/cmdline.txt"
	rbd import --no-progress "$T/pi-$sn.img" "rbd/pi-$sn" ||
		fail "rbd import of pi-$sn failed"
	rm "$T/pi-$sn.img"
done
chmod -R a+rX "$REF"

# --- the two servers: the same layout, each its own Ceph client ------------
declare -A CEPHARG DPID TPID NPID
for s in a b; do
	CEPHARG[$s]=$(ceph_client "srv$s")
	mkdir -p "$T/srv$s/boot"
	for i in $(seq $PIS); do
		sn=$(pi_serial "$i")
		ln -s "rbd:rbd/pi-$sn" "$T/srv$s/pi-$sn.img"
		ln -s "../pi-$sn.img" "$T/srv$s/boot/$sn"
	done
done
start_server() {	# start_server a|b
	local s=$1 ns=${NS_PREFIX}srv$1
	start_bg "dhcpproxyd-$s" ip netns exec "$ns" "$BIN/dhcpproxyd" -r "$T/srv$s/boot"
	DPID[$s]=$LAST_PID
	start_bg "tftpd-$s" ip netns exec "$ns" "$BIN/tftpd" -r "$T/srv$s/boot" -C "${CEPHARG[$s]}"
	TPID[$s]=$LAST_PID
	start_bg "nbdd-$s" ip netns exec "$ns" "$BIN/nbdd" -r "$T/srv$s" -C "${CEPHARG[$s]}"
	NPID[$s]=$LAST_PID
	wait_port udp 67 "$ns"
	wait_port udp 69 "$ns"
	wait_port tcp 10809 "$ns"
}
start_server a
start_server b
ip -n "${NS_PREFIX}srva" addr add "$SERVICE/16" dev eth0

# boot_all ROUND: every Pi boots once, from power-on to its root; fails
# naming each Pi that did not reach it.
boot_all() {	# boot_all ROUND WRITES
	local round=$1 writes=$2 i sn pids=() bad=""
	for i in $(seq $PIS); do
		sn=$(pi_serial "$i")
		ip netns exec "${NS_PREFIX}pi$i" "$PIBOOT" -i eth0 -n "$i" -s "0x$sn" \
			-R "$REF/$sn" -T "$TEMPLATE" -D 150 -b 1048576 -w "$writes" -x 5000 \
			>"$T/$round-pi$i.out" 2>"$T/$round-pi$i.err" &
		pids+=("$!")
		PIDS+=("$!")
	done
	for i in $(seq $PIS); do
		wait "${pids[$((i - 1))]}" || true
		has 'result=ok' "$T/$round-pi$i.out" ||
			bad="$bad
  pi$i: $(cat "$T/$round-pi$i.out" "$T/$round-pi$i.err")"
	done
	[ -z "$bad" ] || fail "$round: not every Pi reached its root:$bad"
	note "$round: $PIS Pis at their root; attempts: $(sed -n 's/^pi .*attempts=\([0-9]*\).*/\1/p' "$T/$round"-pi*.out | tr '\n' ' ')"
	# The attempts that failed, and why (a Pi tries again 5 s later).
	sed -n 's/^try id=\([0-9]*\) n=\([0-9]*\) phase=\([a-z]*\) reason=\("[^"]*"\).*/# pi\1 attempt \2 failed in \3: \4/p' \
		"$T/$round"-pi*.out
}

# holder IMAGE: the address of the RBD lock's holder, "" if none.
holder() {
	rbd lock ls --format json "rbd/$1" |
		python3 -c 'import json,sys; l=json.load(sys.stdin); print(l[0]["address"].split(":")[0] if l else "")'
}

# check_written SERIAL FILE WHAT: FILE (the last 4 MiB of the Pi's image,
# its scratch area) holds the 8 chunks pi-boot writes, each in its place.
check_written() {
	python3 - "$1" "$2" "$3" <<-'PY' || fail "$3"
	import sys
	serial, path, what = int(sys.argv[1], 16), sys.argv[2], sys.argv[3]
	area = open(path, "rb").read()
	for k in range(8):
	    n = 4096 * (1 + (k * 7 + serial) % 16)
	    rec = ("%08x chunk %04d\n" % (serial, k)).encode()
	    want = (rec * (n // len(rec) + 1))[:n]
	    if area[k * 65536:k * 65536 + n] != want:
	        sys.exit("%s: chunk %d is not what the Pi wrote" % (what, k))
	PY
}

# --- round 1: both servers up, the service on A ------------------------------
boot_all first 8
for i in $(seq $PIS); do
	sn=$(pi_serial "$i")
	assert_log "$T/nbdd-a.log" "claims image pi-$sn \\(.*locked in Ceph"
	! has "claims image pi-$sn" "$T/nbdd-b.log" ||
		fail "server B claimed pi-$sn while the service address was A's"
done
note "both proxies answered; TFTP transfers per server: A $(grep -c ' bytes in ' "$T/tftpd-a.log" || true), B $(grep -c ' bytes in ' "$T/tftpd-b.log" || true)"

# One writer across servers: while a client of A has pi-1 open, Ceph's
# lock on it is A's; B, asked for it, refuses and says who holds it. The
# client writes where no Pi does (chunk 9 of the scratch area) and
# flushes: B must serve it after A dies.
HELD_AT=$((4194304 - 9 * 65536))
sn1=$(pi_serial 1)
mkfifo "$T/hold"
start_bg holder ip netns exec "${NS_PREFIX}srva" /usr/bin/python3 -c "
import nbd
h = nbd.NBD()
h.connect_uri('nbd://$SERVICE/pi-$sn1')
h.pwrite(b'held by A', h.get_size() - $HELD_AT)
h.flush()
print('holding', flush=True)
open('$T/hold').read()"
HOLDER_PID=$LAST_PID
for _ in $(seq 100); do has holding "$T/holder.log" 2>/dev/null && break; assert_alive "$HOLDER_PID"; sleep 0.1; done
has holding "$T/holder.log" || fail "A's client could not open pi-$sn1: $(cat "$T/holder.log")"
[ "$(holder "pi-$sn1")" = "${STOREADDR[a]}" ] ||
	fail "with A's client connected, pi-$sn1's lock is held by '$(holder "pi-$sn1")', not by A"
# (libnbd shows the server's words in its debug output.)
if ip netns exec "${NS_PREFIX}srvb" env LIBNBD_DEBUG=1 nbdinfo "nbd://127.0.0.1/pi-$sn1" \
    >"$T/info-b.out" 2>&1; then
	fail "server B served pi-$sn1 while server A held its lock"
fi
has "in use by .*${STOREADDR[a]}" "$T/info-b.out" ||
	fail "B's refusal does not name the holder: $(grep -v '^libnbd: debug' "$T/info-b.out")"
assert_log "$T/nbdd-b.log" "GO refused: image pi-$sn1 is in use by .*${STOREADDR[a]}"
[ "$(holder "pi-$sn1")" = "${STOREADDR[a]}" ] || fail "B's refused client moved the lock"

# What each Pi wrote through A and flushed is in Ceph.
for i in $(seq $PIS); do
	sn=$(pi_serial "$i")
	rbd export --no-progress "rbd/pi-$sn" "$T/after-a.img" >/dev/null
	tail -c 4194304 "$T/after-a.img" > "$T/written-a-$sn"
	rm "$T/after-a.img"
	check_written "$sn" "$T/written-a-$sn" "pi-$sn in Ceph after A"
done

# --- round 2: A dies at once, the service address moves to B -----------------
kill -KILL "${DPID[a]}" "${TPID[a]}" "${NPID[a]}"
for p in "${DPID[a]}" "${TPID[a]}" "${NPID[a]}"; do wait "$p" 2>/dev/null || true; done
kill "$HOLDER_PID" 2>/dev/null; wait "$HOLDER_PID" 2>/dev/null || true
ip -n "${NS_PREFIX}srva" addr del "$SERVICE/16" dev eth0
ip -n "${NS_PREFIX}srvb" addr add "$SERVICE/16" dev eth0
killed=$(date +%s.%N)
boot_all second 0
for i in $(seq $PIS); do
	assert_log "$T/nbdd-b.log" "claims image pi-$(pi_serial "$i") \\(.*locked in Ceph"
done
note "$(printf 'every Pi booted again from B within %.0f s of A being killed' \
	"$(echo "$(date +%s.%N) - $killed" | bc)")"
# B serves what the Pis wrote through A (the second boot wrote nothing).
for i in $(seq $PIS); do
	sn=$(pi_serial "$i")
	ip netns exec "${NS_PREFIX}srvb" /usr/bin/python3 -c '
import nbd, sys
h = nbd.NBD()
h.connect_uri(sys.argv[1])
sys.stdout.buffer.write(h.pread(4194304, h.get_size() - 4194304))' \
		"nbd://127.0.0.1/pi-$sn" > "$T/written-b-$sn" ||
		fail "reading pi-$sn through B failed"
	check_written "$sn" "$T/written-b-$sn" "pi-$sn read through B"
done
ip netns exec "${NS_PREFIX}srvb" /usr/bin/python3 -c "
import nbd, sys
h = nbd.NBD()
h.connect_uri('nbd://127.0.0.1/pi-$sn1')
sys.stdout.buffer.write(h.pread(9, h.get_size() - $HELD_AT))" > "$T/held.out"
[ "$(cat "$T/held.out")" = "held by A" ] ||
	fail "what A's client flushed before A died is not what B serves: '$(cat "$T/held.out")'"

for s in "${DPID[b]}" "${TPID[b]}" "${NPID[b]}"; do stop_pid "$s"; done
echo "PASS: two servers, one cluster: every Pi booted, one writer each, and again from B after A died"
