#!/bin/bash
# The initramfs-tools hook and boot script for a root over TLS
# (examples/initramfs-tools): `make install-initramfs` installs them; in
# the e2e image's initramfs (make-image.sh installs them as documented,
# without credentials) they change nothing but add the boot script; with
# credentials (tests/e2e/make-tls-initrd.sh runs the hook as mkinitramfs
# does) the certificate, key and CA are in it, Debian's nbd script runs
# our boot script, and that runs nbd-client with the TLS arguments. The
# initramfs's own nbd-client, with its own libraries and the embedded
# credentials, then lists a TLS server's exports (nbdkit as the server).
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need_root
need mkinitramfs unmkinitramfs lsinitramfs cpio zstd mcopy sfdisk mkfs.vfat \
	mkfs.ext4 certtool psktool nbdkit chroot

ex=$TOP/examples/initramfs-tools

# make install-initramfs puts them where the documentation says.
make -s -C "$TOP" install-initramfs DESTDIR="$T/inst" PREFIX=/usr >/dev/null
cmp "$T/inst/usr/share/netboot/initramfs-tools/hooks/nbd-tls" "$ex/hooks/nbd-tls" ||
	fail "install-initramfs: hook"
cmp "$T/inst/usr/share/netboot/initramfs-tools/scripts/nbd-tls-client" \
	"$ex/scripts/nbd-tls-client" || fail "install-initramfs: boot script"
[ -x "$T/inst/usr/share/netboot/initramfs-tools/scripts/nbd-tls-client" ] ||
	fail "install-initramfs: boot script not executable"

# The e2e image's initramfs, built by mkinitramfs with both installed.
img=$("$TOP/tests/e2e/make-image.sh" "$BIN/e2e") || fail "building the image failed"
mcopy -i "$img@@$((2048 * 512))" ::initrd.img "$T/plain.img"
lsinitramfs "$T/plain.img" > "$T/plain.list"
grep -q '^scripts/nbd-tls-client$' "$T/plain.list" || fail "boot script not in the initramfs"
! grep -q -E '^(etc/nbd-tls|conf/conf.d/nbd-tls)' "$T/plain.list" ||
	fail "the hook acted without credentials"

tls_make "$T/tls"
creds=$T/creds
mkdir -p "$creds"
cp "$TLS_CLIENT/abcd1234/"*.pem "$creds/"
echo nbdd.test > "$creds/tlshostname"

# Credentials that are not all there stop the build, naming the file.
mkdir -p "$T/half"
cp "$creds/ca-cert.pem" "$creds/client-cert.pem" "$T/half/"
if "$TOP/tests/e2e/make-tls-initrd.sh" "$T/plain.img" "$T/half.img" "$T/half" 2>"$T/half.log"; then
	fail "an initramfs was built without the client key"
fi
grep -q 'nbd-tls/client-key.pem is missing' "$T/half.log" || fail "no word of the missing key"

"$TOP/tests/e2e/make-tls-initrd.sh" "$T/plain.img" "$T/tls.img" "$creds" ||
	fail "make-tls-initrd.sh"
root=$T/root
unmkinitramfs "$T/tls.img" "$T/unpacked"
if [ -d "$T/unpacked/main" ]; then root=$T/unpacked/main; else root=$T/unpacked; fi
for f in ca-cert.pem client-cert.pem client-key.pem tlshostname; do
	cmp "$creds/$f" "$root/etc/nbd-tls/$f" || fail "etc/nbd-tls/$f differs"
done
[ "$(stat -c %a "$root/etc/nbd-tls/client-key.pem")" = 600 ] || fail "client key mode"
[ "$(stat -c %a "$root/etc/nbd-tls")" = 700 ] || fail "etc/nbd-tls mode"
built=$(cat "$root/etc/nbd-tls/built")
now=$(date -u +%s)
[ "$built" -le "$now" ] && [ "$built" -gt $((now - 3600)) ] || fail "built time $built"
grep -qx 'export NBDCLIENT=/scripts/nbd-tls-client' "$root/conf/conf.d/nbd-tls" ||
	fail "conf.d/nbd-tls does not name the boot script"
ls "$root"/usr/lib/*/libgnutls.so.* "$root"/lib/*/libgnutls.so.* >/dev/null 2>&1 ||
	find "$root" -name 'libgnutls.so.*' | has . || fail "no libgnutls in the initramfs"

# At boot /dev is a devtmpfs; in this chroot, /dev/null will do (the
# TLS process nbd-client forks detaches onto it).
mkdir -p "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3

# Debian's script, line for line, with a stand-in nbd-client that
# records its arguments.
line=$(grep -E '^[[:space:]]*\$NBDCLIENT ' "$root/scripts/local-top/nbd") ||
	fail "no \$NBDCLIENT line in scripts/local-top/nbd"
mv "$root/sbin/nbd-client" "$root/sbin/nbd-client.real"
printf '#!/bin/sh\necho "$@" > /nbd-client.args\n' > "$root/sbin/nbd-client"
chmod 755 "$root/sbin/nbd-client"
run_script() {	# run_script CMDLINE: Debian's call, in the initramfs
	echo "$1" > "$root/cmdline"
	rm -f "$root/nbd-client.args"
	chroot "$root" /bin/sh -c ". /conf/conf.d/nbd-tls
		export NBD_TLS_CMDLINE=/cmdline
		nbdsrv=10.0.0.1 nbdpath=jammy nbdport= nbdrootdev=/dev/nbd0
		$line" || fail "the boot script failed"
	cat "$root/nbd-client.args"
}
tlsargs="-certfile /etc/nbd-tls/client-cert.pem -keyfile /etc/nbd-tls/client-key.pem -cacertfile /etc/nbd-tls/ca-cert.pem"
got=$(run_script "ip=dhcp nbdroot=10.0.0.1/jammy root=/dev/nbd0p2")
want="10.0.0.1 -N jammy /dev/nbd0 -persist -systemd-mark $tlsargs -tlshostname nbdd.test"
[ "$got" = "$want" ] || fail "nbd-client got: $got; want: $want"
got=$(run_script "ip=dhcp nbdroot=10.0.0.1/jammy nbdtlshost=boot.lan root=/dev/nbd0p2")
want="10.0.0.1 -N jammy /dev/nbd0 -persist -systemd-mark $tlsargs -tlshostname boot.lan"
[ "$got" = "$want" ] || fail "nbdtlshost=: got: $got; want: $want"
case $got in *-swap*) fail "-swap passed on with TLS" ;; esac

# The initramfs's own nbd-client, libraries and credentials against a TLS
# server that requires this client's certificate.
mv "$root/sbin/nbd-client.real" "$root/sbin/nbd-client"
port=$(free_port tcp)
start_bg nbdkit nbdkit -f -p "$port" --tls=require \
	--tls-certificates="$TLS_SERVER" --tls-verify-peer memory 1M
wait_port tcp "$port"
chroot "$root" /sbin/nbd-client -l 127.0.0.1 "$port" $tlsargs \
	-tlshostname nbdd.test > "$T/list.out" 2>&1 || {
	cat "$T/list.out"; fail "the initramfs's nbd-client could not list over TLS"; }
# ... and refuses a server whose certificate is not for that name.
if chroot "$root" /sbin/nbd-client -l 127.0.0.1 "$port" $tlsargs \
	-tlshostname other.test > "$T/list2.out" 2>&1; then
	fail "nbd-client took a certificate for another name"
fi
echo "ok: initramfs with the TLS hook and boot script"
