#!/bin/bash
# nbdd over TLS: who has an identity. Flag combinations that would let a
# client without one past the identity checks (certificates unverified
# beside PSK users, allowed mode beside either), or whose flags would do
# nothing, stop nbdd at start with the reason; a client with only the CA
# (no certificate) gets nothing where identities are checked; only client
# certificates are identities (not a server's from the same CA, nor one
# that lists no purpose); and nobody is named "default": not a
# certificate, not a PSK user, not an administrator.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need nbdinfo timeout
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

tls_make "$T/tls"
C=$TLS_CLIENT
tls_add_cert servercert abcd1234 tls_www_server
tls_add_cert nopurpose abcd1234 ""
tls_add_cert both abcd1234 $'tls_www_server\ntls_www_client'
tls_add_client default
certtool -i --infile "$C/servercert/client-cert.pem" | has 'TLS WWW Server' ||
	fail "the server-purpose fixture is not one"
certtool -i --infile "$C/nopurpose/client-cert.pem" | has 'Key Purpose' &&
	fail "the no-purpose fixture lists a purpose"

# abcd1234's entry points at jammy; default points at bookworm, and an
# export is named default too.
mkdir -p "$T/root/boot"
head -c $((4 << 20)) /dev/urandom >"$T/root/jammy.img"
head -c $((4 << 20)) /dev/urandom >"$T/root/bookworm.img"
head -c $((1 << 20)) /dev/urandom >"$T/root/default.img"
ln -s ../jammy.img "$T/root/boot/abcd1234"
ln -s ../bookworm.img "$T/root/boot/default"

# --- combinations refused at start ----------------------------------------
# refused_at_start STATUS REGEX FLAGS...: nbdd with FLAGS stops at once
# with STATUS and a line matching REGEX; it never serves.
refused_at_start() {
	local want=$1 regex=$2 rc=0
	shift 2
	timeout 10 "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 \
		-p "$(free_port tcp)" "$@" >"$T/start" 2>&1 || rc=$?
	[ "$rc" != 124 ] || fail "nbdd $* started and served"
	[ "$rc" = "$want" ] ||
		fail "nbdd $*: exit status $rc, want $want: $(cat "$T/start")"
	grep -Eq -- "$regex" "$T/start" ||
		fail "nbdd $*: no line matching /$regex/: $(cat "$T/start")"
}
# Issue 22: with -X and -k but no -y, a client with only the CA opened
# everything that PSK users were refused.
refused_at_start 2 'X without -y .*add -y' -X "$TLS_SERVER" -k "$TLS_PSK"
refused_at_start 2 'X without -y' -X "$TLS_SERVER" -k "$TLS_PSK" -w admin
refused_at_start 2 'x allowed lets a client that does not start TLS' \
	-x allowed -X "$TLS_SERVER" -y
refused_at_start 2 'x allowed lets' -x allowed -k "$TLS_PSK"
refused_at_start 2 'x off turns TLS off' -x off -X "$TLS_SERVER" -y
refused_at_start 2 'x off turns TLS off' -x off -k "$TLS_PSK"
refused_at_start 2 'w and -B name TLS identities' -X "$TLS_SERVER" -w admin
refused_at_start 2 'default is the boot entry' -X "$TLS_SERVER" -y -w default
cp "$TLS_PSK" "$T/default.psk"
echo "default:00112233445566778899aabbccddeeff" >>"$T/default.psk"
chmod 600 "$T/default.psk"
refused_at_start 1 'default.psk line 5: user default: .*never a client' \
	-X "$TLS_SERVER" -y -k "$T/default.psk"

# --- identities checked: certificates and PSK users ----------------------
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -T 3 \
	-X "$TLS_SERVER" -y -k "$TLS_PSK" -w admin -v
pid=$LAST_PID
wait_port tcp "$port"
uri() {	# uri CLIENT EXPORT
	echo "nbds://127.0.0.1:$port/$2?tls-certificates=$C/$1"
}
psk_uri() {	# psk_uri USER EXPORT
	echo "nbds://$1@127.0.0.1:$port/$2?tls-psk-file=$TLS_PSK"
}
# A client with the CA alone: nothing opened, nothing listed.
for e in jammy bookworm default; do
	nbdinfo --size "$(uri nocert "$e")" >/dev/null 2>&1 &&
		fail "a client with no certificate opened $e"
done
nbdinfo --list "$(uri nocert "")" >"$T/list" 2>&1 &&
	fail "a client with no certificate listed: $(cat "$T/list")"
grep -q 'export=' "$T/list" && fail "exports listed without an identity"
$RAW "$port" tls-bad-cert "$C/nocert" || fail "nocert got an answer over TLS"
assert_log "$T/nbdd.log" 'the client sent no certificate'
# The PSK user opens its own, and no more.
[ "$(nbdinfo --size "$(psk_uri abcd1234 jammy)")" = $((4 << 20)) ] ||
	fail "PSK user abcd1234 refused its image"
nbdinfo --size "$(psk_uri abcd1234 bookworm)" >/dev/null 2>&1 &&
	fail "PSK user abcd1234 opened bookworm"
nbdinfo --list "$(psk_uri abcd1234 "")" >"$T/list" 2>&1 ||
	fail "PSK user's list: $(cat "$T/list")"
grep -q 'export="jammy"' "$T/list" && ! grep -q 'export="bookworm"' "$T/list" ||
	fail "PSK user abcd1234's list: $(cat "$T/list")"

# --- only client certificates are identities -----------------------------
for c in servercert nopurpose; do
	nbdinfo --size "$(uri "$c" jammy)" >/dev/null 2>&1 &&
		fail "certificate $c opened jammy"
	$RAW "$port" tls-bad-cert "$C/$c" || fail "certificate $c answered"
done
assert_log "$T/nbdd.log" 'client certificate refused: .*not for TLS client authentication.*tls_www_client'
assert_log "$T/nbdd.log" 'client certificate refused: .*no extended key usage.*tls_www_client'
[ "$(nbdinfo --size "$(uri both jammy)")" = $((4 << 20)) ] ||
	fail "a certificate for clients and servers refused"

# --- nobody is named default -----------------------------------------------
# What the default entry points at, and the export named default, are
# not a certificate named default's; it lists nothing.
for e in bookworm default; do
	nbdinfo --size "$(uri default "$e")" >/dev/null 2>&1 &&
		fail "a certificate named default opened $e"
	$RAW "$port" tls-go "$C/default" "$e" "" \
		"refused:identity default is the name of the boot entry" \
		>/dev/null || fail "a certificate named default: GO $e"
done
$RAW "$port" tls-list "$C/default" || fail "default's list"
assert_log "$T/nbdd.log" 'GO refused: export "bookworm": identity default is the name of the boot entry'
# A Pi without an entry still boots what default points at.
$RAW "$port" tls-go "$C/dc-a6-32-01-36-c2" bookworm "" ok >/dev/null ||
	fail "a Pi without an entry lost default's image"
assert_alive "$pid"
stop_pid "$pid"

# --- no identities at all: -X alone, in required and allowed mode ---------
for mode in required allowed; do
	port=$(free_port tcp)
	start_bg "anon-$mode" "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 \
		-p "$port" -x "$mode" -X "$TLS_SERVER"
	pid=$LAST_PID
	wait_port tcp "$port"
	assert_log "$T/anon-$mode.log" "TLS $mode: X.509 from .* \(clients anonymous\)"
	[ "$(nbdinfo --size "$(uri nocert bookworm)")" = $((4 << 20)) ] ||
		fail "-x $mode -X: an anonymous client was refused"
	nbdinfo --list "$(uri nocert "")" >"$T/list" 2>&1 ||
		fail "-x $mode -X: anonymous LIST: $(cat "$T/list")"
	[ "$(grep -c 'export=' "$T/list")" = 3 ] ||
		fail "-x $mode -X: anonymous LIST: $(cat "$T/list")"
	stop_pid "$pid"
done
echo "ok: TLS identities"
