#!/bin/bash
# nbdd -i: inetd "nowait" mode. A tiny inetd accepts one connection and
# runs nbdd with the socket as fd 0; nbdd serves that client and exits 0.
# A shared base there: an overlay per connection, gone with it.
. "$(dirname "$0")/../lib/lib.sh"
need qemu-io nbd-client

mkdir "$T/root"
truncate -s 4M "$T/root/pi.img"
head -c 4M /dev/zero | tr '\0' '\231' >"$T/root/lab.img"
chmod 444 "$T/root/lab.img"
sum=$(sha256sum <"$T/root/lab.img")
port=$(free_port tcp)
cat >"$T/inetd.py" <<'PY'
import socket, subprocess, sys
port, n, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
print("listening", flush=True)
for i in range(n):
    c, _ = ls.accept()
    # The second connection gets the socket as stdout and stderr too, as
    # classic inetd does: nbdd must not log into the NBD stream.
    p = subprocess.Popen(argv, stdin=c, stdout=c if i == 1 else None,
                         stderr=c if i == 1 else None)
    c.close()
    rc = p.wait()
    print("nbdd exited", rc, flush=True)
    if rc != 0:
        sys.exit(1)
PY
syslog_capture
start_bg inetd /usr/bin/python3 "$T/inetd.py" "$port" 6 "$WITH_DEVLOG" "$BIN/nbdd" -i -v -r "$T/root" -g 60
inetd=$LAST_PID
wait_port tcp "$port"

qemu-io -f raw -c 'write -P 0x33 0 64k' "nbd://127.0.0.1:$port/pi" >"$T/qio" 2>&1 ||
    fail "write through inetd mode: $(cat "$T/qio")"
qemu-io -f raw -r -c 'read -P 0x33 0 64k' "nbd://127.0.0.1:$port/pi" >"$T/qio" 2>&1 ||
    fail "read through inetd mode: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "inetd mode read back wrong data"
nbd-client -l 127.0.0.1 "$port" >"$T/list" 2>&1 || fail "nbd-client -l: $(cat "$T/list")"
grep -qx pi "$T/list" && grep -qx lab "$T/list" || fail "list in inetd mode"
# A shared base in inetd mode: each connection is a process, with an
# overlay of its own that ends with it (no grace period whatever -g
# says, no multi-conn): the next connection from the same host finds the
# base again.
qemu-io -f raw -c 'write -P 0x44 0 64k' -c 'read -P 0x44 0 64k' \
    -c 'read -P 0x99 64k 64k' "nbd://127.0.0.1:$port/lab" >"$T/qio" 2>&1 ||
    fail "write to a shared base in inetd mode: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "inetd mode: overlay reads wrong"
qemu-io -f raw -c 'read -P 0x99 0 64k' "nbd://127.0.0.1:$port/lab" >"$T/qio" 2>&1 ||
    fail "read a shared base in inetd mode: $(cat "$T/qio")"
grep -q 'Pattern verification failed' "$T/qio" && fail "inetd mode: an overlay outlived its connection"
nbdinfo --json "nbd://127.0.0.1:$port/lab" >"$T/info.json" || fail "nbdinfo, inetd mode"
/usr/bin/python3 - "$T/info.json" <<'EOF2' || fail "inetd mode: $(cat "$T/info.json")"
import json, sys
j = json.load(open(sys.argv[1]))["exports"][0]
assert j["is_read_only"] is False and j["can_trim"] is True, j
assert j["can_multi_conn"] is False, "multi-conn offered in inetd mode"
EOF2
[ "$(sha256sum <"$T/root/lab.img")" = "$sum" ] || fail "the base was written"
wait "$inetd" || fail "nbdd in inetd mode did not exit 0: $(cat "$T/inetd.log")"
[ "$(grep -c 'nbdd exited 0' "$T/inetd.log")" = 6 ] || fail "$(cat "$T/inetd.log")"
# The connection whose stderr was the socket logged to syslog instead.
assert_log "$T/syslog" 'nbdd\[[0-9]+\]: 127\.0\.0\.1:[0-9]+: export pi '

# A host outside -A: told why (the main loop answers it, no worker), and
# nbdd exits 0 once it is done.
port=$(free_port tcp)
start_bg inetd-refused /usr/bin/python3 "$T/inetd.py" "$port" 1 "$BIN/nbdd" -i -v -r "$T/root" -A 127.0.0.2
inetd=$LAST_PID
wait_port tcp "$port"
LIBNBD_DEBUG=1 nbdinfo "nbd://127.0.0.1:$port/pi" >"$T/refused" 2>&1 &&
	fail "inetd mode served a host outside -A"
grep -q 'server error message: host 127.0.0.1 is not in the networks this server allows (nbdd -A)' "$T/refused" ||
	fail "inetd mode: the refused host was not told why: $(tail -5 "$T/refused")"
wait "$inetd" || fail "nbdd in inetd mode, refusing: $(cat "$T/inetd-refused.log")"
assert_log "$T/inetd-refused.log" 'NBD connection refused: not in the allowed networks \(127\.0\.0\.2\)'
assert_log "$T/inetd-refused.log" 'nbdd exited 0'
