#!/bin/bash
# Coherence: tftpd never mounts the image, so a file changed inside it (as
# the Pi's kernel does through nbdd on an upgrade, or an administrator with
# mtools) is served in its new form from the next request on. A transfer
# running while its file is replaced or deleted either finishes with the
# old bytes or fails with a TFTP error and one warning; the daemon stays up.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/image.inc"
IMG=$T/ubuntu.img
M=$IMG@@1M
make_ubuntu "$IMG"
populate "$M" big
ln -s ../ubuntu.img "$B/abcd1234"
start_tftpd

# Between two fetches: a new config.txt of another size, then one of the
# same size with other bytes.
fetch_curl abcd1234/config.txt "$O/c1"
want "$M" config.txt
assert_same_file "$O/c1" "$O/want"
printf 'arm_64bit=1\nkernel=vmlinuz-6.8.0-1010-raspi\ndtoverlay=vc4-kms-v3d\n' > "$T/new.txt"
mcopy -o -i "$M" "$T/new.txt" ::config.txt
fetch_curl abcd1234/config.txt "$O/c2"
assert_same_file "$O/c2" "$T/new.txt"
printf 'ARM_64BIT=1\nKERNEL=VMLINUZ-6.8.0-1010-RASPI\nDTOVERLAY=VC4-KMS-V3D\n' > "$T/new2.txt"
mcopy -o -i "$M" "$T/new2.txt" ::config.txt
fetch_curl abcd1234/config.txt "$O/c3"
assert_same_file "$O/c3" "$T/new2.txt"
# A kernel upgrade: a new vmlinuz and a new file in overlays/.
head -c 9100000 /dev/urandom > "$T/vmlinuz.new"
mcopy -o -i "$M" "$T/vmlinuz.new" ::vmlinuz
head -c 2222 /dev/urandom > "$T/new.dtbo"
mcopy -i "$M" "$T/new.dtbo" ::overlays/new.dtbo
fetch_curl abcd1234/vmlinuz "$O/k"
assert_same_file "$O/k" "$T/vmlinuz.new"
fetch_curl abcd1234/overlays/new.dtbo "$O/d"
assert_same_file "$O/d" "$T/new.dtbo"
note "changes between fetches served"

# During a fetch of the 70 MiB initrd (512-byte blocks, lock-step, so it
# runs for a while): replaced by a smaller, different one.
want "$M" initrd.img
cp "$O/want" "$T/initrd.old"
start_bg fetch1 $PITFTP -p "$PORT" -b 512 get abcd1234/initrd.img "$O/i1"
sleep 0.3
head -c 30000000 /dev/urandom > "$T/initrd.new"
mcopy -o -i "$M" "$T/initrd.new" ::initrd.img
rc=0; wait "$LAST_PID" || rc=$?
if [ "$rc" = 0 ]; then
	assert_same_file "$O/i1" "$T/initrd.old"
	note "replaced during the fetch: finished with the old bytes"
else
	assert_log "$T/tftpd.log" "image abcd1234 \(.*ubuntu.img\): abcd1234/initrd.img: changed during the transfer"
	note "replaced during the fetch: failed cleanly ($(grep -c 'changed during' "$T/tftpd.log") warning)"
fi
assert_alive "$TFTPD_PID"
fetch_curl abcd1234/initrd.img "$O/i2"
assert_same_file "$O/i2" "$T/initrd.new"

# Deleted during a fetch: its clusters are free, the transfer must fail.
start_bg fetch2 $PITFTP -p "$PORT" -b 512 get abcd1234/initrd.img "$O/i3"
sleep 0.3
mdel -i "$M" ::initrd.img
if wait "$LAST_PID"; then
	fail "a fetch of a deleted file finished"
fi
[ "$(grep -c 'changed during the transfer' "$T/tftpd.log")" -ge 1 ] ||
	fail "no warning for the deleted file"
assert_alive "$TFTPD_PID"
if fetch_curl abcd1234/initrd.img "$O/i4" 2>/dev/null; then
	fail "a deleted file was served"
fi

# Many requests racing with many rewrites: every fetch either fails or
# equals one of the versions; the daemon stays up.
for i in 1 2 3 4 5; do
	head -c $((200000 * i)) /dev/urandom > "$T/v$i"
done
mcopy -o -i "$M" "$T/v1" ::race.bin
(for r in $(seq 20); do
	for i in 1 2 3 4 5; do mcopy -o -i "$M" "$T/v$i" ::race.bin; done
done) &
writer=$!
served=0 failed=0
for r in $(seq 40); do
	if fetch_curl abcd1234/race.bin "$O/r" 2>/dev/null; then
		served=$((served + 1))
		ok=0
		for i in 1 2 3 4 5; do cmp -s "$O/r" "$T/v$i" && ok=1; done
		[ "$ok" = 1 ] || note "fetch $r during rewrites matched no version (same clusters reused)"
	else
		failed=$((failed + 1))
	fi
done
note "during rewrites: $served fetches served a whole version, $failed failed cleanly"
wait "$writer"
assert_alive "$TFTPD_PID"
fetch_curl abcd1234/race.bin "$O/r"
assert_same_file "$O/r" "$T/v5"
stop_pid "$TFTPD_PID"
