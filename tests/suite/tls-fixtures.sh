#!/bin/bash
# The TLS test fixtures (tests/lib/tls.inc) against real peers, so the NBD
# over TLS tests and the benchmark stand on certificates that the real
# clients and servers take or refuse for the stated reason: nbdkit
# serves, nbdinfo, nbd-client and qemu-img connect. nbdd is not involved.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need nbdkit nbdinfo nbd-client qemu-img certtool psktool

tls_make "$T/tls"

x509=$(free_port tcp)
start_bg nbdkit-x509 nbdkit -f -p "$x509" --tls=require \
	--tls-certificates="$TLS_SERVER" --tls-verify-peer memory 1M
anon=$(free_port tcp)
start_bg nbdkit-anon nbdkit -f -p "$anon" --tls=require \
	--tls-certificates="$TLS_SERVER" memory 1M
psk=$(free_port tcp)
start_bg nbdkit-psk nbdkit -f -p "$psk" --tls=require \
	--tls-psk="$TLS_PSK" memory 1M
wait_port tcp "$x509"
wait_port tcp "$anon"
wait_port tcp "$psk"

size() {	# size URI: nbdinfo's answer, or "refused"
	nbdinfo --size "$1" 2>/dev/null || echo refused
}

for c in abcd1234 dc-a6-32-01-36-c2 jammy admin nobody; do
	[ "$(size "nbds://localhost:$x509/?tls-certificates=$TLS_CLIENT/$c")" = 1048576 ] ||
		fail "client $c refused by nbdkit"
done
for c in otherca expired notyet revoked untrusting nocert; do
	[ "$(size "nbds://localhost:$x509/?tls-certificates=$TLS_CLIENT/$c")" = refused ] ||
		fail "client $c accepted by nbdkit"
done
# nocert trusts our CA and has nothing to show: refused above only for
# that, since a server that asks for no certificate lets it in.
[ -s "$TLS_CLIENT/nocert/ca-cert.pem" ] && [ ! -e "$TLS_CLIENT/nocert/client-cert.pem" ] ||
	fail "nocert is not the CA alone"
[ "$(size "nbds://localhost:$anon/?tls-certificates=$TLS_CLIENT/nocert")" = 1048576 ] ||
	fail "nocert refused by a server that asks for no certificate"
# Why each is refused, in certtool's words.
verify() {
	certtool --verify --load-ca-certificate "$TLS_SERVER/ca-cert.pem" \
		--load-crl "$TLS_SERVER/ca-crl.pem" \
		--infile "$TLS_CLIENT/$1/client-cert.pem" 2>&1 || true
}
verify abcd1234 | has 'Chain verification output: Verified' || fail "abcd1234 does not verify"
verify otherca | has 'issuer is unknown' || fail "otherca: not an unknown issuer"
verify expired | has 'expired certificate' || fail "expired: not expired"
verify notyet | has 'not yet valid' || fail "notyet: not 'not yet valid'"
verify revoked | has 'revoked' || fail "revoked: not revoked"
certtool -i --infile "$TLS_SERVER/ca-cert.pem" |
	has 'Certificate Authority (CA): TRUE' || fail "the CA is not a CA"
certtool -i --infile "$TLS_CLIENT/dc-a6-32-01-36-c2/client-cert.pem" |
	grep -q 'Subject: CN=dc-a6-32-01-36-c2' || fail "the MAC client's CN"

# nbd-client checks the server's name against the address it was given.
for host in localhost 127.0.0.1; do
	nbd-client -l "$host" "$x509" \
		-certfile "$TLS_CLIENT/abcd1234/client-cert.pem" \
		-keyfile "$TLS_CLIENT/abcd1234/client-key.pem" \
		-cacertfile "$TLS_CLIENT/abcd1234/ca-cert.pem" >/dev/null 2>&1 ||
		fail "nbd-client -l $host with TLS"
done
qemu-img info --object "tls-creds-x509,id=tls0,dir=$TLS_CLIENT/abcd1234,endpoint=client" \
	--image-opts "driver=nbd,host=localhost,port=$x509,tls-creds=tls0" |
	grep -q '1 MiB' || fail "qemu-img with tls-creds-x509"

[ "$(size "nbds://abcd1234@localhost:$psk/?tls-psk-file=$TLS_PSK")" = 1048576 ] ||
	fail "PSK user abcd1234 refused"
[ "$(size "nbds://abcd1234@localhost:$psk/?tls-psk-file=$TLS_PSK_WRONG")" = refused ] ||
	fail "a wrong PSK accepted"
qemu-img info --object "tls-creds-psk,id=tls0,dir=$(dirname "$TLS_PSK"),username=dc-a6-32-01-36-c2,endpoint=client" \
	--image-opts "driver=nbd,host=localhost,port=$psk,tls-creds=tls0" |
	grep -q '1 MiB' || fail "qemu-img with tls-creds-psk"
[ "$(stat -c %a "$TLS_PSK")" = 600 ] || fail "keys.psk is not mode 600"
echo "ok: TLS fixtures"
