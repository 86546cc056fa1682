#!/bin/bash
# netboot-prep given what it must refuse: each refusal names the step,
# the file and what to do, exits 1 (2 for a usage error), leaves no work
# file behind, and writes nothing: a truncated image, a corrupt and a
# truncated compressed one, an image with no FAT partition, an unknown
# distribution, no space left, a name that is taken, an image nbdd holds
# (a Pi's image in use), a serial that is not one, a name that is not one.
. "$(dirname "$0")/../lib/lib.sh"

need_root
need mcopy sfdisk mkfs.vfat mkfs.ext4 xz gzip
PREP=$BIN/netboot-prep
[ -x "$PREP" ] || fail "$PREP not built"
FX=$TOP/tests/prep/make-fixture.sh
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"
SRV=$T/srv
mkdir -p "$SRV" "$T/tmp"
# netboot-prep mounts beneath TMPDIR: this test's own, so that another
# netboot-prep on the machine is not taken for one left behind here.
export TMPDIR=$T/tmp
"$FX" raspios "$T/pios.img" >/dev/null 2>&1 || fail "building the fixture"

srv_state() {
	find "$SRV" -mindepth 1 -printf '%p %s %T@ %m %l\n' | sort | sha256sum
}

# refused WANT-STATUS REGEX ARGS...: netboot-prep exits WANT-STATUS with a
# line matching REGEX, and leaves the images' directory as it was.
refused() {
	local want=$1 re=$2 rc=0 before
	shift 2
	before=$(srv_state)
	"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root "$@" >"$T/out" 2>&1 || rc=$?
	sed 's/^/  | /' "$T/out"
	[ "$rc" = "$want" ] || fail "netboot-prep $* exited $rc, not $want"
	grep -Eq -- "$re" "$T/out" || fail "netboot-prep $*: no line matching /$re/"
	[ "$(srv_state)" = "$before" ] ||
		fail "netboot-prep $* changed $SRV: $(ls -la "$SRV")"
	! ls -a "$SRV" | has '\.prep-' || fail "a work file was left behind"
	! mount | has -F "$T/tmp/netboot-prep." || fail "a mount was left behind"
	[ -z "$(ls -A "$T/tmp")" ] || fail "a scratch directory was left behind"
	! losetup -a | has "$SRV" || fail "a loop device was left behind"
}

note "a truncated image"
head -c $((60 << 20)) "$T/pios.img" > "$T/cut.img"
refused 1 'partitions: .*cut.img: the partition table: .*truncated or corrupt image' "$T/cut.img" cut
note "a corrupt xz image"
xz -T1 -1 -c "$T/pios.img" > "$T/pios.img.xz"
cp "$T/pios.img.xz" "$T/bad.img.xz"
printf 'garbage!garbage!' | dd of="$T/bad.img.xz" bs=1 seek=$(( $(stat -c %s "$T/bad.img.xz") / 2 )) conv=notrunc status=none
refused 1 'bad.img.xz: .*(corrupt|truncated)' "$T/bad.img.xz" bad
note "a truncated gzip image"
gzip -1 -c "$T/pios.img" > "$T/pios.img.gz"
head -c $(( $(stat -c %s "$T/pios.img.gz") / 2 )) "$T/pios.img.gz" > "$T/cut.img.gz"
refused 1 'copy: .*cut.img.gz: truncated or corrupt gzip data' "$T/cut.img.gz" cutgz
note "no FAT partition"
"$FX" nofat "$T/nofat.img" >/dev/null 2>&1
refused 1 'partitions: .*nofat.img: no FAT partition' "$T/nofat.img" nofat
note "an unknown distribution"
"$FX" unknown "$T/fedora.img" >/dev/null 2>&1
refused 1 'recognise: .*not an image netboot-prep knows: ID=fedora' "$T/fedora.img" fedora
note "no space left"
mkdir "$T/small"
mount -t tmpfs -o size=32m netboot-prep-test "$T/small"
CLEANUPS+=("umount '$T/small'")
if "$PREP" -r "$T/small" -s 10.0.0.4 -u root -g root "$T/pios.img" pios >"$T/out" 2>&1; then
	fail "prepared into 32 MiB: $(cat "$T/out")"
fi
grep -Eq 'check: .*small has [0-9]+ MiB free, preparing pios needs about [0-9]+ MiB' "$T/out" ||
	fail "no space: $(cat "$T/out")"
[ -z "$(ls -A "$T/small")" ] || fail "left in the full directory: $(ls -A "$T/small")"
note "an xz image whose size says it does not fit"
if "$PREP" -r "$T/small" -s 10.0.0.4 -u root -g root "$T/pios.img.xz" pios >"$T/out" 2>&1; then
	fail "prepared into 32 MiB"
fi
grep -q 'needs about' "$T/out" || fail "no space (xz): $(cat "$T/out")"

note "a name that is taken"
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root "$T/pios.img" pios >"$T/first" 2>&1 ||
	fail "preparing: $(cat "$T/first")"
sum=$(sha256sum < "$SRV/pios.img")
refused 1 'check: .*pios.img exists: give another name, or -f to replace it' "$T/pios.img" pios

note "an image nbdd holds"
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$SRV" -l 127.0.0.1 -p "$port" -v
NBDD=$LAST_PID
wait_port tcp "$port"
start_bg holder $RAW "$port" go-from pios 127.0.0.1 "ok:$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/holder.log" && break; sleep 0.1; done
grep -q holding "$T/holder.log" || fail "the holder could not take the image"
refused 1 'check: .*pios.img is held by nbdd \(a Pi is using it\)' -f "$T/pios.img" pios
[ "$(sha256sum < "$SRV/pios.img")" = "$sum" ] || fail "the held image was written"
touch "$T/release"
wait "$holder" || fail "the holder failed"
for _ in $(seq 50); do grep -q 'releases image pios' "$T/nbdd.log" && break; sleep 0.1; done
# Free again: -f replaces it.
"$PREP" -r "$SRV" -s 10.0.0.4 -u root -g root -f "$T/pios.img" pios >"$T/out" 2>&1 ||
	fail "-f on a free image: $(cat "$T/out")"
stop_pid "$NBDD"

note "a serial that is not one, a name that is not one"
refused 2 '-P abcd123g: not a serial' -P abcd123g "$T/pios.img" other
refused 2 '-P dc:a6:32:01:36: not a serial' -P dc:a6:32:01:36 "$T/pios.img" other
refused 2 'NAME \.\./x: ' "$T/pios.img" ../x
refused 2 'NAME lab.img: give the name without .img' "$T/pios.img" lab.img
refused 2 '-S 4X: not a size' -S 4X "$T/pios.img" other
note "an image that would shrink"
refused 1 'size: -S 50 MiB is smaller than the image' -S 50M "$T/pios.img" other
echo ok
