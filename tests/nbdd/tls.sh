#!/bin/bash
# nbdd over TLS, required mode: nothing but STARTTLS and ABORT before TLS
# (byte by byte and with real clients), plaintext sent with STARTTLS
# thrown away unread, stalls and failures in the TLS handshake dropped,
# every refused certificate refused for its reason, who may open what
# (tlsauth) with LIST showing only that, the one-writer rule on top; then
# real clients over TLS (nbd-client, nbdinfo, nbdcopy, nbdsh, qemu-img and
# qemu-io with X.509 and PSK) with the bytes compared; then allowed mode,
# which has no identities.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need nbd-client nbdinfo nbdcopy nbdsh qemu-img qemu-io
RAW="/usr/bin/python3 $TOP/tests/nbdd/raw.py"

tls_make "$T/tls"
C=$TLS_CLIENT

# abcd1234's entry points at jammy; a Pi without an entry boots default,
# bookworm; "jammy" is named like an export; "nobody" is no Pi and has no
# entry; "admin" is named with -w.
mkdir -p "$T/root/boot"
head -c $((16 << 20)) /dev/urandom >"$T/root/jammy.img"
head -c $((4 << 20)) /dev/urandom >"$T/root/bookworm.img"
ln -s ../jammy.img "$T/root/boot/abcd1234"
ln -s ../bookworm.img "$T/root/boot/default"

port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -T 2 \
	-X "$TLS_SERVER" -y -k "$TLS_PSK" -w admin -vv
pid=$LAST_PID
wait_port tcp "$port"
assert_log "$T/nbdd.log" 'TLS required: X.509 from .* \(client certificates required and verified\), PSK for 4 users; administrators \(-w\): admin'

# --- before TLS, and STARTTLS itself, byte by byte ----------------------
$RAW "$port" tls-required "$C/abcd1234" jammy jammy || fail "required mode"
assert_log "$T/nbdd.log" 'LIST refused: TLS is required by this server: send STARTTLS first'
cp "$T/root/jammy.img" "$T/jammy.orig"	# (it wrote 4 KiB)
$RAW "$port" tls-export-name-plain jammy || fail "EXPORT_NAME before TLS"
assert_log "$T/nbdd.log" 'EXPORT_NAME refused, closing: TLS is required'
$RAW "$port" tls-inject "$C/abcd1234" || fail "injected plaintext"
assert_log "$T/nbdd.log" 'STARTTLS: 48 bytes of plaintext sent after it, before TLS began: thrown away unread'
$RAW "$port" tls-inject-late || fail "plaintext for a ClientHello"
assert_log "$T/nbdd.log" 'TLS: TLS handshake failed: .*: closing'
# Stalls, at once: the handshake timeout (-T 2) holds for TLS's too.
# (A host has at most two connections in the handshake at once.)
$RAW "$port" tls-stall 2 silent >"$T/stall1" 2>&1 & s1=$!
$RAW "$port" tls-stall 2 partial >"$T/stall2" 2>&1 & s2=$!
NBD_SRC=127.0.0.2 $RAW "$port" tls-stall-record "$C/abcd1234" jammy 2 \
	>"$T/stall3" 2>&1 & s3=$!
wait $s1 || fail "silent TLS handshake: $(cat "$T/stall1")"
wait $s2 || fail "half a ClientHello: $(cat "$T/stall2")"
wait $s3 || fail "a TLS record cut short: $(cat "$T/stall3")"
assert_log "$T/nbdd.log" 'TLS: no TLS handshake by the deadline: closing'
assert_log "$T/nbdd.log" 'client stalled in the middle of a request for 2 s'
assert_same_file "$T/jammy.orig" "$T/root/jammy.img"

# --- certificates refused, each for its reason --------------------------
for c in otherca expired notyet revoked nocert; do
	$RAW "$port" tls-bad-cert "$C/$c" || fail "certificate $c served"
done
assert_log "$T/nbdd.log" 'client certificate refused: .*signer.*not found|client certificate refused: .*issuer is unknown'
assert_log "$T/nbdd.log" 'client certificate refused: .*expired'
assert_log "$T/nbdd.log" 'client certificate refused: .*not activated|client certificate refused: .*not yet'
assert_log "$T/nbdd.log" 'client certificate refused: .*revoked'
assert_log "$T/nbdd.log" 'the client sent no certificate'
# The same through libnbd; a client that does not trust us gives up.
uri() {	# uri IDENTITY EXPORT
	echo "nbds://127.0.0.1:$port/$2?tls-certificates=$C/$1"
}
for c in otherca expired notyet revoked nocert untrusting; do
	nbdinfo --size "$(uri "$c" jammy)" >/dev/null 2>&1 &&
		fail "nbdinfo with certificate $c got in"
done
# Plaintext clients learn that TLS is required, and get nothing.
nbdinfo --size "nbd://127.0.0.1:$port/jammy" >"$T/plain" 2>&1 &&
	fail "plaintext nbdinfo got in"
grep -qi 'TLS' "$T/plain" || fail "nbdinfo was not told TLS is required: $(cat "$T/plain")"
nbd-client -l 127.0.0.1 "$port" >"$T/plain" 2>&1 && fail "plaintext nbd-client -l listed"
grep -q jammy "$T/plain" && fail "plaintext nbd-client -l saw an export"

# --- who may open what ---------------------------------------------------
$RAW "$port" tls-list "$C/abcd1234" jammy || fail "abcd1234's list"
$RAW "$port" tls-list "$C/dc-a6-32-01-36-c2" bookworm || fail "the MAC Pi's list"
$RAW "$port" tls-list "$C/jammy" jammy || fail "jammy's list"
$RAW "$port" tls-list "$C/admin" jammy bookworm || fail "admin's list"
$RAW "$port" tls-list "$C/nobody" || fail "nobody's list"
$RAW "$port" tls-go "$C/abcd1234" bookworm "" \
	"refused:boot entry abcd1234 points at another image" >/dev/null ||
	fail "abcd1234 opened bookworm"
$RAW "$port" tls-go "$C/dc-a6-32-01-36-c2" jammy "" \
	"refused:the default entry points at another image" >/dev/null ||
	fail "the MAC Pi opened jammy"
$RAW "$port" tls-go "$C/nobody" bookworm "" \
	"refused:not named like a Pi" >/dev/null ||
	fail "a laptop's certificate opened what default boots"
$RAW "$port" tls-go "$C/dc-a6-32-01-36-c2" bookworm "" ok >/dev/null ||
	fail "the MAC Pi could not open default's image"
$RAW "$port" tls-go "$C/admin" bookworm "" ok >/dev/null || fail "admin refused"
assert_log "$T/nbdd.log" 'GO refused: export "bookworm": boot entry abcd1234 points at another image'
assert_log "$T/nbdd.log" 'TLS: TLS1.3 [A-Z0-9-]+, identity nobody'
# One writer still: abcd1234 holds jammy, admin from another host waits.
start_bg holder $RAW "$port" tls-go "$C/abcd1234" jammy 127.0.0.1 "ok:$T/release"
holder=$LAST_PID
for _ in $(seq 50); do grep -q holding "$T/holder.log" && break; sleep 0.1; done
grep -q holding "$T/holder.log" || fail "abcd1234 could not take jammy"
$RAW "$port" tls-go "$C/admin" jammy 127.0.0.2 "refused:in use by 127.0.0.1" \
	>/dev/null || fail "a second writer over TLS"
touch "$T/release"
wait "$holder" || fail "the holder failed"

# --- real clients over TLS -----------------------------------------------
nbd-client -l 127.0.0.1 "$port" -certfile "$C/abcd1234/client-cert.pem" \
	-keyfile "$C/abcd1234/client-key.pem" \
	-cacertfile "$C/abcd1234/ca-cert.pem" >"$T/list" 2>&1 ||
	fail "nbd-client -l over TLS: $(cat "$T/list")"
grep -qx jammy "$T/list" || fail "nbd-client -l lacks jammy: $(cat "$T/list")"
grep -qx bookworm "$T/list" && fail "nbd-client -l shows abcd1234 bookworm"
nbdinfo --list "$(uri admin "")" >"$T/list" 2>&1 || fail "nbdinfo --list: $(cat "$T/list")"
grep -q 'export="bookworm"' "$T/list" && grep -q 'export="jammy"' "$T/list" ||
	fail "admin's nbdinfo --list: $(cat "$T/list")"
[ "$(nbdinfo --size "$(uri abcd1234 jammy)")" = $((16 << 20)) ] || fail "nbdinfo --size"
nbdinfo --size "$(uri abcd1234 bookworm)" >/dev/null 2>&1 && fail "nbdinfo opened bookworm as abcd1234"
# Every byte out and in, several connections at once.
nbdcopy -C 4 "$(uri abcd1234 jammy)" "$T/out.img" || fail "nbdcopy out over TLS"
assert_same_file "$T/jammy.orig" "$T/out.img"
head -c $((16 << 20)) /dev/urandom >"$T/new.img"
nbdcopy -C 4 "$T/new.img" "$(uri abcd1234 jammy)" || fail "nbdcopy in over TLS"
assert_same_file "$T/new.img" "$T/root/jammy.img"
# nbdsh (its python3 -m nbd, as /usr/bin/python3 has the module).
/usr/bin/python3 -m nbd -c '
h.set_uri_allow_local_file(True)
h.connect_uri("'"$(uri jammy jammy)"'")
assert h.get_tls_negotiated()
h.pwrite(b"\xa5" * 65536, 1 << 20)
assert h.pread(65536, 1 << 20) == b"\xa5" * 65536
assert h.pread(3 << 20, 5) == open("'"$T"'/root/jammy.img", "rb").read()[5:5 + (3 << 20)]
' >"$T/nbdsh" 2>&1 || fail "nbdsh over TLS: $(cat "$T/nbdsh")"
x509="tls-creds-x509,id=t0,dir=$C/abcd1234,endpoint=client"
qemu-img info --object "$x509" --image-opts \
	"driver=nbd,host=127.0.0.1,port=$port,export=jammy,tls-creds=t0" >"$T/qi" 2>&1 ||
	fail "qemu-img info over TLS: $(cat "$T/qi")"
grep -q '16 MiB' "$T/qi" || fail "qemu-img info: $(cat "$T/qi")"
qemu-io --object "$x509" --image-opts \
	"driver=nbd,host=127.0.0.1,port=$port,export=jammy,tls-creds=t0" \
	-c 'write -P 0x3c 4M 1M' -c 'read -P 0x3c 4M 1M' >"$T/qio" 2>&1 ||
	fail "qemu-io over TLS: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "qemu-io read back: $(cat "$T/qio")"
cmp -s <(head -c $((1 << 20)) /dev/zero | tr '\0' '\074') \
	<(dd if="$T/root/jammy.img" bs=1M skip=4 count=1 status=none) ||
	fail "qemu-io's write is not in the image"
psk="tls-creds-psk,id=t1,dir=$(dirname "$TLS_PSK"),username=dc-a6-32-01-36-c2,endpoint=client"
qemu-img convert -O raw --object "$psk" --image-opts \
	"driver=nbd,host=127.0.0.1,port=$port,export=bookworm,tls-creds=t1" \
	"$T/bookworm.out" || fail "qemu-img convert over TLS with PSK"
assert_same_file "$T/root/bookworm.img" "$T/bookworm.out"
[ "$(nbdinfo --size "nbds://abcd1234@127.0.0.1:$port/jammy?tls-psk-file=$TLS_PSK")" = $((16 << 20)) ] ||
	fail "nbdinfo with PSK"
nbdinfo --size "nbds://abcd1234@127.0.0.1:$port/jammy?tls-psk-file=$TLS_PSK_WRONG" \
	>/dev/null 2>&1 && fail "a wrong PSK got in"
assert_log "$T/nbdd.log" 'TLS: PSK user abcd1234: .*\(a wrong key\?\): closing'
assert_log "$T/nbdd.log" 'identity dc-a6-32-01-36-c2'
assert_alive "$pid"
stop_pid "$pid"

# --- allowed mode ---------------------------------------------------------
# Encryption for the clients that want it, and no identities: beside -y
# or -k, a client that does not start TLS would pass the checks, so nbdd
# refuses that (tls-identity.sh).
port=$(free_port tcp)
start_bg nbdd2 "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" -x allowed \
	-X "$TLS_SERVER" -v
pid=$LAST_PID
wait_port tcp "$port"
$RAW "$port" tls-plain-allowed bookworm || fail "plaintext in allowed mode"
$RAW "$port" tls-forgets "$C/abcd1234" jammy || fail "state across STARTTLS"
[ "$(nbdinfo --size "$(uri abcd1234 jammy)")" = $((16 << 20)) ] || fail "nbdinfo, allowed mode"
# A shared base over TLS: large reads that mix the overlay's blocks with
# the base's, and reads all from one of them, through TLS's records.
chmod 444 "$T/root/bookworm.img"
sum=$(sha256sum <"$T/root/bookworm.img")
/usr/bin/python3 "$TOP/tests/nbdd/bases.py" runs \
	"$(uri dc-a6-32-01-36-c2 bookworm)" "$T/root/bookworm.img" >"$T/runs" 2>&1 ||
	fail "mixed runs of a base over TLS: $(cat "$T/runs")"
[ "$(sha256sum <"$T/root/bookworm.img")" = "$sum" ] || fail "the base was written over TLS"
assert_log "$T/nbdd2.log" 'export bookworm .*shared base'
stop_pid "$pid"
echo "ok: nbdd over TLS"
