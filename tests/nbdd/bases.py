#!/usr/bin/python3
"""libnbd clients for nbdd's shared-base tests, one host each (the test
runs them in network namespaces of their own, or binds them to an address
of their own through the URI's host).

usage: bases.py SCENARIO ARGS...   (exit 0 = scenario passed)
"""
import errno
import os
import random
import sys
import threading
import time

import nbd

BLOCK = 4096


def fail(msg):
    print("FAIL:", msg, file=sys.stderr, flush=True)
    os._exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def connect(uri, meta=False, structured=True):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)	# nbds:// URIs name their keys
    if meta:
        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.set_request_structured_replies(structured)
    h.connect_uri(uri)
    return h


def expected(spec, off, ln):
    """BYTE (hex, repeated) or @PATH (those bytes of a file)."""
    if spec.startswith("@"):
        with open(spec[1:], "rb") as f:
            f.seek(off)
            return f.read(ln)
    return bytes([int(spec, 16)]) * ln


def wait_for(path, secs=60):
    t = time.time() + secs
    while not os.path.exists(path):
        check(time.time() < t, "timed out waiting for " + path)
        time.sleep(0.02)


def trim_model(model, off, ln):
    """nbdd's TRIM on an overlay: the blocks it covers whole read as
    zeroes (the short last block counts when covered to the end); the
    partial blocks at its edges keep their bytes (TRIM is advisory)."""
    size = len(model)
    first = (off + BLOCK - 1) // BLOCK
    b = first
    while b * BLOCK < off + ln:
        end = min((b + 1) * BLOCK, size)
        if end <= off + ln:
            model[b * BLOCK:end] = bytes(end - b * BLOCK)
        b += 1


# --- scenarios ------------------------------------------------------------

def sc_model(uri, base, seed, conns, ops, limit, barrier, nhosts, hole=None):
    """One host, several connections at once (multi-conn; one with
    simple replies), random reads,
    writes (partial blocks too, some FUA), trims, zeroes, caches and
    flushes over the merged view, each checked against a model that
    starts as the base; then, once every host of the test has done its
    writes (barrier), every byte read back and compared with this host's
    model: another host's writes must never show. BLOCK_STATUS must call
    zero only what is zero, and the base's hole (OFF:LEN) a hole."""
    seed, conns, ops, limit = int(seed), int(conns), int(ops), int(limit)
    model = bytearray(open(base, "rb").read())
    size = len(model)
    stripe, lock = 65536, threading.Lock()
    # The second connection takes simple replies, as the kernel does.
    hs = [connect(uri, meta=True, structured=k != 1) for k in range(conns)]
    for h in hs:
        check(h.get_size() == size, "size %d, base %d" % (h.get_size(), size))
        check(not h.is_read_only(), "shared base read-only")
        check(h.can_trim() and h.can_zero() and h.can_fast_zero(),
              "shared base lacks TRIM or WRITE_ZEROES")
        check(h.can_multi_conn(), "no multi-conn on a shared base")
    errors = []

    def worker(k):
        try:
            h, rnd = hs[k], random.Random(seed * 100 + k)
            mine = [s for s in range(limit // stripe) if s % conns == k]
            for i in range(ops):
                s = rnd.choice(mine)
                off = s * stripe + rnd.randrange(stripe - 1)
                ln = rnd.randint(1, s * stripe + stripe - off)
                what = rnd.randrange(10)
                if what < 4:
                    data = rnd.randbytes(ln)
                    h.pwrite(data, off, nbd.CMD_FLAG_FUA if i % 9 == 0 else 0)
                    with lock:
                        model[off:off + ln] = data
                elif what == 4:
                    h.zero(ln, off, nbd.CMD_FLAG_NO_HOLE if i % 2 else 0)
                    with lock:
                        model[off:off + ln] = bytes(ln)
                elif what == 5:
                    h.trim(ln, off)
                    with lock:
                        trim_model(model, off, ln)
                elif what == 6:
                    h.cache(ln, off)
                elif what == 7:
                    h.flush()
                else:
                    got = h.pread(ln, off)
                    with lock:
                        want = bytes(model[off:off + ln])
                    check(got == want, "host %d conn %d: read %d+%d differs"
                          % (seed, k, off, ln))
        except Exception as e:  # noqa: BLE001 - reported, then failed
            errors.append("conn %d: %r" % (k, e))

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    check(not errors, "; ".join(errors))
    open(os.path.join(barrier, str(seed)), "w").close()
    t = time.time() + 120
    while len(os.listdir(barrier)) < int(nhosts):
        check(time.time() < t, "barrier: not every host finished")
        time.sleep(0.05)
    h = hs[0]
    got = bytearray()
    for off in range(0, size, 1 << 20):
        got += h.pread(min(1 << 20, size - off), off)
    if got != model:
        bad = next(i for i in range(size) if got[i] != model[i])
        fail("host %d: byte %d reads %#x, its model %#x (base %#x)" % (
            seed, bad, got[bad], model[bad],
            open(base, "rb").read()[bad]))
    # The merged view's block status: nothing called zero that is not.
    ext = []

    def cb(meta, off, entries, err):
        ext.extend(zip(entries[0::2], entries[1::2], ))
        return 0
    pos = 0
    while pos < size:
        n = len(ext)
        h.block_status(min(size - pos, 1 << 30), pos, cb)
        pos += sum(ln for ln, _ in ext[n:])
    pos = 0
    for ln, fl in ext:
        if fl & (nbd.STATE_ZERO | nbd.STATE_HOLE):
            check(model[pos:pos + ln] == bytes(ln),
                  "host %d: %d+%d reported zero (%d), holds data" % (
                      seed, pos, ln, fl))
        pos += ln
    if hole:
        hoff, hlen = map(int, hole.split(":"))
        pos = 0
        for ln, fl in ext:
            if pos < hoff + hlen and hoff < pos + ln:
                check(fl & nbd.STATE_HOLE,
                      "the base's hole at %d shows as data" % pos)
            pos += ln
    for h in hs:
        h.shutdown()
    print("host", seed, "ok", flush=True)


def sc_write(uri, off, ln, byte, disc="disc"):
    """WRITE a pattern; then NBD_CMD_DISC, or just close (as a Pi that
    loses power or its network would)."""
    h = connect(uri)
    h.pwrite(expected(byte, 0, int(ln)), int(off))
    if disc == "disc":
        h.shutdown()
    del h


def sc_read(uri, off, ln, spec, size="", disc="disc"):
    """READ and compare with BYTE or @PATH; SIZE: the disk's size too.
    Then NBD_CMD_DISC, or just close."""
    h = connect(uri)
    if size:
        check(h.get_size() == int(size), "size %d, want %s" % (h.get_size(), size))
    got = h.pread(int(ln), int(off))
    check(got == expected(spec, int(off), int(ln)),
          "%s+%s does not read as %s" % (off, ln, spec))
    if disc == "disc":
        h.shutdown()
    del h


def sc_hold(uri, until, off=None, ln=None, spec=None):
    """Connects (one connection that keeps the host's overlay), prints
    "holding", optionally checks a read; once the file until exists,
    checks the read again on the same connection and closes without
    DISC."""
    h = connect(uri)
    if off is not None:
        check(h.pread(int(ln), int(off)) == expected(spec, int(off), int(ln)),
              "held connection reads wrong before")
    print("holding", flush=True)
    wait_for(until)
    if off is not None:
        check(h.pread(int(ln), int(off)) == expected(spec, int(off), int(ln)),
              "held connection reads wrong after")
    del h


def sc_truncated(uri, base, until):
    """The base shrinks to half under a connected host: what the host
    wrote still reads, what the base still has reads as before, and what
    is past the base's new end fails with EIO (or, for a read large
    enough to go out with sendfile, the connection drops): never other
    bytes."""
    h = connect(uri)
    size = h.get_size()
    orig = open(base, "rb").read()
    h.pwrite(b"\x5c" * BLOCK, 0)
    check(h.pread(BLOCK, size // 4) == orig[size // 4:size // 4 + BLOCK],
          "base read before the cut")
    print("holding", flush=True)
    wait_for(until)
    check(h.pread(BLOCK, 0) == b"\x5c" * BLOCK, "own write after the cut")
    check(h.pread(BLOCK, size // 4) == orig[size // 4:size // 4 + BLOCK],
          "base bytes before the cut changed")
    past = size - 4 * BLOCK
    # A partial write there must first copy its block from the base.
    for what, op in (("partial write", lambda: h.pwrite(b"\x11" * 512, past + 100)),
                     ("small read", lambda: h.pread(BLOCK, past))):
        try:
            got = op()
            fail("%s past the cut answered %r" % (what, got))
        except nbd.Error as e:
            check(e.errnum == errno.EIO, "%s past the cut: %s" % (what, e))
    try:
        got = h.pread(256 * 1024, size // 2)
        fail("large read past the cut answered %r" % got[:16])
    except nbd.Error as e:
        print("large read past the cut:", e, flush=True)
    print("truncated ok", flush=True)


def sc_runs(uri, base):
    """Large reads over ranges that mix the overlay's blocks with the
    base's, in few long runs and in many short ones, and reads all from
    one of them, against the base with the writes laid over it."""
    with open(base, "rb") as f:
        model = bytearray(f.read(4 << 20))
    h = connect(uri)
    writes = [(0, 192 << 10, 0x11), (512 << 10, 128 << 10, 0x22),
              ((1 << 20) - BLOCK, 2 * BLOCK, 0x33)]
    writes += [((2 << 20) + i * 16384, BLOCK, 0x44) for i in range(64)]
    writes += [((3 << 20) + 5, 70000, 0x55)]	# partial edge blocks
    for off, ln, byte in writes:
        h.pwrite(bytes([byte]) * ln, off)
        model[off:off + ln] = bytes([byte]) * ln
    for off, ln in [(0, 1 << 20), (0, 4 << 20), (256 << 10, 1 << 20),
                    ((1 << 20) - 65536, 131072), (2 << 20, 1 << 20),
                    ((3 << 20) - 4096, 1 << 20), (5, (2 << 20) - 9),
                    # all from the overlay, all from the base
                    (0, 192 << 10), (512 << 10, 128 << 10),
                    ((1 << 20) + BLOCK, 512 << 10)]:
        check(h.pread(ln, off) == bytes(model[off:off + ln]),
              "read of %d at %d over mixed runs" % (ln, off))
    h.shutdown()
    print("runs ok", flush=True)


def main():
    globals()["sc_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])


if __name__ == "__main__":
    main()
