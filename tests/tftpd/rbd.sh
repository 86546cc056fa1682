#!/bin/bash
# tftpd serving boot files out of an image in a real Ceph cluster (one
# monitor, one memstore OSD: tests/lib/ceph.inc), through librbd with -C:
#  - a cluster down at tftpd's start: tftpd starts, serves its directory
#    entries, refuses rbd: entries naming the cause; served once it is up
#  - /srv/pi.img -> rbd:rbd/pi and /srv/pi-v1.img -> rbd:rbd/pi@v1, boot
#    entries SERIAL -> ../NAME.img: tftp-hpa, atftp and busybox tftp get
#    the bytes mcopy extracts (the snapshot's, and the image's as written
#    after it); a re-pointed NAME.img is followed at once
#  - while another client holds the image's exclusive lock, tftpd reads
#    it and the lock stays with its holder
#  - refused: an rbd: entry with tftpd started without -C (naming -C), a
#    missing pool, image or snapshot (naming which), the entry itself
#    asked for as a file
#  - the OSD gone silent (SIGSTOP: a host that died or a partition, where
#    no connection is refused): an RBD request ends with a TFTP error
#    within the op timeout, logged naming the image and the cause, while
#    a directory entry's transfer goes on; with the OSD back (SIGCONT),
#    files are served again. (ceph_stop_osd would lose the memstore's
#    objects: the OSD's fast shutdown never saves them.)
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/ceph.inc"
need mcopy mkfs.vfat sfdisk tftp atftp busybox bc
PY=/usr/bin/python3
$PY -c 'import rbd' 2>/dev/null || skip "python3-rbd not installed (tests/deps.sh installs it)"
export MTOOLS_SKIP_CHECK=1
TSTART=$(date +%s.%N)

S=$T/srv
B=$S/boot
O=$T/out
mkdir -p "$B/dir1" "$O" "$T/src"

# An OS image: MBR, FAT32 boot partition at 1 MiB; and the same with other
# bytes, written over the image after its snapshot.
make_img() {	# make_img IMG TAG
	local s=$T/src/$2
	mkdir -p "$s/overlays"
	head -c 2234567 /dev/urandom >"$s/start4.elf"
	head -c 5399 /dev/urandom >"$s/fixup4.dat"
	printf 'arm_64bit=1\n# %s\n' "$2" >"$s/config.txt"
	head -c 3911 /dev/urandom >"$s/overlays/vc4-kms-v3d.dtbo"
	head -c 9300000 /dev/urandom >"$s/kernel8.img"
	"$TOP/tests/lib/make-disk.sh" --bootable --fat 47 --fat-label BOOT \
		--fat-dir "$s" "$1" || fail "making $1 failed"
}
make_img "$T/v1.img" v1
make_img "$T/v2.img" v2
# want IMG PATH: what mcopy extracts, in $O/want.
want() { rm -f "$O/want"; mcopy -n -i "$1@@1M" "::$2" "$O/want"; }
head -c 300000 /dev/urandom >"$B/dir1/start4.elf"
head -c 3000000 /dev/urandom >"$B/dir1/big.bin"

ln -s rbd:rbd/pi "$S/pi.img"
ln -s rbd:rbd/pi@v1 "$S/pi-v1.img"
ln -s rbd:nosuchpool/pi "$S/nopool.img"
ln -s rbd:rbd/nosuchimage "$S/noimage.img"
ln -s rbd:rbd/pi@nosuchsnap "$S/nosnap.img"
ln -s ../pi.img "$B/a0000001"
ln -s ../pi-v1.img "$B/a0000002"
ln -s ../nopool.img "$B/a0000003"
ln -s ../noimage.img "$B/a0000004"
ln -s ../nosnap.img "$B/a0000005"

# --- the cluster, down when tftpd starts ---------------------------------
ceph_start
netns_add tftp
ceph_attach tftp 10.99.0.2
NS=${NS_PREFIX}tftp
CARG=$(ceph_client tftpd)
# A Pi waits seconds, not Ceph's minutes: reads the cluster does not answer
# fail after 5 s (tftpd(8), CEPH).
echo "rados osd op timeout = 5" >>"${CARG#*@}"
rbd import --no-progress "$T/v1.img" rbd/pi >/dev/null || fail "rbd import failed"
rbd snap create rbd/pi@v1 >/dev/null || fail "rbd snap create failed"
# The image written after its snapshot: v2's bytes over v1's.
ip netns exec "$CEPH_NS" $PY - "$CEPH_CONF" "$T/v2.img" <<'PYEOF' || fail "writing v2 over rbd/pi failed"
import rados, rbd, sys
with rados.Rados(conffile=sys.argv[1],
                 conf={'client_mount_timeout': '20'}) as c, c.open_ioctx('rbd') as io, \
        rbd.Image(io, 'pi') as img, open(sys.argv[2], 'rb') as f:
    off = 0
    while True:
        b = f.read(4 << 20)
        if not b:
            break
        img.write(b, off)
        off += len(b)
    img.flush()
PYEOF

ceph_stop_mon
PORT=$(free_port udp)
start_bg tftpd ip netns exec "$NS" "$BIN/tftpd" -r "$B" -l 127.0.0.1 \
	-p "$PORT" -C "$CARG" -v
TFTPD_PID=$LAST_PID
wait_port udp "$PORT" "$NS"
inns() { ip netns exec "$NS" "$@"; }
get_hpa() { (cd "$O" && inns tftp -m binary 127.0.0.1 "$PORT" -c get "$1" "$2") 2>&1; }
get_atftp() { inns atftp --option "blksize 1468" -g -r "$1" -l "$2" 127.0.0.1 "$PORT" 2>&1; }
get_bb() { inns busybox tftp -b 1468 -g -r "$1" -l "$2" 127.0.0.1 "$PORT" 2>&1; }
# A fetch that must fail; its client's words in $O/err.
refused() {	# refused PATH
	rm -f "$O/r"
	if get_atftp "$1" "$O/r" >"$O/err"; then
		fail "$1 was served"
	fi
}

get_hpa dir1/start4.elf d1 >/dev/null
assert_same_file "$O/d1" "$B/dir1/start4.elf"
refused a0000001/config.txt
assert_log "$T/tftpd.log" "a0000001/config.txt: cannot open: image a0000001 \(rbd:rbd/pi\): not connected to the Ceph cluster"
assert_alive "$TFTPD_PID"
note "cluster down at start: directory entries served, rbd: refused with the cause"

ceph_start_mon
# The connection thread tries again every 10 s.
ok=0
for _ in $(seq 60); do
	if get_atftp a0000002/config.txt "$O/c" >/dev/null; then ok=1; break; fi
	sleep 1
done
[ "$ok" = 1 ] || fail "the cluster is back, but tftpd never served out of it"
# (Whether "cannot connect" was said first depends on whether the first
# attempt timed out before the monitor came back.)
assert_log "$T/tftpd.log" "Ceph cluster: connected as client.tftpd"
note "cluster up: served"

# --- the bytes, through three clients -----------------------------------
for f in config.txt start4.elf fixup4.dat overlays/vc4-kms-v3d.dtbo kernel8.img; do
	want "$T/v1.img" "$f"
	get_hpa "a0000002/$f" h >/dev/null
	assert_same_file "$O/h" "$O/want"
	get_atftp "/a0000002/$f" "$O/a" >/dev/null
	assert_same_file "$O/a" "$O/want"
	want "$T/v2.img" "$f"
	get_bb "a0000001/$f" "$O/b" >/dev/null
	assert_same_file "$O/b" "$O/want"
	get_hpa "a0000001/$f" h >/dev/null
	assert_same_file "$O/h" "$O/want"
done
# Pi-shaped names with no entry of their own boot "default".
ln -s ../pi-v1.img "$B/default"
want "$T/v1.img" start4.elf
get_atftp c0ffee00/start4.elf "$O/a" >/dev/null
assert_same_file "$O/a" "$O/want"
rm "$B/default"
# A class moved to a new snapshot: the very next request follows it.
rbd snap create rbd/pi@v2 >/dev/null || fail "rbd snap create v2 failed"
ln -sfn rbd:rbd/pi@v2 "$S/pi-v1.img"
want "$T/v2.img" config.txt
get_hpa a0000002/config.txt h >/dev/null
assert_same_file "$O/h" "$O/want"
ln -sfn rbd:rbd/pi@v1 "$S/pi-v1.img"
want "$T/v1.img" config.txt
get_hpa a0000002/config.txt h >/dev/null
assert_same_file "$O/h" "$O/want"
note "tftp-hpa, atftp, busybox: image and snapshot bytes equal mcopy's; re-pointing followed"
# A class asking at once: every Pi gets the snapshot's bytes (shared in
# memory while transfers hold them: rbdfetch.h).
want "$T/v1.img" kernel8.img
reads0=$(grep -c "read out of Ceph" "$T/tftpd.log" || true)
cpids=()
for i in 1 2 3 4 5 6; do
	inns busybox tftp -g -r a0000002/kernel8.img -l "$O/class$i" 127.0.0.1 "$PORT" >/dev/null 2>&1 &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p" || fail "a class member's fetch failed"; done
for i in 1 2 3 4 5 6; do assert_same_file "$O/class$i" "$O/want"; done
reads1=$(grep -c "read out of Ceph" "$T/tftpd.log" || true)
note "6 Pis at once: kernel8.img read out of Ceph $((reads1 - reads0)) time(s)"

# --- another client holds the exclusive lock ----------------------------
rm -f "$T/locked" "$T/check" "$T/owner"
cat >"$T/locker.py" <<'PYEOF'
import os, rados, rbd, sys, time
conf, t = sys.argv[1], sys.argv[2]
with rados.Rados(conffile=conf, conf={'client_mount_timeout': '20'}) as c, c.open_ioctx('rbd') as io, \
        rbd.Image(io, 'pi') as img:
    img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
    open(t + '/locked', 'w').write('%s\n' % img.is_exclusive_lock_owner())
    while not os.path.exists(t + '/check'):
        time.sleep(0.1)
    owner = img.is_exclusive_lock_owner()
    open(t + '/owner', 'w').write('%s\n' % owner)
    while True:
        time.sleep(1)
PYEOF
start_bg locker ip netns exec "$CEPH_NS" $PY "$T/locker.py" "$CEPH_CONF" "$T"
LOCKER_PID=$LAST_PID
for _ in $(seq 200); do [ -s "$T/locked" ] && break; assert_alive "$LOCKER_PID"; sleep 0.1; done
[ "$(cat "$T/locked")" = True ] || fail "the helper did not get the exclusive lock"
for f in config.txt start4.elf kernel8.img; do
	want "$T/v2.img" "$f"
	get_atftp "a0000001/$f" "$O/a" >/dev/null
	assert_same_file "$O/a" "$O/want"
done
touch "$T/check"
for _ in $(seq 100); do [ -s "$T/owner" ] && break; assert_alive "$LOCKER_PID"; sleep 0.1; done
[ "$(cat "$T/owner")" = True ] || fail "tftpd's reads took the lock from its holder"
kill -TERM "$LOCKER_PID"; wait "$LOCKER_PID" 2>/dev/null || true
note "lock held elsewhere: tftpd served, the holder kept it"

# --- refusals -------------------------------------------------------------
refused a0000003/config.txt
has "not found" "$O/err" || fail "missing pool: atftp said: $(cat "$O/err")"
assert_log "$T/tftpd.log" "a0000003/config.txt: image a0000003 \(rbd:nosuchpool/pi\): .*nosuchpool"
refused a0000004/config.txt
has "not found" "$O/err" || fail "missing image: atftp said: $(cat "$O/err")"
assert_log "$T/tftpd.log" "a0000004/config.txt: image a0000004 \(rbd:rbd/nosuchimage\): no image nosuchimage in pool rbd"
refused a0000005/config.txt
has "not found" "$O/err" || fail "missing snapshot: atftp said: $(cat "$O/err")"
assert_log "$T/tftpd.log" "a0000005/config.txt: image a0000005 \(rbd:rbd/pi@nosuchsnap\): no image pi with a snapshot nosuchsnap in pool rbd"
refused a0000001/nosuchfile.txt
for e in a0000001 a0000001/ a0000002 pi.img ../pi.img; do
	refused "$e"
	[ ! -s "$O/r" ] || fail "$e: bytes were sent"
done
assert_log "$T/tftpd.log" "a0000001: names a boot entry, not a file: refused"

# Without -C: refused, naming the flag.
PORT2=$(free_port udp)
start_bg tftpd-noc ip netns exec "$NS" "$BIN/tftpd" -r "$B" -l 127.0.0.1 -p "$PORT2"
NOC_PID=$LAST_PID
wait_port udp "$PORT2" "$NS"
if inns atftp -g -r a0000001/config.txt -l "$O/n" 127.0.0.1 "$PORT2" >"$O/err" 2>&1; then
	fail "tftpd without -C served an rbd: entry"
fi
has "not found" "$O/err" || fail "without -C: atftp said: $(cat "$O/err")"
assert_log "$T/tftpd-noc.log" "a0000001/config.txt: boot entry a0000001 leads to an image in Ceph \(rbd:rbd/pi\), but tftpd was started without -C"
stop_pid "$NOC_PID"
note "refused: missing pool, image, snapshot; the entry whole; rbd: without -C"

# --- the OSD goes away --------------------------------------------------
kill -STOP "$CEPH_OSD_PID"
CLEANUPS+=("kill -CONT $CEPH_OSD_PID")
t0=$(date +%s.%N)
(get_hpa a0000002/kernel8.img k >"$O/kout" || true) &
KPID=$!
# A second Pi asking for the same file waits for the same read, and gets
# the same error.
(if inns busybox tftp -g -r a0000002/kernel8.img -l "$O/k3" 127.0.0.1 "$PORT" >"$O/k3out" 2>&1
 then echo 0; else echo 1; fi >"$O/k3rc") &
K3PID=$!
sleep 1
# Meanwhile the loop serves a directory entry, big file and all.
get_atftp dir1/big.bin "$O/big" >/dev/null || fail "a directory entry's transfer failed while the OSD was away"
assert_same_file "$O/big" "$B/dir1/big.bin"
kill -0 "$KPID" 2>/dev/null ||
	fail "the RBD request ended before the directory transfer did: $(cat "$O/kout")"
wait "$KPID" || true
t1=$(date +%s.%N)
wait "$K3PID" || true
[ "$(cat "$O/k3rc")" = 1 ] || fail "busybox got kernel8.img with the OSD away"
has -i "error\|cannot" "$O/k3out" || fail "busybox got no TFTP error: $(cat "$O/k3out")"
if [ -s "$O/k" ] && cmp -s "$O/k" "$O/want"; then fail "kernel8.img was served with the OSD away"; fi
has -i "error" "$O/kout" || fail "tftp-hpa got no TFTP error: $(cat "$O/kout")"
secs=$(echo "$t1 - $t0" | bc)
note "$(printf 'OSD away: the RBD request got its TFTP error in %.1f s' "$secs")"
[ "$(echo "$secs < 60" | bc)" = 1 ] || fail "the RBD request took $secs s to end"
assert_log "$T/tftpd.log" "a0000002/kernel8.img: cannot open: image a0000002 \(rbd:rbd/pi@v1\).*(timed out|Timer expired)"
assert_alive "$TFTPD_PID"

kill -CONT "$CEPH_OSD_PID"
ok=0
for _ in $(seq 90); do
	if get_atftp a0000002/kernel8.img "$O/k2" >/dev/null; then ok=1; break; fi
	sleep 1
done
[ "$ok" = 1 ] || fail "the OSD is back, but tftpd never served again"
want "$T/v1.img" kernel8.img
assert_same_file "$O/k2" "$O/want"
note "OSD back: served again"

stop_pid "$TFTPD_PID"
assert_log "$T/tftpd.log" "a0000001/kernel8.img: read out of Ceph in [0-9.]+ s"
note "kernel8.img (9.3 MB) read out of Ceph in (s): $(sed -n 's/.*kernel8.img: read out of Ceph in \([0-9.]*\) s/\1/p' "$T/tftpd.log" | tr '\n' ' ')"
note "start4.elf (2.2 MB): $(sed -n 's/.*start4.elf: read out of Ceph in \([0-9.]*\) s/\1/p' "$T/tftpd.log" | tr '\n' ' ')"
note "$(printf 'tftpd-rbd: %.0f s in all' "$(echo "$(date +%s.%N) - $TSTART" | bc)")"
