#!/bin/sh
# Installs the Debian packages that building, testing, the demo and the
# benchmarks need, when they are missing. Each package is named with what it
# is for. As root it runs apt-get; otherwise it prints the exact command and
# stops.
#
# usage: tests/deps.sh [build|check|demo|bench]   (default: check)
set -eu

want=${1:-check}

# package            what it is for
build_pkgs="
gcc                  compiler
make                 build
pkg-config           finding libbsd and Check
libbsd-dev           strlcpy, strtonum, reallocarray (OpenBSD helpers)
check                unit tests (Check framework)
libgnutls28-dev      NBD over TLS: nbdd, and tests/tools/nbd-tls-client (GnuTLS, as nbd-server, nbdkit and qemu)
scdoc                man pages
liburing-dev         tftpd's batches of packets (io_uring)
librbd-dev           images in Ceph: librbd's and librados' headers (the daemons load librbd1 at run time, only with -C)
"
# What make demo needs besides the build, and no more (the tests use
# these too): its image (sfdisk, mkfs.vfat, mkfs.ext4, mcopy), its free
# ports (ss), its NBD client (nbd-root.py) and its rates (bc).
demo_pkgs="
iproute2             ss: the demo's free ports; network namespaces for DHCP and netboot tests
python3-libnbd       the demo's NBD client (tests/demo/nbd-root.py); nbdsh scripts
mtools               building and reading FAT images without mounting
dosfstools           mkfs.vfat
fdisk                sfdisk, partition tables for test images
e2fsprogs            mkfs.ext4 -d and debugfs for root file systems; filefrag
python3              the demo's NBD client; hand-made TFTP packets in the tftpd tests (tests/tools/tftp-raw.py)
bc                   rates in the demo and benchmarks
"
check_pkgs="
clang                fuzz harnesses (libFuzzer)
libclang-rt-14-dev   libFuzzer and sanitizer runtimes for clang
nftables             impairing links (packet loss) in namespace tests
curl                 TFTP client (tftp://)
tftp-hpa             TFTP client
atftp                TFTP client with windowsize
busybox              TFTP client and udhcpc
udhcpc               plain DHCP client (busybox udhcpc)
dnsmasq-base         the LAN's DHCP server in tests, TFTP peer in benchmarks
nbd-client           NBD handshake and list tests; initramfs nbdroot support
gnutls-bin           certtool and psktool: test certificates, CRLs and PSK files
nbd-server           NBD peer in benchmarks
nbdkit               NBD peer in benchmarks
qemu-utils           qemu-img, qemu-io and qemu-nbd as NBD clients and peer
libnbd-bin           nbdinfo, nbdcopy, nbdsh
gdisk                sgdisk, GPT test images
xfsprogs             mkfs.xfs: per-Pi images as reflink copies on XFS
btrfs-progs          mkfs.btrfs: per-Pi images as reflink copies on btrfs
bindfs               a file system without hole punching (FUSE): nbdd's -q there
qemu-system-x86      the netboot test's virtual machine
ipxe-qemu            iPXE boot ROM for the virtual machine
linux-image-amd64    a stock Debian kernel for the netboot test
initramfs-tools      an initramfs with nbd-client's nbdroot= support
cpio                 unpacking and repacking initramfs images
procps               pkill and ps for test cleanup
adduser              netboot(7)'s ownership recipe, run as written (suite-ownership, suite-readme)
strace               nbdd test: FLUSH/FUA reach fdatasync and RWF_DSYNC
tcpdump              the netboot test's capture of a root over TLS: no plaintext of it on the wire
systemd              systemd-socket-activate for socket activation tests
nftables             the boot storm's packet loss (netdev ingress/egress drop rules)
xfsprogs             mkfs.xfs: the boot storm's per-Pi images as reflink copies
kmod                 depmod: netboot-prep indexes the modules it adds to an initramfs
xz-utils             netboot-prep reads .img.xz images
zstd                 netboot-prep reads zstd-compressed initramfs files
mmdebstrap           the arm64 guest test builds a Debian raspi image from packages
qemu-user-static     the arm64 image's dpkg in a chroot (through binfmt_misc)
arch-test            mmdebstrap's check that arm64 programs run here
qemu-system-arm      qemu-system-aarch64: the arm64 guest that boots a prepared image
ceph-mon             the RBD tests' single-node Ceph cluster: its monitor
ceph-osd             ... and its OSD (memstore)
ceph-common          ceph and rbd commands: the cluster made, images and snapshots written and read
librbd1              librbd, which nbdd and tftpd load with -C
python3-rbd          tftpd/rbd.sh: a client that holds an image's exclusive lock (lock_acquire)
"
bench_pkgs="
tftpd-hpa            TFTP peer (in.tftpd) in benchmarks
fio                  NBD random I/O benchmark (nbd engine)
gnuplot-nox          the boot storm benchmark's PNG of every Pi's phases
qemu-block-extra     qemu-nbd's rbd driver: the peer for nbdd over RBD
python3-rbd          the RBD benchmark's clone timing (rbd_clone3 through librbd)
linux-perf           the RBD benchmark's PROFILE=1|record (perf stat, perf record)
"

# DEPS_EXTRA adds "package  reason" lines (the tests use it to check what
# a missing package looks like).
case $want in
build) lists="$build_pkgs" ;;
demo) lists="$build_pkgs$demo_pkgs" ;;
check) lists="$build_pkgs$demo_pkgs$check_pkgs" ;;
bench) lists="$build_pkgs$demo_pkgs$check_pkgs$bench_pkgs" ;;
*) echo "usage: $0 [build|check|demo|bench]" >&2; exit 2 ;;
esac
lists="$lists
${DEPS_EXTRA:-}"

missing=""
explain=""
while read -r pkg why; do
	[ -n "$pkg" ] || continue
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $pkg"; explain="$explain  $pkg: $why
" ;;
	esac
done <<EOF2
$lists
EOF2

[ -n "$missing" ] || exit 0

echo "deps: missing Debian packages:"
printf '%s' "$explain"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root, so not installing. Run as root:" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages that ship a service (tftpd-hpa, nbd-server) must not start one
# on the test machine; a policy-rc.d saying 101 keeps them down.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	made_policy=1
fi
echo "deps: apt-get install$missing"
apt-get update -q || true
rc=0
apt-get install -y -q --no-install-recommends $missing || rc=$?
[ -z "$made_policy" ] || rm -f "$policy"
exit $rc
