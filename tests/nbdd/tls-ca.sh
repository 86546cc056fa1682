#!/bin/bash
# A CA file that holds no CA stops nbdd at start, naming the file, the
# certificate and the fix, instead of serving and then refusing every
# client. The "obvious" certtool template (a common name alone) makes a
# certificate with basic constraints CA:FALSE: nbdd would start with it,
# and every client certificate it signed would then fail verification.
# The same files with the CA made as nbdd(8) says ("ca",
# "cert_signing_key") let nbdd start and nbdinfo in.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need certtool nbdinfo

cd "$T"
mkdir -p root
truncate -s 4M root/pi.img

# make_ca TEMPLATE_LINES: the CA from a template of its common name and
# TEMPLATE_LINES (tests/lib/tls.inc, tls_ca), and the server's and admin's
# certificates signed by it, into tls/ and admin/.
make_ca() {
	rm -rf ca tls admin
	tls_ca ca "netboot CA" "$1"
	tls_server tls ca
	tls_client admin admin ca
}

port=$(free_port tcp)
# The template a newcomer writes: a common name, nothing else.
make_ca ''
certtool -i --infile ca/ca-cert.pem | has 'Certificate Authority (CA): FALSE' ||
	fail "certtool made a CA of a template without \"ca\": this test needs another bad one"
rc=0
timeout 20 "$BIN/nbdd" -r root -l 127.0.0.1 -p "$port" -X tls -y -w admin \
	>"$T/bad.log" 2>&1 || rc=$?
cat "$T/bad.log"
[ "$rc" = 1 ] || fail "nbdd started (or exited $rc) with a CA file that holds no CA"
assert_log "$T/bad.log" "error: TLS: tls/ca-cert.pem: certificate 1 of 1 \(CN=netboot CA\) is not a CA \(basic constraints CA:FALSE\)"
assert_log "$T/bad.log" '"ca" and "cert_signing_key" in its certtool template'

# The CA as nbdd(8) makes it: nbdd starts and the administrator gets in.
make_ca $'ca\ncert_signing_key'
start_bg nbdd "$BIN/nbdd" -r root -l 127.0.0.1 -p "$port" -X tls -y -w admin
NBDD=$LAST_PID
wait_port tcp "$port"
nbdinfo --list "nbds://127.0.0.1:$port?tls-certificates=$T/admin" >"$T/list" 2>&1 ||
	fail "nbdinfo as admin: $(cat "$T/list")"
grep -q 'export="pi"' "$T/list" || fail "admin's list: $(cat "$T/list")"
stop_pid "$NBDD"
echo ok
