#!/bin/bash
# A boot entry that is there but broken never boots default, in any of the
# three daemons. The layout has a default entry (lab.img) and entries that
# dangle (aaaa0001 -> ../nosuch.img), point the wrong way (aaaa0005 ->
# pi-05.img: relative to the boot directory, where there is none), loop,
# lead to a FIFO, or point at an image the daemons' user (-u nobody) may
# not read (aaaa0007 -> ../pi-07.img, root's, mode 0600). The Pis behind
# them must get nothing of default's:
#   - tftpd: "file not found" (error 1) for every file beneath them, and a
#     warning naming the client, the entry, its target and why;
#     rate-limited under a flood;
#   - dhcpproxyd: no proxy offer, and a warning that the entry is broken
#     (not "no boot entry"); it only looks, so an image its user cannot
#     read is tftpd's to refuse;
#   - nbdd over TLS: a Pi's certificate whose entry is broken does not
#     open what default boots.
# A Pi without an entry still boots default, through all three.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../dhcpproxyd/net.inc"
. "$TOP/tests/lib/tls.inc"
need python3 mkfs.vfat mcopy
id nobody >/dev/null 2>&1 || skip "no user nobody"
export MTOOLS_SKIP_CHECK=1
RAW="python3 $TOP/tests/tools/tftp-raw.py"
NBDRAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
PITFTP=$BIN/tools/pi-tftp

# --- the layout ------------------------------------------------------------
chmod 755 "$T"
S=$T/srv
mkdir -p "$S/boot" "$T/out"
# bare_fat IMG TEXT: a FAT image whose config.txt says TEXT.
bare_fat() {
	mkfs.vfat -C "$1" 1440 >/dev/null
	printf '%s\n' "$2" > "$T/config.txt"
	mcopy -i "$1" "$T/config.txt" ::config.txt
}
bare_fat "$S/lab.img" "default's config"
bare_fat "$S/pi-05.img" "pi-05's config"
bare_fat "$S/pi-07.img" "pi-07's config"
chmod 644 "$S/lab.img" "$S/pi-05.img"
chmod 600 "$S/pi-07.img"
mkfifo "$S/fifo"
ln -s ../lab.img "$S/boot/default"
ln -s ../nosuch.img "$S/boot/aaaa0001"
ln -s pi-05.img "$S/boot/aaaa0005"
ln -s aaaa0002 "$S/boot/aaaa0002"
ln -s ../fifo "$S/boot/aaaa0003"
ln -s ../pi-07.img "$S/boot/aaaa0007"

# --- tftpd ------------------------------------------------------------------
PORT=$(free_port udp)
start_bg tftpd "$BIN/tftpd" -r "$S/boot" -l 127.0.0.1 -p "$PORT" -u nobody
TFTPD_PID=$LAST_PID
wait_port udp "$PORT"
LOG=$T/tftpd.log

# A Pi without an entry boots default.
$PITFTP -p "$PORT" get 1234beef/config.txt "$T/out/default" >/dev/null ||
	fail "a Pi without an entry did not get default's config.txt"
[ "$(cat "$T/out/default")" = "default's config" ] ||
	fail "default's config.txt: $(cat "$T/out/default")"

# broken NAME TARGET REASON: NAME/config.txt is "file not found", nothing
# of default's is sent, and the warning says which entry, where and why.
broken() {
	local name=$1 target=$2 reason=$3 out=$T/out/$1
	rm -f "$out"
	if $PITFTP -p "$PORT" get "$name/config.txt" "$out" \
	    >/dev/null 2>"$T/err"; then
		fail "$name/config.txt was served: $(cat "$out")"
	fi
	grep -q "server error 1" "$T/err" ||
		fail "$name/config.txt: not 'file not found': $(cat "$T/err")"
	! grep -qs "default's" "$out" || fail "$name got default's config.txt"
	sleep 0.2
	assert_log "$LOG" "^tftpd: warning: 127\.0\.0\.1:[0-9]+: $name/config\.txt: broken boot entry $name -> $target: $reason\$"
}
broken aaaa0001 '\.\./nosuch\.img' 'No such file or directory'
broken aaaa0005 'pi-05\.img' 'No such file or directory'
broken aaaa0002 aaaa0002 'Too many levels of symbolic links'
broken aaaa0003 '\.\./fifo' 'a FIFO, socket or character device: never opened'
broken aaaa0007 '\.\./pi-07\.img' 'Permission denied \(netboot\(7\), OWNERSHIP\)'
# As the Pi's probe does it too (tsize, then the transfer).
if $PITFTP -p "$PORT" -T get aaaa0001/start4.elf - >/dev/null 2>&1; then
	fail "the Pi's probe beneath a broken entry was answered"
fi

# A flood of requests beneath a broken entry: every one refused, the
# warnings rate-limited (a burst, then a count held back).
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
N=600
before=$(grep -c 'aaaa0001/flood.txt' "$LOG" || true)
out=$($RAW "$PORT" flood $N "0001$(hex aaaa0001/flood.txt)00$(hex octet)00")
[ "$out" = "$N ERROR 1 File not found" ] || fail "flood answers: $out"
sleep 0.2
n=$(( $(grep -c 'aaaa0001/flood.txt: broken boot entry' "$LOG") - before ))
[ "$n" -ge 100 ] && [ "$n" -lt "$N" ] ||
	fail "$n warnings for $N requests beneath a broken entry"
note "$N requests beneath a broken entry: $n warnings logged"
assert_alive "$TFTPD_PID"
stop_pid "$TFTPD_PID"

# --- dhcpproxyd -------------------------------------------------------------
dp_net
dp_dnsmasq
rmdir "$T/boot"
ln -s "$S/boot" "$T/boot"
dp_start -u nobody
# dp_pi SERIAL MAC: the Pi's DISCOVER; its output is $T/dp-SERIAL.out.
dp_pi() { dp_client -m pi -s "$1" -M "$2" >"$T/dp-$1.out"; }
dp_pi 1234beef dc:a6:32:00:00:09
assert_lan_offer "$T/dp-1234beef.out"
assert_pi_offer "$T/dp-1234beef.out"
for e in 'aaaa0001 dc:a6:32:00:00:01 \.\./nosuch\.img: No such file or directory' \
	'aaaa0005 dc:a6:32:00:00:05 pi-05\.img: No such file or directory' \
	'aaaa0003 dc:a6:32:00:00:03 \.\./fifo: a FIFO, socket or character device: never opened'; do
	read -r serial mac why <<<"$e"
	dp_pi "$serial" "$mac"
	assert_lan_offer "$T/dp-$serial.out"
	[ -z "$(replies_from "$T/dp-$serial.out" "$BOOT_IP")" ] ||
		fail "$serial, whose entry is broken, got a proxy offer"
	assert_log "$T/dhcpproxyd.log" "^dhcpproxyd: warning: $serial $mac: not answered, broken boot entry $serial -> $why\$"
done
grep -E 'aaaa000[135] .*no boot entry' "$T/dhcpproxyd.log" &&
	fail "dhcpproxyd said a broken entry is missing"
# A broken MAC entry is as broken as a serial's.
ln -s ../gone.img "$S/boot/dc-a6-32-00-00-0a"
dp_pi 0 dc:a6:32:00:00:0a
[ -z "$(replies_from "$T/dp-0.out" "$BOOT_IP")" ] ||
	fail "a Pi whose MAC entry is broken got a proxy offer"
assert_log "$T/dhcpproxyd.log" "not answered, broken boot entry dc-a6-32-00-00-0a -> \.\./gone\.img"
# ... and with -a too: its entry says it boots something else.
dp_restart -a
dp_pi aaaa0001 dc:a6:32:00:00:01
[ -z "$(replies_from "$T/dp-aaaa0001.out" "$BOOT_IP")" ] ||
	fail "-a answered a Pi whose entry is broken"
assert_alive "$DP_PID"
stop_pid "$DP_PID"
stop_pid "$DNSMASQ_PID"

# --- nbdd over TLS ---------------------------------------------------------------
# Two Pis' certificates: abcd1234 has no entry (it opens what default
# boots), dc-a6-32-01-36-c2's entry dangles (it opens nothing).
tls_make "$T/tls"
rm "$S/fifo"	# nbdd lists the root: keep only images there
ln -s ../pi-05.img.gone "$S/boot/dc-a6-32-01-36-c2"
NPORT=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$S" -B "$S/boot" -l 127.0.0.1 -p "$NPORT" \
	-X "$TLS_SERVER" -y -v
NBDD_PID=$LAST_PID
wait_port tcp "$NPORT"
$NBDRAW "$NPORT" tls-go "$TLS_CLIENT/abcd1234" lab "" ok >/dev/null ||
	fail "a Pi without an entry could not open what default boots"
$NBDRAW "$NPORT" tls-go "$TLS_CLIENT/dc-a6-32-01-36-c2" lab "" \
	"refused:boot entry dc-a6-32-01-36-c2 is broken" >"$T/go.out" ||
	fail "a Pi whose entry is broken opened what default boots: $(cat "$T/go.out")"
# The client is told that its entry is broken; the log says where it points.
assert_log "$T/nbdd.log" "broken boot entry dc-a6-32-01-36-c2 -> \.\./pi-05\.img\.gone: No such file or directory"
stop_pid "$NBDD_PID"
echo ok
