#!/bin/bash
# A CA file that holds no CA stops nbdd at start, naming the file, the
# certificate and the fix, instead of serving and then refusing every
# client. The "obvious" certtool template (a common name alone) makes a
# certificate with basic constraints CA:FALSE: nbdd would start with it,
# and every client certificate it signed would then fail verification.
# The same files with the CA made as nbdd(8) says ("ca",
# "cert_signing_key") let nbdd start and nbdinfo in.
. "$(dirname "$0")/../lib/lib.sh"
need certtool nbdinfo

cd "$T"
mkdir -p root tls admin
truncate -s 4M root/pi.img
certtool --generate-privkey --key-type=ecdsa --outfile ca-key.pem 2>/dev/null
certtool --generate-privkey --key-type=ecdsa --outfile server-key.pem 2>/dev/null
certtool --generate-privkey --key-type=ecdsa --outfile admin-key.pem 2>/dev/null
printf 'cn = "boot server"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\n' >server.tmpl
printf 'cn = "admin"\ntls_www_client\nsigning_key\n' >admin.tmpl

# make_ca TEMPLATE_TEXT: the CA, and the server's and admin's certificates
# signed by it, into tls/ and admin/.
make_ca() {
	printf '%b' "$1" >ca.tmpl
	certtool --generate-self-signed --load-privkey ca-key.pem \
		--template ca.tmpl --outfile ca-cert.pem >/dev/null 2>&1 ||
		fail "certtool: the CA"
	for who in server admin; do
		certtool --generate-certificate --load-privkey "$who-key.pem" \
			--load-ca-certificate ca-cert.pem --load-ca-privkey ca-key.pem \
			--template "$who.tmpl" --outfile "$who-cert.pem" >/dev/null 2>&1 ||
			fail "certtool: $who's certificate"
	done
	cp ca-cert.pem server-cert.pem server-key.pem tls/
	cp ca-cert.pem admin/
	cp admin-cert.pem admin/client-cert.pem
	cp admin-key.pem admin/client-key.pem
}

port=$(free_port tcp)
make_ca 'cn = "netboot CA"\n'
certtool -i --infile ca-cert.pem | has 'Certificate Authority (CA): FALSE' ||
	fail "certtool made a CA of a template without \"ca\": this test needs another bad one"
rc=0
timeout 20 "$BIN/nbdd" -r root -l 127.0.0.1 -p "$port" -X tls -y -w admin \
	>"$T/bad.log" 2>&1 || rc=$?
cat "$T/bad.log"
[ "$rc" = 1 ] || fail "nbdd started (or exited $rc) with a CA file that holds no CA"
assert_log "$T/bad.log" "error: TLS: tls/ca-cert.pem: certificate 1 of 1 \(CN=netboot CA\) is not a CA \(basic constraints CA:FALSE\)"
assert_log "$T/bad.log" '"ca" and "cert_signing_key" in its certtool template'

# The CA as nbdd(8) makes it: nbdd starts and the administrator gets in.
make_ca 'cn = "netboot CA"\nca\ncert_signing_key\n'
start_bg nbdd "$BIN/nbdd" -r root -l 127.0.0.1 -p "$port" -X tls -y -w admin
NBDD=$LAST_PID
wait_port tcp "$port"
nbdinfo --list "nbds://127.0.0.1:$port?tls-certificates=$T/admin" >"$T/list" 2>&1 ||
	fail "nbdinfo as admin: $(cat "$T/list")"
grep -q 'export="pi"' "$T/list" || fail "admin's list: $(cat "$T/list")"
stop_pid "$NBDD"
echo ok
