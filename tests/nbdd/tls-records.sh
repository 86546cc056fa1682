#!/bin/bash
# nbdd over TLS, its records as the client asks for them, with nbdd's
# every reply path (large READs sealed straight from the image, batched
# small replies sealed in place, and GnuTLS's own records): a client that
# takes records of at most 4096 or 512 bytes (RFC 8449) reads every byte
# right in TLS 1.3 and 1.2, and a client that asks for a TLS 1.3 key
# update before each READ gets the reply under nbdd's new key (RFC 8446,
# 4.6.3). The client is tests/tools/nbd-tls-client (GnuTLS): libnbd and
# qemu cannot be told to do either.
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
CLIENT=$BIN/tools/nbd-tls-client
[ -x "$CLIENT" ] || fail "$CLIENT is not built"

tls_make "$T/tls"
C=$TLS_CLIENT
mkdir -p "$T/root/boot"
size=$((16 << 20))
head -c "$size" /dev/urandom >"$T/root/jammy.img"
ln -s ../jammy.img "$T/root/boot/abcd1234"

port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" \
	-X "$TLS_SERVER" -y -vv
pid=$LAST_PID
wait_port tcp "$port"

# Small READs (batched replies), one of 200 KB, and large ones (sealed
# from the image in 256 KiB chunks), the last up to the end.
reads="0:4096 1:511 4096:60000 8192:200000 12345:1048576 $((size - (4 << 20))):$((4 << 20))"
tls13="NORMAL:-VERS-ALL:+VERS-TLS1.3"
tls12="NORMAL:-VERS-ALL:+VERS-TLS1.2"
chacha=":-CIPHER-ALL:+CHACHA20-POLY1305"
client() {	# client WHAT ARGS...
	local what=$1
	shift
	"$CLIENT" -c "$C/abcd1234" "$@" 127.0.0.1 "$port" jammy \
		"$T/root/jammy.img" $reads >"$T/client" 2>&1 ||
		fail "$what: $(cat "$T/client")"
	[ "$(grep -c ': ok' "$T/client")" = 6 ] ||
		fail "$what: $(cat "$T/client")"
}

# --- the peer's record size limit (RFC 8449) -------------------------------
for max in 4096 512; do
	client "TLS 1.3, records of $max" -m "$max" -p "$tls13"
	client "TLS 1.3 ChaCha20, records of $max" -m "$max" -p "$tls13$chacha"
	client "TLS 1.2, records of $max" -m "$max" -p "$tls12"
done
client "TLS 1.2 ChaCha20, records of 1000" -m 1000 -p "$tls12$chacha"
client "no limit" -p "$tls13"

# --- a key update asked for is answered before the reply ------------------
client "TLS 1.3, a key update before each READ" -u -p "$tls13"
grep -q 'under the server.s new key' "$T/client" || fail "$(cat "$T/client")"
client "TLS 1.3 ChaCha20, a key update before each READ" -u -p "$tls13$chacha"
client "TLS 1.3, records of 4096, a key update before each READ" -u \
	-m 4096 -p "$tls13"
assert_log "$T/nbdd.log" 'TLS: [0-9]+ records sent in [0-9]+ sendmsg, .*, 0 key updates'
assert_alive "$pid"
stop_pid "$pid"
echo "ok: TLS records as the client asks for them"
