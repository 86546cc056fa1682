#!/bin/bash
# Makes the TLS variant of an initramfs that make-image.sh built (with
# our hook and boot script, idle for want of credentials): unpacks it,
# runs examples/initramfs-tools/hooks/nbd-tls on the tree as mkinitramfs
# runs a hook (DESTDIR, CONFDIR and the rest in the environment) with
# CREDDIR as CONFDIR/nbd-tls, and packs it again. Seconds, where a
# mkinitramfs takes minutes: the credentials are made by each test run.
#
# usage: tests/e2e/make-make-tls-initrd.sh IN OUT CREDDIR
#   CREDDIR holds ca-cert.pem client-cert.pem client-key.pem [tlshostname]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
in=${1:?usage: make-tls-initrd.sh IN OUT CREDDIR}
out=${2:?usage: make-tls-initrd.sh IN OUT CREDDIR}
creds=${3:?usage: make-tls-initrd.sh IN OUT CREDDIR}
hook=$here/../../examples/initramfs-tools/hooks/nbd-tls

work=$(mktemp -d "${TMPDIR:-/tmp}/tls-initrd.XXXXXX")
trap 'rm -rf "$work"' EXIT
unmkinitramfs "$in" "$work/x"
main=$work/x
[ -d "$work/x/main" ] && main=$work/x/main

mkdir -p "$work/conf"
cp -r "$creds" "$work/conf/nbd-tls"
env DESTDIR="$main" CONFDIR="$work/conf" verbose=n \
	version="$(ls "$main/lib/modules" 2>/dev/null | head -1)" \
	DPKG_ARCH="$(dpkg --print-architecture)" sh "$hook" ||
	{ echo "tls-initrd: the hook failed" >&2; exit 1; }

# Early archives (CPU microcode) stay uncompressed and first, as
# mkinitramfs writes them.
pack() { (cd "$1" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet); }
{
	for e in "$work"/x/early*; do
		[ -d "$e" ] && pack "$e"
	done
	pack "$main" | zstd -q -c
} > "$out.tmp"
mv "$out.tmp" "$out"
