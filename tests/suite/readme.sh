#!/bin/bash
# The README's walkthroughs, run as written, in order, on a fresh LAN:
# every command block of "Preparing an image" and of each "Walkthrough:"
# section is read out of the README and run as it stands, then Pi-like
# clients boot through the result where a walkthrough ends in a boot.
# What the test changes in the commands, and nothing else:
#   - /srv, /var/cache/nbdd and /etc/nbdd under $T ($T/srv is an XFS file
#     system on a loop device, as the per-Pi walkthrough wants), and
#     netboot-prep given -r $T/srv;
#   - image sizes (-S 32G, -S 16G) made 256M, and 40 Pis made 3, to keep
#     the test short;
#   - the daemons' lines run in the server's namespace, with -r for the
#     moved directories and -v;
#   - the downloads are the prep tests' stand-in images
#     (tests/prep/make-fixture.sh: Ubuntu 24.04 and Raspberry Pi OS
#     shaped, Pi 4 firmware stand-ins in them), xz-compressed under the
#     names the README gives. The Ubuntu stand-in has nbd-client in its
#     root already, so netboot-prep appends it to the initramfs without
#     the image's apt-get and the network the README says it needs;
#   - a real Pi 4 (rpi-eeprom-config, power on) is tests/tools/pi-boot;
#     "boot the teacher's Pi, install what the class needs, shut it
#     down" is pi-boot's boot and its checked writes to the root;
#   - the TLS walkthrough's workstation is a namespace of its own, its
#     CA directory $T/dl/ca; step 5 (the Pi's initramfs with its key) is
#     prose here and tests/suite/initramfs-tls.sh's;
#   - the LVM block of the per-Pi walkthrough is documented only (no
#     device mapper here): the test checks it is still the LVM one.
# The LAN, as the first walkthrough has it:
#
#   namespace lan      bridge br0
#   namespace router   192.168.0.1  dnsmasq: addresses only
#   namespace server   192.168.0.4  dhcpproxyd, tftpd, nbdd as the README
#                                   runs them
#   namespace pia      Pi A, serial abcd1234
#   namespace pib      Pi B, serial 1234beef
#   namespace pic      a Pi of the class, no entry (5e700003)
#   namespace ws       192.168.0.9  a workstation: nbdinfo, qemu-img
#
# Each Pi is tests/tools/pi-boot (DHCP, the bootloader's TFTP with the
# kernel and initramfs config.txt names, its root over NBD with every
# byte checked against the image as it was before the boot, then writes
# read back). Asserted along the way: what each step says it makes
# (images, owners and modes, entries, nbdroot=), which export each Pi
# booted, that a shared base is never written and an update of it is
# the teacher's work, that per-Pi copies share their extents, what nbdd's
# TLS lets each certificate see, and the client-side words for nbdd's
# refusals that "When nbdd refuses a client" lists. Also: the Boot storm
# paragraph sits under Performance.
#
# The users and the group the walkthrough makes are made here if missing
# and removed at the end (tests/lib/users.inc).
. "$(dirname "$0")/../lib/lib.sh"
need_root
need ip dnsmasq mcopy mtype sfdisk mkfs.vfat mkfs.ext4 mkfs.xfs losetup \
	debugfs cpio gzip depmod xz filefrag certtool nbdinfo qemu-img \
	adduser addgroup deluser delgroup runuser flock
grep -qw xfs /proc/filesystems || modprobe xfs 2>/dev/null || true
grep -qw xfs /proc/filesystems || skip "this kernel has no xfs"
PIBOOT=$BIN/tools/pi-boot
[ -x "$PIBOOT" ] || fail "no $PIBOOT: build with make BUILD=$BUILD"
[ -x "$BIN/netboot-prep" ] || fail "no $BIN/netboot-prep"
export MTOOLS_SKIP_CHECK=1
README=$TOP/README
. "$TOP/tests/lib/users.inc"
users_lock

# --- the README, in blocks ------------------------------------------------------
# $T/blocks/SECTION.N: the Nth command block of each section (a run of
# lines indented 4 spaces after a blank line), 4 spaces taken off.
mkdir -p "$T/blocks"
/usr/bin/python3 - "$README" "$T/blocks" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
sect, n, block, prev = None, 0, None, ""
def flush():
    global block
    if block is not None and sect:
        open("%s/%s.%d" % (sys.argv[2], sect, n), "w").write("\n".join(block) + "\n")
    block = None
for i, l in enumerate(lines):
    if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]) and l:
        flush()
        m = re.match(r"(Walkthrough: (two Pis|a class|40 per-Pi|NBD over TLS)|Preparing an image)", l)
        sect = {"two Pis": "twopis", "a class": "class", "40 per-Pi": "perpi",
                "NBD over TLS": "tls"}.get(m.group(2), "prep") if m else None
        n = 0
    elif l.startswith("    ") and (block is not None or prev == ""):
        if block is None:
            n += 1
            block = []
        block.append(l[4:])
    else:
        flush()
    prev = l
flush()
PY
for s in prep:1 twopis:5 class:6 perpi:2 tls:4; do
	got=$(ls "$T/blocks" | grep -c "^${s%:*}\.") || true
	[ "$got" = "${s#*:}" ] ||
		fail "README: ${s%:*} has $got command blocks, not ${s#*:}: wire the new ones into this test"
done
# block SECTION N: the block, with the test's paths and sizes.
block() {
	sed -e "s#\([ =:\"']\)/srv#\1$T/srv#g" \
	    -e "s#/var/cache/nbdd#$T/var/cache/nbdd#g" \
	    -e "s#/etc/nbdd#$T/etc/nbdd#g" \
	    -e "s#netboot-prep #$BIN/netboot-prep -r $T/srv #g" \
	    -e "s#-S 32G#-S 256M#g; s#-S 16G#-S 256M#g" \
	    -e 's#seq -w 1 40#seq -w 1 03#' "$T/blocks/$1.$2"
}
# run SECTION N [NAMESPACE]: the block run by bash -e in $T/dl, its
# output in $T/SECTION.N.out.
run() {
	local ns=${3:-} b
	b=$(block "$1" "$2")
	note "README $1, block $2"
	if [ -n "$ns" ]; then
		(cd "$T/dl" && ip netns exec "$NS_PREFIX$ns" bash -euo pipefail -c "$b") \
			>"$T/$1.$2.out" 2>&1
	else
		(cd "$T/dl" && bash -euo pipefail -c "$b") >"$T/$1.$2.out" 2>&1
	fi || fail "README $1, block $2 failed: $b
$(tail -20 "$T/$1.$2.out")"
}
first_word() { grep -m1 -o '^[a-z-]*' "$T/blocks/$1.$2"; }

# The Boot storm paragraph belongs to Performance, not to "Who can reach
# what".
awk '/^Performance$/ { s = "perf" } /^Who can reach what$/ { s = "who" }
	/^Boot storm\. / { print s }' "$README" | has -x perf ||
	fail "README: the Boot storm paragraph is not under Performance"

# nbdd(8) gives the TLS walkthrough's first three blocks as they stand.
sed -n '/^## Setting it up/,/^# /p' "$TOP/man/nbdd.8.scd" |
	awk '/^```/ { n++; next } n == 1' | sed 's/\\\\/\\/g' >"$T/man-tls"
cat "$T/blocks/tls.1" "$T/blocks/tls.2" "$T/blocks/tls.3" | diff - "$T/man-tls" ||
	fail "nbdd(8), Setting it up, differs from the README's TLS blocks 1 to 3"

# --- the downloads --------------------------------------------------------------
mkdir -p "$T/dl" "$T/fx"
"$TOP/tests/prep/make-fixture.sh" ubuntu "$T/fx/ubuntu.img" >/dev/null 2>&1 ||
	fail "building the Ubuntu stand-in"
"$TOP/tests/prep/make-fixture.sh" raspios "$T/fx/raspios.img" >/dev/null 2>&1 ||
	fail "building the Raspberry Pi OS stand-in"
xz -0 -T2 -c "$T/fx/ubuntu.img" >"$T/dl/ubuntu-24.04.1-preinstalled-server-arm64+raspi.img.xz"
ln "$T/dl/ubuntu-24.04.1-preinstalled-server-arm64+raspi.img.xz" \
	"$T/dl/ubuntu-22.04.5-preinstalled-server-arm64+raspi.img.xz"
xz -0 -T2 -c "$T/fx/raspios.img" >"$T/dl/2024-11-19-raspios-bookworm-arm64-lite.img.xz"
for f in "$T"/dl/*.xz; do
	grep -qF "${f##*/}" "$README" || fail "README names no ${f##*/}"
done

# --- /srv: XFS on a loop device ---------------------------------------------------
chmod 755 "$T"	# $T stands for /: the daemons' users pass through it
truncate -s 3G "$T/srv.xfs"
mkfs.xfs -q "$T/srv.xfs"
mkdir -p "$T/srv"
LOOP=$(losetup -f --show "$T/srv.xfs")
unmount_srv() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	umount "$T/srv" 2>/dev/null || umount -l "$T/srv" 2>/dev/null
	losetup -d "$LOOP" 2>/dev/null
}
CLEANUPS+=(unmount_srv)
mount "$LOOP" "$T/srv"

# --- the LAN ----------------------------------------------------------------------
netns_add lan
netns_add router
netns_add server
netns_add pia
netns_add pib
netns_add pic
netns_add ws
LANNS=${NS_PREFIX}lan SRVNS=${NS_PREFIX}server
ip -n "$LANNS" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$LANNS" link set br0 up
veth() {	# veth NAME NS [MAC]
	ip -n "$LANNS" link add name "$1" type veth peer name eth0 netns "$NS_PREFIX$2"
	ip -n "$LANNS" link set "$1" master br0 up
	[ -z "${3:-}" ] || ip -n "$NS_PREFIX$2" link set eth0 address "$3"
	ip -n "$NS_PREFIX$2" link set eth0 up
}
veth r0 router
veth s0 server
veth pa pia dc:a6:32:23:00:0a
veth pb pib dc:a6:32:23:00:0b
veth pc pic dc:a6:32:23:00:0c
veth w0 ws
ip -n "${NS_PREFIX}router" addr add 192.168.0.1/24 dev eth0
ip -n "$SRVNS" addr add 192.168.0.4/24 dev eth0
ip -n "${NS_PREFIX}ws" addr add 192.168.0.9/24 dev eth0
start_bg dnsmasq ip netns exec "${NS_PREFIX}router" dnsmasq --no-daemon \
	--conf-file=/dev/null --port=0 --user=root --interface=eth0 \
	--bind-interfaces --no-ping \
	--dhcp-range=192.168.0.100,192.168.0.200,255.255.255.0,1h \
	--dhcp-leasefile="$T/leases" --pid-file= --log-facility=-
wait_port udp 67 "${NS_PREFIX}router"

# daemons SECTION N: the block's daemon lines, started in the server's
# namespace; a daemon already running is stopped first (the walkthrough
# says "in place of").
declare -A DPID
daemons() {
	local line d args root n=0
	while read -r line; do
		line=${line%%#*}
		line=${line%&*}
		[ -n "${line// /}" ] || continue
		read -r d args <<<"$line"
		case $d in
		dhcpproxyd|tftpd) root=$T/srv/boot ;;
		nbdd) root=$T/srv ;;
		*) continue ;;
		esac
		if [ -n "${DPID[$d]:-}" ]; then
			stop_pid "${DPID[$d]}"
			mv "$T/$d.log" "$T/$d.$RANDOM.old"
		fi
		# shellcheck disable=SC2086
		start_bg "$d" ip netns exec "$SRVNS" "$BIN/$d" $args -r "$root" -v
		DPID[$d]=$LAST_PID
		DAEMON_PIDS+=("$LAST_PID")
		n=$((n + 1))
	done < <(block "$1" "$2")
	[ "$n" -gt 0 ] || fail "README $1, block $2 runs no daemon"
	sleep 0.3
	wait_port udp 67 "$SRVNS"
	wait_port udp 69 "$SRVNS"
	wait_port tcp 10809 "$SRVNS"
}

# boot NS SERIAL IMAGE [WRITES]: a Pi boots; IMAGE is what it must get,
# checked against a copy taken now. Runs in the background: boot_wait.
declare -A BOOTPID
boot() {
	local ns=$1 serial=$2 img=$3 w=${4:-16} start
	rm -rf "$T/pi/$ns"
	mkdir -p "$T/pi/$ns/ref"
	cp --sparse=always --reflink=never "$T/srv/$img.img" "$T/pi/$ns/tpl.img"
	mcopy -s -n -i "$T/pi/$ns/tpl.img@@1M" '::/*' "$T/pi/$ns/ref/"
	chmod -R a+rX "$T/pi/$ns"
	start=$(date +%s.%N)
	ip netns exec "$NS_PREFIX$ns" "$PIBOOT" -i eth0 -n 1 -s "0x$serial" \
		-R "$T/pi/$ns/ref" -T "$T/pi/$ns/tpl.img" -S "$start" -D 120 \
		-w "$w" >"$T/pi/$ns/out" 2>"$T/pi/$ns/err" &
	BOOTPID[$ns]=$!
	PIDS+=("$!")
}
boot_wait() {	# boot_wait NS EXPORT: it booted, from EXPORT
	local rc=0
	wait "${BOOTPID[$1]}" || rc=$?
	sed 's/^/# /' "$T/pi/$1/out"
	[ "$rc" = 0 ] && grep -q ' result=ok ' "$T/pi/$1/out" ||
		fail "$1 did not boot $2: $(cat "$T/pi/$1/out" "$T/pi/$1/err")"
	grep -q "nbdroot=192.168.0.4/$2 " "$T/pi/$1/ref/cmdline.txt" ||
		fail "$2's cmdline.txt: $(cat "$T/pi/$1/ref/cmdline.txt")"
}
# writes_in IMAGE NS N: the N chunks the Pi of NS wrote are in IMAGE.
writes_in() {
	rm -rf "$T/w"; mkdir "$T/w"
	cp "$T/pi/$2/out" "$T/w/pis.txt"
	ln -s "$T/srv/$1.img" "$T/w/pi-$(sed -n 's/.* serial=\([0-9a-f]*\) .*/\1/p' "$T/pi/$2/out").img"
	/usr/bin/python3 "$TOP/tests/storm/report.py" writes "$T/w" "$T/w" "$3" >"$T/w.out" ||
		fail "the writes of $2 are not in $1.img: $(cat "$T/w.out")"
	grep -q "writes checked=$3 bad=0" "$T/w.out" || fail "writes: $(cat "$T/w.out")"
}
entry() { readlink "$T/srv/boot/$1"; }
mode() { stat -c '%U:%G %a' "$T/srv/$1.img"; }
cmdline() { mtype -i "$T/srv/$1.img@@1M" ::cmdline.txt; }

# === Walkthrough: two Pis, two images ============================================
[ "$(first_word twopis 1)" = addgroup ] || fail "twopis block 1 is not the users"
users_prepare nbd tftp
run twopis 1
for u in nbd tftp; do
	id -nG "$u" | tr ' ' '\n' | has -x netboot || fail "$u is not in group netboot"
done
[ -d "$T/var/cache/nbdd" ] || fail "no overlay directory"

# "Preparing an image", now that the users exist.
run prep 1
[ "$(mode pi-a)" = "nbd:netboot 640" ] || fail "pi-a.img is $(mode pi-a)"
[ "$(entry abcd1234)" = ../pi-a.img ] || fail "no entry abcd1234 -> ../pi-a.img"

run twopis 2
for img in jammy noble; do
	[ "$(mode $img)" = "nbd:netboot 640" ] || fail "$img.img is $(mode $img)"
	[ "$(stat -c %s "$T/srv/$img.img")" = $((256 << 20)) ] || fail "$img.img was not grown"
	cmdline $img | has "nbdroot=192.168.0.4/$img " || fail "$img: $(cmdline $img)"
done
[ "$(entry abcd1234)" = ../jammy.img ] || fail "abcd1234 -> $(entry abcd1234)"
[ "$(entry 1234beef)" = ../noble.img ] || fail "1234beef -> $(entry 1234beef)"

daemons twopis 3
boot pia abcd1234 jammy
boot pib 1234beef noble
boot_wait pia jammy
boot_wait pib noble
assert_log "$T/nbdd.log" 'export jammy \(read-write'
assert_log "$T/nbdd.log" 'export noble \(read-write'
writes_in jammy pia 16

# qemu-img prints nbdd's reason itself ("When nbdd refuses a client").
ip netns exec "${NS_PREFIX}ws" qemu-img info nbd://192.168.0.4/nosuch >"$T/qemu.out" 2>&1 &&
	fail "qemu-img opened a missing export"
grep -q 'server reported: export "nosuch": no such export' "$T/qemu.out" ||
	fail "qemu-img: $(cat "$T/qemu.out")"

run twopis 4
[ "$(entry abcd1234)" = ../noble-a.img ] || fail "abcd1234 -> $(entry abcd1234)"
boot pia abcd1234 noble-a
boot_wait pia noble-a
assert_log "$T/nbdd.log" 'export noble-a \(read-write'
run twopis 5
[ "$(entry abcd1234)" = ../jammy.img ] || fail "back to jammy: abcd1234 -> $(entry abcd1234)"

# === Walkthrough: a class of 30 Pis from one image ===============================
run class 1
[ "$(entry abcd1234)" = ../lab-work.img ] || fail "abcd1234 -> $(entry abcd1234)"
boot pia abcd1234 lab-work
boot_wait pia lab-work
run class 2
[ "$(mode lab)" = "root:netboot 440" ] || fail "lab.img is $(mode lab)"
[ ! -e "$T/srv/lab-work.img" ] && [ ! -L "$T/srv/boot/abcd1234" ] ||
	fail "lab-work.img or the teacher's entry is still there"
cmdline lab | has 'nbdroot=192.168.0.4/lab ' || fail "lab: $(cmdline lab)"
writes_in lab pia 16	# the teacher's first boot is in the base
run class 3
[ "$(entry default)" = ../lab.img ] || fail "default -> $(entry default)"
daemons class 4
grep -q -- '-q 2G' <<<"$(block class 4)" || fail "class block 4 is not nbdd -q 2G"
lab_sum=$(sha256sum <"$T/srv/lab.img")
lab_ino=$(stat -c %i "$T/srv/lab.img")
# Two Pis of the class at once, neither with an entry: the shared base.
boot pib 5e700002 lab
boot pic 5e700003 lab
boot_wait pib lab
boot_wait pic lab
assert_log "$T/nbdd.log" 'export lab \(shared base'
[ "$(sha256sum <"$T/srv/lab.img")" = "$lab_sum" ] || fail "the shared base was written"

# A new version: the teacher's copy, upgraded (more writes), is the new
# base.
run class 5
[ "$(entry abcd1234)" = ../lab-work.img ] || fail "abcd1234 -> $(entry abcd1234)"
[ "$(mode lab-work)" = "nbd:netboot 640" ] || fail "lab-work.img is $(mode lab-work)"
cmdline lab-work | has 'nbdroot=192.168.0.4/lab-work ' || fail "lab-work: $(cmdline lab-work)"
boot pia abcd1234 lab-work 32
boot_wait pia lab-work
run class 6
[ "$(mode lab)" = "root:netboot 440" ] || fail "the new lab.img is $(mode lab)"
[ "$(stat -c %i "$T/srv/lab.img")" != "$lab_ino" ] || fail "lab.img was not replaced"
writes_in lab pia 32
cmdline lab | has 'nbdroot=192.168.0.4/lab ' || fail "new lab: $(cmdline lab)"
boot pic 5e700003 lab
boot_wait pic lab

# === Walkthrough: 40 per-Pi images in the space of one ===========================
run perpi 1
cat "$T/perpi.1.out"
for n in 01 02 03; do
	[ "$(mode pi-$n)" = "nbd:netboot 640" ] || fail "pi-$n.img is $(mode pi-$n)"
	cmdline pi-$n | has "nbdroot=192.168.0.4/pi-$n " || fail "pi-$n: $(cmdline pi-$n)"
done
assert_log "$T/perpi.1.out" 'copy: .*/srv/raspios.img .* sharing its blocks \(reflink\)'
shared=$(tail -1 "$T/perpi.1.out")
[ "$shared" -gt 0 ] 2>/dev/null || fail "pi-01.img shares no extent: $shared"
[ "$(entry abcd1234)" = ../pi-01.img ] || fail "abcd1234 -> $(entry abcd1234)"
boot pia abcd1234 pi-01
boot_wait pia pi-01
writes_in pi-01 pia 16
# The LVM block is documented, not run: this machine has no device mapper.
[ "$(first_word perpi 2)" = lvcreate ] || fail "perpi block 2 is not the LVM one"

# === Walkthrough: NBD over TLS ====================================================
mkdir -p "$T/dl/ca"
ln -s . "$T/dl/ca/dl" 2>/dev/null || true
run_ca() {	# the TLS blocks run in the CA's directory
	local b
	b=$(block tls "$1")
	note "README tls, block $1"
	(cd "$T/dl/ca" && ${2:+ip netns exec "$NS_PREFIX$2"} bash -euo pipefail -c "$b") \
		>"$T/tls.$1.out" 2>&1 || fail "README tls, block $1 failed: $b
$(tail -20 "$T/tls.$1.out")"
}
run_ca 1
certtool -i --infile "$T/dl/ca/ca-cert.pem" | has 'Certificate Authority (CA): TRUE' ||
	fail "the README's CA is not a CA"
run_ca 2
for cn in abcd1234 1234beef admin; do
	for f in ca-cert.pem client-cert.pem client-key.pem; do
		[ -f "$T/dl/ca/$cn/$f" ] || fail "no $cn/$f"
	done
done
# Block 3: the credentials installed, then nbdd as the block runs it.
b=$(block tls 3)
(cd "$T/dl/ca" && bash -euo pipefail -c "$(grep -v '^nbdd ' <<<"$b")") ||
	fail "README tls, block 3: $b"
[ "$(stat -c %a "$T/etc/nbdd/tls/server-key.pem")" = 600 ] || fail "server-key.pem's mode"
daemons tls 3
assert_log "$T/nbdd.log" "TLS required: X.509 from $T/etc/nbdd/tls \(client certificates required and verified\); administrators \(-w\): admin"
run_ca 4 ws
cat "$T/tls.4.out"
for e in jammy noble noble-a lab pi-01 pi-02 pi-03; do
	grep -q "export=\"$e\"" "$T/tls.4.out" || fail "admin's list lacks $e"
done
# Pi B's list: noble alone.
b=$(block tls 4 | sed -n 2p)
(cd "$T/dl/ca" && ip netns exec "${NS_PREFIX}ws" bash -euc "$b") >"$T/pib.list" 2>&1 ||
	fail "Pi B's list: $(cat "$T/pib.list")"
[ "$(grep -o 'export="[^"]*"' "$T/pib.list")" = 'export="noble"' ] ||
	fail "Pi B sees more than noble: $(cat "$T/pib.list")"
grep -q 'refused, as it should be' "$T/tls.4.out" || fail "a client without TLS got in"
grep -q 'nbd_opt_list: server replied with error to list request: Operation not supported' "$T/tls.4.out" ||
	fail "nbdinfo without TLS: $(cat "$T/tls.4.out")"
assert_log "$T/nbdd.log" 'LIST refused: TLS is required by this server'

# "When nbdd refuses a client": the words libnbd prints, and where the
# reason is.
ws() { (cd "$T/dl/ca" && ip netns exec "${NS_PREFIX}ws" "$@") 2>&1; }
out=$(ws nbdinfo "nbds://192.168.0.4/jammy?tls-certificates=$T/dl/ca/1234beef") &&
	fail "Pi B opened jammy: $out"
grep -q 'Operation not supported' <<<"$out" || fail "Pi B on jammy: $out"
assert_log "$T/nbdd.log" 'GO refused: export "jammy": boot entry 1234beef points at another image'
out=$(LIBNBD_DEBUG=1 ws nbdinfo "nbds://192.168.0.4/jammy?tls-certificates=$T/dl/ca/1234beef") || true
grep -q 'server error message: export "jammy": boot entry 1234beef points at another image' <<<"$out" ||
	fail "LIBNBD_DEBUG=1 shows no message: $out"
out=$(ws nbdinfo "nbds://192.168.0.4/nosuch?tls-certificates=$T/dl/ca/admin") &&
	fail "a missing export opened"
grep -q 'No such file or directory' <<<"$out" || fail "admin on nosuch: $out"
mkdir -p "$T/nocert"
cp "$T/dl/ca/ca-cert.pem" "$T/nocert/"
out=$(ws nbdinfo --list "nbds://192.168.0.4?tls-certificates=$T/nocert") &&
	fail "a client without a certificate listed exports: $out"
# Which of the two depends on when the client reads nbdd's close.
grep -qE 'The TLS connection was non-properly terminated|Error in the pull function' <<<"$out" ||
	fail "without a certificate: $out"
assert_log "$T/nbdd.log" 'TLS: the client sent no certificate, and client certificates are required: closing'
grep -q 'Error in the pull function' "$README" ||
	fail "README: \"When nbdd refuses a client\" lacks libnbd's other words"

# --- the end --------------------------------------------------------------------
if grep -E 'warning|error|broken' "$T/tftpd.log" "$T/dhcpproxyd.log"; then
	fail "warnings from tftpd or dhcpproxyd"
fi
for d in dhcpproxyd tftpd nbdd; do stop_pid "${DPID[$d]}"; done
DAEMON_PIDS=()
echo ok
