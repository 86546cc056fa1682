#!/bin/bash
# nbdd data integrity: random writes from several connections at once
# (libnbd via nbdsh), then every byte read back and compared with a model
# and with the file; nbdcopy with multi-conn in both directions. All of it
# in plaintext, then again over TLS (nbdd -x required).
. "$(dirname "$0")/../lib/lib.sh"
. "$TOP/tests/lib/tls.inc"
need nbdsh nbdcopy
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "python3-libnbd not installed"

tls_make "$T/tls"
mkdir "$T/root"
size=$((16 * 1024 * 1024))

cat >"$T/writers.py" <<'PY'
import nbd, os, random, sys, threading
uri, size, model_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
model = bytearray(size)
lock = threading.Lock()
# Each writer owns interleaved 64 KiB stripes, so the model is exact
# whatever order the server applies writes from different connections.
STRIPE, N = 65536, 4
def writer(k):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)
    h.connect_uri(uri)
    assert h.can_multi_conn()
    rnd = random.Random(k)
    for i in range(400):
        stripe = rnd.randrange(size // STRIPE // N) * N + k
        off = stripe * STRIPE + rnd.randrange(STRIPE - 1)
        ln = rnd.randint(1, STRIPE - (off % STRIPE))
        data = os.urandom(ln)
        fl = nbd.CMD_FLAG_FUA if i % 50 == 0 else 0
        if i % 7 == 0:
            h.zero(ln, off)
            data = bytes(ln)
        elif i % 11 == 0:
            h.trim(ln, off)
            data = None
        else:
            h.pwrite(data, off, fl)
        with lock:
            if data is None:
                # TRIM: contents unspecified by the protocol, but nbdd
                # punches a hole, which reads as zeroes.
                model[off:off + ln] = bytes(ln)
            else:
                model[off:off + ln] = data
    h.flush()
    h.shutdown()
ts = [threading.Thread(target=writer, args=(k,)) for k in range(N)]
[t.start() for t in ts]
[t.join() for t in ts]
h = nbd.NBD()
h.set_uri_allow_local_file(True)
h.connect_uri(uri)
got = bytearray()
for off in range(0, size, 1 << 20):
    got += h.pread(1 << 20, off)
h.shutdown()
if got != model:
    bad = next(i for i in range(size) if got[i] != model[i])
    sys.exit("read back differs from the model at byte %d" % bad)
open(model_path, "wb").write(model)
PY
cat >"$T/reads.py" <<'PY'
import nbd, sys
uri, src = sys.argv[1], open(sys.argv[2], "rb").read()
for structured in (False, True):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)
    h.set_request_structured_replies(structured)
    h.connect_uri(uri)
    assert h.get_structured_replies_negotiated() == structured
    for off, ln in ((4096, 4096), (1, 511), (12345, 1 << 20),
                    (len(src) - (8 << 20), 8 << 20), (0, len(src))):
        assert h.pread(ln, off) == src[off:off + ln], (structured, off, ln)
    h2 = nbd.NBD()	# a second connection: large reads take the copy path
    h2.set_uri_allow_local_file(True)
    h2.set_request_structured_replies(structured)
    h2.connect_uri(uri)
    for off, ln in ((777, 3 << 20), (0, 256 << 10)):
        assert h.pread(ln, off) == src[off:off + ln]
        assert h2.pread(ln, off) == src[off:off + ln]
    h2.shutdown()
    h.shutdown()
PY
# Bursts of small reads, many in flight, answered together: every reply
# carries its own bytes. Then the image is cut to half its size under the
# connection: in one burst the reads below the cut get their bytes and
# those past it get EIO, each its own reply, in any mix.
cat >"$T/burst.py" <<'PY'
import errno, nbd, os, random, sys
uri, img, src = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read()
size = len(src)
def burst(h, reqs):
    bufs = [(off, ln, nbd.Buffer(ln)) for off, ln in reqs]
    cookies = [h.aio_pread(b, off) for off, ln, b in bufs]
    while h.aio_in_flight() > 0:
        h.poll(-1)
    out = []
    for (off, ln, b), c in zip(bufs, cookies):
        try:
            h.aio_command_completed(c)
            out.append(b.to_bytearray())
        except nbd.Error as e:
            out.append(e.errno)
    return out
rnd = random.Random(7)
h = nbd.NBD()
h.set_uri_allow_local_file(True)
h.connect_uri(uri)
for _ in range(20):
    reqs = [(rnd.randrange(size - 8192), rnd.choice((4096, 4096, 200, 5000)))
            for _ in range(48)]
    for (off, ln), got in zip(reqs, burst(h, reqs)):
        assert got == src[off:off + ln], (off, ln)
os.truncate(img, size // 2)
reqs = [(rnd.randrange(size // 2 - 4096) + (size // 2 if i % 3 == 0 else 0), 4096)
        for i in range(48)]
for (off, ln), got in zip(reqs, burst(h, reqs)):
    if off + ln <= size // 2:
        assert got == src[off:off + ln], (off, ln)
    else:
        # (libnbd names the errno)
        assert got in (errno.EIO, "EIO"), (off, ln, got)
# The connection goes on.
assert h.pread(4096, 8192) == src[8192:8192 + 4096]
h.shutdown()
os.truncate(img, size)
PY

# checks URI: every check against the export at URI.
checks() {
	local URI=$1
	truncate -s 0 "$T/root/disk.img"
	truncate -s $size "$T/root/disk.img"
	/usr/bin/python3 "$T/writers.py" "$URI" $size "$T/model" || fail "concurrent writers"
	assert_same_file "$T/model" "$T/root/disk.img"

	# nbdcopy with several connections, in and out.
	head -c $size /dev/urandom >"$T/src.img"
	nbdcopy -C 4 "$T/src.img" "$URI" || fail "nbdcopy in"
	assert_same_file "$T/src.img" "$T/root/disk.img"
	nbdcopy -C 4 "$URI" "$T/out.img" || fail "nbdcopy out"
	assert_same_file "$T/src.img" "$T/out.img"
	nbdcopy -C 1 --request-size=4194304 "$URI" "$T/out1.img" || fail "nbdcopy -C 1"
	assert_same_file "$T/src.img" "$T/out1.img"
	# Simple replies (the kernel client's view) and structured ones, small
	# reads (batched) and large ones (sendfile on a lone connection, the
	# copy path beside a second connection), at odd offsets.
	/usr/bin/python3 "$T/reads.py" "$URI" "$T/src.img" || fail "reads of every size"
	/usr/bin/python3 "$T/burst.py" "$URI" "$T/root/disk.img" "$T/src.img" ||
	    fail "bursts of small reads"
}

# Plaintext.
port=$(free_port tcp)
start_bg nbdd "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port"
pid=$LAST_PID
wait_port tcp "$port"
checks "nbd://127.0.0.1:$port/disk"
assert_alive "$pid"
stop_pid "$pid"

# Over TLS: large reads are read into the buffer their records are
# encrypted from, small ones batched, writes decrypted into place.
port=$(free_port tcp)
start_bg nbdd-tls "$BIN/nbdd" -r "$T/root" -l 127.0.0.1 -p "$port" \
	-X "$TLS_SERVER" -y -w admin -v
pid=$LAST_PID
wait_port tcp "$port"
checks "nbds://127.0.0.1:$port/disk?tls-certificates=$TLS_CLIENT/admin"
assert_log "$T/nbdd-tls.log" 'TLS: TLS1.3 .*identity admin'
assert_alive "$pid"
stop_pid "$pid"
