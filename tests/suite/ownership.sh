#!/bin/bash
# netboot(7), OWNERSHIP, done exactly as written, and two Pis booted
# through it. The recipe's commands are read out of man/netboot.7.scd (its
# three blocks: users and directories, the images and entries, the
# daemons), with /srv and /var/cache/nbdd moved under $T, and run as they
# stand; the daemons run under -u as the recipe says, in a LAN of network
# namespaces:
#
#   namespace lan     bridge br0
#   namespace router  10.14.0.1  dnsmasq: addresses only
#   namespace server  10.14.0.2  dhcpproxyd -u nobody, tftpd -u tftp,
#                                nbdd -u nbd -o .../var/cache/nbdd
#   namespace pi1     Pi abcd1234: its own image, pi-01.img (nbd:netboot
#                     0640), through its entry
#   namespace pi2     Pi 5e700002, no entry: default, the shared base
#                     lab.img (root:netboot 0440)
#
# Each Pi is tests/tools/pi-boot (DHCP, the bootloader's TFTP, its root
# over NBD with every byte checked, then writes read back). Asserted: both
# Pis boot; pi1's writes are in pi-01.img afterwards; lab.img is not
# written; no image is readable by another user; tftp reads but cannot
# write the images; the daemons run as the recipe's users, with group
# netboot where it says; nothing is logged as broken. The README's
# walkthrough carries the same commands, and every user an example names
# is nobody, root, or one the example tells how to make.
#
# The users and the group the recipe makes are made here if missing and
# removed at the end; a user that existed is left as it was.
. "$(dirname "$0")/../lib/lib.sh"
need_root
need ip dnsmasq mcopy sfdisk mkfs.vfat adduser addgroup deluser delgroup \
	runuser flock python3
PIBOOT=$BIN/tools/pi-boot
[ -x "$PIBOOT" ] || fail "no $PIBOOT: build with make BUILD=$BUILD"
export MTOOLS_SKIP_CHECK=1
MAN=$TOP/man/netboot.7.scd

# One run at a time on this machine: the users are the machine's.
. "$TOP/tests/lib/users.inc"
users_lock

# --- the recipe, out of the man page -----------------------------------------
# recipe_block N: the lines of the Nth code block of OWNERSHIP, with the
# paths under $T.
recipe_block() {
	sed -n '/^# OWNERSHIP$/,/^# [A-Z]/p' "$MAN" |
		awk -v n="$1" '/^```/ { b++; next } b == 2 * n - 1' |
		sed -e "s|/var/cache/nbdd|$T/var/cache/nbdd|g" \
		    -e "s|\([ :]\)/srv|\1$T/srv|g"
}
SETUP=$(recipe_block 1)
IMAGES=$(recipe_block 2)
DAEMONS=$(recipe_block 3)
[ -n "$SETUP" ] && [ -n "$IMAGES" ] && [ -n "$DAEMONS" ] ||
	fail "no OWNERSHIP recipe (three code blocks) in $MAN"
grep -q "pi-01\.img" <<<"$IMAGES" && grep -q "lab\.img" <<<"$IMAGES" ||
	fail "the recipe's images are not pi-01.img and lab.img: $IMAGES"

# The README's walkthrough makes the users and directories the same way.
while read -r line; do
	grep -qxF "    $line" "$TOP/README" ||
		fail "README's walkthrough lacks the recipe's '$line'"
done < <(recipe_block 1 | sed "s|$T||g")

# Every user an example or a walkthrough names: nobody or root, or one the
# recipe makes; and a file naming one of those says how to make it.
MADE=$(sed -n 's/^adduser --system --group --no-create-home \([a-z]*\)$/\1/p' <<<"$SETUP")
[ -n "$MADE" ] || fail "the recipe makes no user"
for f in "$TOP"/examples/*.service "$TOP"/examples/runit/*/run \
    "$TOP"/examples/inetd.conf.* "$TOP/README" "$TOP"/man/*.scd; do
	# journalctl -u names a unit, not a user.
	users=$(grep -v '^#' "$f" | sed 's/journalctl -u [^ ]*//g' |
		{ grep -oE -- '(^|[ "])-u [a-z_][a-z0-9_-]*' || true; } |
		awk '{ print $2 }' | sort -u)
	case $f in *inetd.conf.*)
		users="$users $(grep -v '^#' "$f" | awk 'NF { print $5 }')" ;;
	esac
	for u in $users; do
		case " nobody root " in *" $u "*) continue ;; esac
		grep -qx "$u" <<<"$MADE" ||
			fail "$f names user $u, which stock Debian lacks and the recipe does not make"
		case $f in
		*.scd) grep -q 'OWNERSHIP' "$f" ||
			fail "$f names user $u without pointing at netboot(7), OWNERSHIP" ;;
		*) grep -q "adduser --system --group --no-create-home $u\$" "$f" ||
			fail "$f names user $u without saying how to make it" ;;
		esac
	done
done

# --- the machine's users: made here if missing, undone at the end -------------
users_prepare $MADE

# $T stands for /: the daemons' users must be able to pass through it.
chmod 755 "$T"
bash -euc "$SETUP" >"$T/setup.out" 2>&1 || fail "the recipe's first block failed: $(cat "$T/setup.out")"
for u in $MADE; do
	id -nG "$u" | tr ' ' '\n' | has -x netboot || fail "$u is not in group netboot"
done

# --- the images, as root writes them (root:root 0644), then the recipe -------
SERVER=10.14.0.2
"$TOP/tests/storm/make-image.sh" "$T/template.img" "$T/ref/template" ||
	fail "building the template image failed"
off=$(( $(sfdisk -d "$T/template.img" | sed -n 's/.*1 : start= *\([0-9]*\),.*/\1/p') * 512 ))
for name in pi-01 lab; do
	cp --sparse=always "$T/template.img" "$T/srv/$name.img"
	sed "s|@NBDROOT@|$SERVER/$name|" "$T/ref/template/cmdline.txt" > "$T/cmdline-$name.txt"
	mcopy -o -i "$T/srv/$name.img@@$off" "$T/cmdline-$name.txt" ::/cmdline.txt
	cp -r "$T/ref/template" "$T/ref/$name"
	cp "$T/cmdline-$name.txt" "$T/ref/$name/cmdline.txt"
done
chmod -R a+rX "$T/ref"
bash -euc "$IMAGES" >"$T/images.out" 2>&1 || fail "the recipe's second block failed: $(cat "$T/images.out")"
lab_sum=$(sha256sum < "$T/srv/lab.img")

# What the recipe promises, as the users see it.
[ "$(stat -c '%U:%G %a' "$T/srv/pi-01.img")" = "nbd:netboot 640" ] ||
	fail "pi-01.img is $(stat -c '%U:%G %a' "$T/srv/pi-01.img")"
[ "$(stat -c '%U:%G %a' "$T/srv/lab.img")" = "root:netboot 440" ] ||
	fail "lab.img is $(stat -c '%U:%G %a' "$T/srv/lab.img")"
for img in pi-01 lab; do
	runuser -u nobody -- head -c 1 "$T/srv/$img.img" >/dev/null 2>&1 &&
		fail "nobody can read $img.img (SSH host keys, password hashes)"
	runuser -u tftp -- head -c 1 "$T/srv/$img.img" >/dev/null ||
		fail "tftp cannot read $img.img"
	runuser -u tftp -- sh -c ": >> '$T/srv/$img.img'" 2>/dev/null &&
		fail "tftp can write $img.img"
done
runuser -u nbd -- sh -c ": >> '$T/srv/pi-01.img'" || fail "nbd cannot write pi-01.img"
runuser -u nbd -- sh -c ": >> '$T/srv/lab.img'" 2>/dev/null && fail "nbd can write lab.img"
runuser -u nbd -- sh -c ": > '$T/srv/new.img'" 2>/dev/null && fail "nbd can add an image to /srv"

# --- the LAN ----------------------------------------------------------------------
netns_add lan
netns_add router
netns_add server
netns_add pi1
netns_add pi2
LAN=${NS_PREFIX}lan RT=${NS_PREFIX}router SRVNS=${NS_PREFIX}server
ip -n "$LAN" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$LAN" link set br0 up
veth() {	# veth NAME NS [MAC]
	ip -n "$LAN" link add name "$1" type veth peer name eth0 netns "$2"
	ip -n "$LAN" link set "$1" master br0 up
	[ -z "${3:-}" ] || ip -n "$2" link set eth0 address "$3"
	ip -n "$2" link set eth0 up
}
veth r0 "$RT"
veth s0 "$SRVNS"
veth p1 "${NS_PREFIX}pi1" dc:a6:32:14:00:01
veth p2 "${NS_PREFIX}pi2" e4:5f:01:14:00:02
ip -n "$RT" addr add 10.14.0.1/24 dev eth0
ip -n "$SRVNS" addr add "$SERVER/24" dev eth0
start_bg dnsmasq ip netns exec "$RT" dnsmasq --no-daemon --conf-file=/dev/null \
	--port=0 --user=root --interface=eth0 --bind-interfaces --no-ping \
	--dhcp-range=10.14.0.100,10.14.0.150,255.255.255.0,1h \
	--dhcp-leasefile="$T/leases" --pid-file= --log-facility=-
DNSMASQ_PID=$LAST_PID
wait_port udp 67 "$RT"

# --- the daemons, as the recipe runs them ----------------------------------------
while read -r daemon flags; do
	case $daemon in
	dhcpproxyd|tftpd) root=$T/srv/boot ;;
	nbdd) root=$T/srv ;;
	*) fail "the recipe's third block runs '$daemon'" ;;
	esac
	# shellcheck disable=SC2086
	start_bg "$daemon" ip netns exec "$SRVNS" "$BIN/$daemon" $flags -r "$root" -v
	DAEMON_PIDS+=("$LAST_PID")
	eval "${daemon^^}_PID=$LAST_PID"
done <<<"$DAEMONS"
[ -n "${DHCPPROXYD_PID:-}" ] && [ -n "${TFTPD_PID:-}" ] && [ -n "${NBDD_PID:-}" ] ||
	fail "the recipe does not run all three daemons: $DAEMONS"
wait_port udp 67 "$SRVNS"
wait_port udp 69 "$SRVNS"
wait_port tcp 10809 "$SRVNS"

# runs_as PID USER [GROUP]: the process's uid, and GROUP among its groups.
runs_as() {
	local want uid groups
	want=$(id -u "$2")
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$1/status")
	[ "$uid" = "$want$want$want$want" ] || fail "pid $1 runs as uid $uid, not $2"
	[ -n "${3:-}" ] || return 0
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$1/status")
	grep -qw "$(getent group "$3" | cut -d: -f3)" <<<"$groups" ||
		fail "pid $1 ($2) is not in group $3: groups$groups"
}
sleep 0.5
runs_as "$DHCPPROXYD_PID" nobody
runs_as "$TFTPD_PID" tftp netboot
runs_as "$NBDD_PID" nbd netboot

# --- two Pis power on --------------------------------------------------------------
start=$(date +%s.%N)
ip netns exec "${NS_PREFIX}pi1" "$PIBOOT" -i eth0 -n 1 -s 0xabcd1234 \
	-R "$T/ref/pi-01" -T "$T/template.img" -S "$start" -D 300 -w 16 \
	>"$T/pi1.out" 2>"$T/pi1.err" &
PI1=$!
PIDS+=("$PI1")
ip netns exec "${NS_PREFIX}pi2" "$PIBOOT" -i eth0 -n 2 -s 0x5e700002 \
	-R "$T/ref/lab" -T "$T/template.img" -S "$start" -D 300 -w 16 \
	>"$T/pi2.out" 2>"$T/pi2.err" &
PI2=$!
PIDS+=("$PI2")
rc1=0 rc2=0
wait "$PI1" || rc1=$?
wait "$PI2" || rc2=$?
sed 's/^/# /' "$T/pi1.out" "$T/pi2.out"
[ "$rc1" = 0 ] && grep -q ' result=ok ' "$T/pi1.out" ||
	fail "pi1 (its own image) did not boot: $(cat "$T/pi1.out" "$T/pi1.err")"
[ "$rc2" = 0 ] && grep -q ' result=ok ' "$T/pi2.out" ||
	fail "pi2 (the shared base, by default) did not boot: $(cat "$T/pi2.out" "$T/pi2.err")"
assert_log "$T/nbdd.log" 'export pi-01 \(read-write'
assert_log "$T/nbdd.log" 'export lab \(shared base'
if grep -E 'warning|error|broken' "$T/tftpd.log" "$T/dhcpproxyd.log"; then
	fail "warnings from tftpd or dhcpproxyd"
fi

# --- afterwards ----------------------------------------------------------------------
for p in "$DHCPPROXYD_PID" "$TFTPD_PID" "$NBDD_PID"; do stop_pid "$p"; done
DAEMON_PIDS=()
# pi1's writes are in its own image; the shared base is as it was.
mkdir "$T/writes"
cp "$T/pi1.out" "$T/writes/pis.txt"
ln -s "$T/srv/pi-01.img" "$T/writes/pi-abcd1234.img"
python3 "$TOP/tests/storm/report.py" writes "$T/writes" "$T/writes" 16 >"$T/writes.out" ||
	fail "pi1's writes are not in pi-01.img: $(cat "$T/writes.out")"
grep -q 'writes checked=16 bad=0' "$T/writes.out" || fail "writes: $(cat "$T/writes.out")"
[ "$(sha256sum < "$T/srv/lab.img")" = "$lab_sum" ] || fail "the shared base was written"
[ "$(stat -c '%U:%G %a' "$T/srv/lab.img")" = "root:netboot 440" ] ||
	fail "lab.img's owner or mode changed"
stop_pid "$DNSMASQ_PID"
note "booted pi-01.img as tftp and nbd through group netboot, and lab.img as a shared base"
echo ok
