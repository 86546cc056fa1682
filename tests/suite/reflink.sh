#!/bin/bash
# Per-Pi images that share their storage: reflink copies of one image
# shaped like Raspberry Pi OS (MBR, FAT32 boot partition, ext4 root), on
# XFS and on btrfs made on loop devices, served by nbdd and tftpd as any
# image is. On each file system:
#   - two clones (cp --reflink=always) take next to no space, their
#     extents shared with the base;
#   - nbdd serves each clone's bytes and tftpd each clone's boot files,
#     byte for byte what mcopy extracts;
#   - writes through NBD to one clone, into its root and into its boot
#     partition (a new kernel), show in neither the other clone nor the
#     base, and tftpd serves the new kernel to that Pi only;
#   - a TRIM through nbdd gives the space of blocks the Pi wrote back to
#     the file system, and a TRIM of blocks still shared with the base
#     frees them from the clone alone;
#   - everything mounted and attached is gone at the end, pass or fail.
. "$(dirname "$0")/../lib/lib.sh"
need losetup mkfs.xfs mkfs.btrfs qemu-io nbdinfo nbdcopy mcopy sfdisk \
    mkfs.vfat mkfs.ext4 filefrag curl
[ "$(id -u)" = 0 ] || skip "needs root for loop devices and mounts"
/usr/bin/python3 -c "import nbd" 2>/dev/null || skip "python3-libnbd not installed"
export MTOOLS_SKIP_CHECK=1
MiB=$((1024 * 1024))

# Which of the two file systems this kernel has; skip only without both.
FSES=""
for fs in xfs btrfs; do
	grep -qw "$fs" /proc/filesystems || modprobe "$fs" 2>/dev/null || true
	if grep -qw "$fs" /proc/filesystems; then
		FSES="$FSES $fs"
	else
		note "this kernel has no $fs: not tested"
	fi
done
[ -n "$FSES" ] || skip "this kernel has neither xfs nor btrfs"

# The image the demo boots: partition 1 FAT32 at sector 8192 (128 MiB),
# partition 2 ext4 after it.
"$TOP/tests/demo/make-image.sh" "$T/base.img" 127.0.0.1:10809/pi >/dev/null
BOOT=$((8192 * 512))
ROOT=$(((8192 + 128 * 2048) * 512))

# Daemons hold files on the file systems: they end before the unmount.
# (Also run from the cleanup at exit, so nothing here may stop a test.)
stop_all() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
}
unmount_fs() {	# unmount_fs DIR DEV
	stop_all
	if mountpoint -q "$1"; then
		umount "$1" 2>/dev/null || umount -l "$1" || true
	fi
	losetup -d "$2" 2>/dev/null || true
}

used() {	# bytes the file system holds, once written out
	sync -f "$1"
	df -B1 --output=used "$1" | tail -1 | tr -d ' '
}
allocated() { echo $(($(stat -c '%b * %B' "$1"))); }	# bytes on disk

# want IMG FILE OUT: FILE out of IMG's boot partition, as mcopy sees it.
want() { rm -f "$3"; mcopy -n -i "$1@@$BOOT" "::$2" "$3"; }
fetch() { curl -sS --tftp-blksize 1468 -o "$2" "tftp://127.0.0.1:$TPORT/$1"; }

# new_kernel URI IMG: replaces vmlinuz in the image's boot partition as
# the Pi's kernel would, through NBD: mcopy changes a scratch copy of the
# partition, and the 4 KiB blocks that differ are written to the export.
new_kernel() {
	dd if="$2" of="$T/scratch" bs=1M iflag=skip_bytes skip=$BOOT \
	    count=128 conv=sparse status=none
	cp --sparse=always "$T/scratch" "$T/scratch.old"
	mcopy -o -i "$T/scratch" "$T/vmlinuz.new" ::vmlinuz
	/usr/bin/python3 - "$1" "$T/scratch.old" "$T/scratch" "$BOOT" <<'EOF'
import nbd, sys
uri, old, new, off = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
a = memoryview(open(old, "rb").read())
b = memoryview(open(new, "rb").read())
h = nbd.NBD()
h.connect_uri(uri)
blocks = 0
run = None	# [start, end) of changed blocks not yet written
def flush(run):
    if run:
        h.pwrite(b[run[0]:run[1]], off + run[0])
for c in range(0, len(b), 1 << 20):
    if a[c:c + (1 << 20)] == b[c:c + (1 << 20)]:
        continue
    for p in range(c, min(c + (1 << 20), len(b)), 4096):
        if a[p:p + 4096] == b[p:p + 4096]:
            continue
        blocks += 1
        if run and run[1] == p:
            run[1] = p + 4096
        else:
            flush(run)
            run = [p, p + 4096]
flush(run)
h.flush()
h.shutdown()
print(blocks)
EOF
}

head -c $((9 * MiB + 123)) /dev/urandom >"$T/vmlinuz.new"

for fs in $FSES; do
	note "--- $fs"
	M=$T/$fs
	mkdir "$M"
	truncate -s 1G "$T/$fs.fs"
	dev=$(losetup --find --show "$T/$fs.fs" 2>"$T/losetup.err") ||
	    skip "no loop device here: $(cat "$T/losetup.err")"
	CLEANUPS+=("unmount_fs $M $dev")
	case $fs in
	xfs) mkfs.xfs -q -m reflink=1 "$dev" ;;
	btrfs) mkfs.btrfs -q -f "$dev" >/dev/null ;;
	esac || fail "mkfs.$fs"
	mount "$dev" "$M" || fail "mount $fs"

	# The base, and two per-Pi images in the space of one.
	cp --sparse=always "$T/base.img" "$M/base.img"
	u0=$(used "$M")
	for p in a b; do
		cp --reflink=always "$M/base.img" "$M/pi-$p.img" ||
		    fail "$fs: cp --reflink=always"
	done
	u1=$(used "$M")
	data=$(allocated "$M/base.img")
	note "$fs: base holds $((data / 1024)) KiB; two clones added $(((u1 - u0) / 1024)) KiB"
	[ $(((u1 - u0) * 20)) -lt "$data" ] ||
	    fail "$fs: two clones took $((u1 - u0)) bytes for a base of $data"
	filefrag -v "$M/pi-a.img" | has shared ||
	    fail "$fs: pi-a.img has no extent shared with the base"

	# Each Pi's own cmdline.txt, as the README has it (mcopy -o).
	for p in a b; do
		echo "console=serial0,115200 ip=dhcp nbdroot=127.0.0.1/pi-$p root=/dev/nbd0p2 rootwait" >"$T/cmdline-$p.txt"
		mcopy -o -i "$M/pi-$p.img@@$BOOT" "$T/cmdline-$p.txt" ::cmdline.txt
	done
	# What the base and pi-b hold now, to compare with later.
	cp --sparse=always "$M/base.img" "$T/ref-base.img"
	cp --sparse=always "$M/pi-b.img" "$T/ref-b.img"

	mkdir "$T/boot-$fs"
	ln -s "$M/pi-a.img" "$T/boot-$fs/aaaa0001"
	ln -s "$M/pi-b.img" "$T/boot-$fs/bbbb0002"
	NPORT=$(free_port tcp)
	TPORT=$(free_port udp)
	start_bg "nbdd-$fs" "$BIN/nbdd" -r "$M" -l 127.0.0.1 -p "$NPORT"
	npid=$LAST_PID
	start_bg "tftpd-$fs" "$BIN/tftpd" -r "$T/boot-$fs" -l 127.0.0.1 -p "$TPORT"
	tpid=$LAST_PID
	wait_port tcp "$NPORT"
	wait_port udp "$TPORT"
	URI=nbd://127.0.0.1:$NPORT

	# nbdd serves each clone as it is; tftpd each clone's boot files.
	for p in a b; do
		nbdcopy "$URI/pi-$p" "$T/got.img" || fail "$fs: nbdcopy pi-$p"
		assert_same_file "$M/pi-$p.img" "$T/got.img"
	done
	for f in cmdline.txt config.txt start4.elf vmlinuz; do
		for s in aaaa0001:a bbbb0002:b; do
			want "$M/pi-${s#*:}.img" "$f" "$T/want"
			fetch "${s%:*}/$f" "$T/got" || fail "$fs: tftp ${s%:*}/$f"
			assert_same_file "$T/got" "$T/want"
		done
	done
	fetch aaaa0001/cmdline.txt "$T/got"
	grep -q 'nbdroot=127.0.0.1/pi-a ' "$T/got" || fail "$fs: pi-a's cmdline.txt: $(cat "$T/got")"

	# Pi A writes its root and installs a new kernel, through NBD.
	qemu-io -f raw -c "write -P 0x5c $((ROOT + MiB)) 4M" "$URI/pi-a" \
	    >"$T/qio" 2>&1 || fail "$fs: qemu-io write: $(cat "$T/qio")"
	n=$(new_kernel "$URI/pi-a" "$M/pi-a.img") ||
	    fail "$fs: a new kernel through NBD"
	note "$fs: the new kernel took $n blocks of 4 KiB through NBD"
	[ "$n" -gt 2000 ] || fail "$fs: only $n blocks written for a 9 MiB kernel"
	fetch aaaa0001/vmlinuz "$T/got" || fail "$fs: tftp the new kernel"
	assert_same_file "$T/got" "$T/vmlinuz.new"
	fetch bbbb0002/vmlinuz "$T/got" || fail "$fs: tftp pi-b's kernel"
	want "$M/base.img" vmlinuz "$T/want"
	assert_same_file "$T/got" "$T/want"
	cmp -s "$T/got" "$T/vmlinuz.new" && fail "$fs: pi-b got pi-a's kernel"
	# Neither the base nor the other clone changed, on disk or over NBD.
	cmp -s "$M/base.img" "$T/ref-base.img" || fail "$fs: a write to pi-a changed the base"
	cmp -s "$M/pi-b.img" "$T/ref-b.img" || fail "$fs: a write to pi-a changed pi-b"
	nbdcopy "$URI/pi-b" "$T/got.img" || fail "$fs: nbdcopy pi-b"
	cmp -s "$T/got.img" "$T/ref-b.img" || fail "$fs: nbdd serves pi-b changed"
	cmp -s -n $((4 * MiB)) -i $((ROOT + MiB)):0 "$M/pi-a.img" <(head -c $((4 * MiB)) /dev/zero | tr '\0' '\134') ||
	    fail "$fs: pi-a does not hold the write"

	# TRIM of blocks the Pi wrote: the file system has their space back.
	qemu-io -f raw -c "write -P 0x71 $((ROOT + 16 * MiB)) 32M" "$URI/pi-a" \
	    >"$T/qio" 2>&1 || fail "$fs: qemu-io write: $(cat "$T/qio")"
	u2=$(used "$M"); b2=$(allocated "$M/pi-a.img")
	qemu-io -f raw -c "discard $((ROOT + 16 * MiB)) 32M" "$URI/pi-a" \
	    >"$T/qio" 2>&1 || fail "$fs: qemu-io discard: $(cat "$T/qio")"
	for _ in $(seq 30); do
		u3=$(used "$M")
		[ $((u2 - u3)) -ge $((30 * MiB)) ] && break
		sleep 0.2	# btrfs frees extents as its transaction ends
	done
	b3=$(allocated "$M/pi-a.img")
	note "$fs: TRIM of 32 MiB the Pi wrote: pi-a.img $(((b2 - b3) / 1024)) KiB smaller, file system $(((u2 - u3) / 1024)) KiB freer"
	[ $((b2 - b3)) -ge $((32 * MiB)) ] || fail "$fs: pi-a.img only $((b2 - b3)) bytes smaller after a TRIM of 32 MiB"
	[ $((u2 - u3)) -ge $((30 * MiB)) ] || fail "$fs: the file system got only $((u2 - u3)) bytes back"
	qemu-io -f raw -c "read -P 0 $((ROOT + 16 * MiB)) 32M" "$URI/pi-a" >"$T/qio" 2>&1 &&
	    ! grep -q 'Pattern verification failed' "$T/qio" ||
	    fail "$fs: the trimmed range does not read as zeroes"
	nbdinfo --map "$URI/pi-a" >"$T/map" || fail "$fs: nbdinfo --map"
	/usr/bin/python3 - "$T/map" $((ROOT + 16 * MiB)) $((32 * MiB)) <<'EOF' || fail "$fs: block status: $(cat "$T/map")"
import sys
want_off, want_len = int(sys.argv[2]), int(sys.argv[3])
for line in open(sys.argv[1]):
    off, length, _, kind = line.split(None, 3)
    off, length = int(off), int(length)
    if off <= want_off and off + length >= want_off + want_len:
        assert "hole" in kind, line
        break
else:
    raise SystemExit("no extent covers the trimmed range")
EOF

	# TRIM of blocks still shared with the base (pi-a's copy of the
	# initramfs): they leave the clone, the base and pi-b keep them.
	b4=$(allocated "$M/pi-a.img"); u4=$(used "$M")
	qemu-io -f raw -c "discard $((BOOT + 16 * MiB)) 8M" "$URI/pi-a" \
	    >"$T/qio" 2>&1 || fail "$fs: qemu-io discard: $(cat "$T/qio")"
	b5=$(allocated "$M/pi-a.img"); u5=$(used "$M")
	note "$fs: TRIM of 8 MiB shared with the base: pi-a.img $(((b4 - b5) / 1024)) KiB smaller, file system $(((u4 - u5) / 1024)) KiB freer"
	[ $((b4 - b5)) -ge $((8 * MiB)) ] || fail "$fs: shared blocks not trimmed from pi-a.img ($((b4 - b5)) bytes)"
	[ $((u4 - u5)) -lt $((2 * MiB)) ] && [ $((u5 - u4)) -lt $((2 * MiB)) ] ||
	    fail "$fs: trimming shared blocks changed the file system's use by $((u4 - u5)) bytes"
	cmp -s "$M/base.img" "$T/ref-base.img" || fail "$fs: a TRIM of pi-a changed the base"
	cmp -s "$M/pi-b.img" "$T/ref-b.img" || fail "$fs: a TRIM of pi-a changed pi-b"

	grep -E 'warning|error' "$T/nbdd-$fs.log" "$T/tftpd-$fs.log" &&
	    fail "$fs: warnings in the daemons' logs"
	stop_pid "$npid"
	stop_pid "$tpid"
	unmount_fs "$M" "$dev"
	mountpoint -q "$M" && fail "$fs: still mounted"
	# The detach completes once the file system has let the device go;
	# btrfs may close it a while after umount returns (more so on a busy
	# machine), and then the kernel detaches it by itself (autoclear).
	for _ in $(seq 30); do
		[ -z "$(losetup -j "$T/$fs.fs")" ] && break
		sleep 0.1
	done
	if [ -n "$(losetup -j "$T/$fs.fs")" ]; then
		[ "$(cat "/sys/block/${dev#/dev/}/loop/autoclear" 2>/dev/null)" = 1 ] ||
		    fail "$fs: loop device still attached: $(losetup -j "$T/$fs.fs")"
		note "$fs: $dev is released by the file system late; the kernel detaches it then"
	fi
done
echo ok
