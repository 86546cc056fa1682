#!/usr/bin/python3
"""libnbd clients for nbdd's RBD tests (rbd.sh, rbd-failover.sh),
run in network namespaces of their own.

usage: rbd.py SCENARIO ARGS...   (exit 0 = scenario passed)
"""
import os
import random
import sys
import time

import nbd

BLOCK = 4096
MIB = 1 << 20


def fail(msg):
    print("FAIL:", msg, file=sys.stderr, flush=True)
    os._exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def connect(uri, meta=True):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)    # nbds:// URIs name their keys
    if meta:
        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.connect_uri(uri)
    return h


def wait_for(path, secs=120):
    end = time.monotonic() + secs
    while not os.path.exists(path):
        if time.monotonic() > end:
            fail("%s never appeared" % path)
        time.sleep(0.05)


def allocation(h, off, ln):
    """[(off, len, flags)] of base:allocation over [off, off+ln)."""
    out = []

    def cb(meta, o, entries, err):
        if meta != nbd.CONTEXT_BASE_ALLOCATION:
            return 0
        pos = o
        for i in range(0, len(entries), 2):
            out.append((pos, entries[i], entries[i + 1]))
            pos += entries[i]
        return 0

    pos = off
    while pos < off + ln:
        before = len(out)
        h.block_status(off + ln - pos, pos, cb)
        check(len(out) > before, "BLOCK_STATUS at %d said nothing" % pos)
        pos = out[-1][0] + out[-1][1]
    return out


def sc_ops(uri, model):
    """Every command on an RBD image, each one also applied to the local
    file MODEL (a copy of the image's bytes), which the test then
    compares with `rbd export`."""
    h = connect(uri)
    size = h.get_size()
    check(h.get_structured_replies_negotiated(), "no structured replies")
    check(h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
          "no base:allocation")
    for what in ("flush", "fua", "trim", "zero", "fast_zero", "multi_conn"):
        check(getattr(h, "can_" + what)(), "not offered: " + what)
    check(not h.is_read_only(), "an RBD image offered read-only")
    m = open(model, "r+b")
    rnd = random.Random(26)

    def put(off, data, flags=0):
        h.pwrite(data, off, flags)
        m.seek(off)
        m.write(data)

    # WRITE, WRITE with FUA, FLUSH.
    put(5 * MIB + 123, rnd.randbytes(70000))
    put(20 * MIB, rnd.randbytes(3 * MIB), nbd.CMD_FLAG_FUA)
    h.flush()
    # TRIM of a whole object (4 MiB): the image reads zeros there and
    # BLOCK_STATUS says hole.
    h.trim(4 * MIB, 12 * MIB)
    m.seek(12 * MIB)
    m.write(bytes(4 * MIB))
    # WRITE_ZEROES, plain, without NO_HOLE, and with FAST_ZERO.
    h.zero(100000, 1000)
    m.seek(1000)
    m.write(bytes(100000))
    h.zero(4 * MIB, 40 * MIB, nbd.CMD_FLAG_FAST_ZERO)
    m.seek(40 * MIB)
    m.write(bytes(4 * MIB))
    h.zero(8192, 30 * MIB, nbd.CMD_FLAG_NO_HOLE)
    m.seek(30 * MIB)
    m.write(bytes(8192))
    h.flush()
    m.flush()
    # READ: what the model holds, at odd offsets too.
    for off, ln in ((0, 4 * MIB), (5 * MIB + 100, 70100), (12 * MIB, MIB),
                    (20 * MIB - 5, 3 * MIB + 10), (size - 4096, 4096)):
        m.seek(off)
        check(h.pread(ln, off) == m.read(ln),
              "READ %d+%d differs from what was written" % (off, ln))
    # The trimmed and zeroed objects are holes: BLOCK_STATUS says so.
    for off in (12 * MIB, 40 * MIB):
        for o, ln, fl in allocation(h, off, 4 * MIB):
            check(fl & nbd.STATE_HOLE and fl & nbd.STATE_ZERO,
                  "%d+%d is not a hole after TRIM/WRITE_ZEROES (flags %d)"
                  % (o, ln, fl))
    # A read past the end is the protocol's error, not a crash.
    try:
        h.pread(4096, size)
        fail("READ past the end succeeded")
    except nbd.Error as e:
        check(e.errno is not None, "READ past the end: %s" % e)
    h.shutdown()
    print("ops done", flush=True)


def sc_map(uri, out):
    """The allocated extents (offset length) BLOCK_STATUS reports, merged,
    one per line into OUT."""
    h = connect(uri)
    ext = []
    for o, ln, fl in allocation(h, 0, h.get_size()):
        if fl & nbd.STATE_HOLE:
            continue
        if ext and ext[-1][0] + ext[-1][1] == o:
            ext[-1][1] += ln
        else:
            ext.append([o, ln])
    h.shutdown()
    with open(out, "w") as f:
        for o, ln in ext:
            f.write("%d %d\n" % (o, ln))


def sc_hold(uri, release):
    """Takes the image (a write), says "holding", lets go when RELEASE
    exists."""
    h = connect(uri)
    h.pwrite(b"held" * 1024, 0)
    h.flush()
    print("holding", flush=True)
    wait_for(release)
    h.shutdown()


def sc_refused(uri, want):
    """The connection is refused with an error that holds WANT (libnbd's
    words for the NBD error: the server's own message is in its log)."""
    try:
        h = connect(uri)
    except nbd.Error as e:
        check(want in str(e), "refused, but not for %r: %s" % (want, e))
        print("refused:", e, flush=True)
        return
    h.pread(512, 0)
    fail("served, not refused")


def sc_base(uri, expect_file, off, byte):
    """A host of a shared base: reads the base's bytes, writes its own
    at OFF, reads them back, and still reads the base elsewhere."""
    h = connect(uri)
    check(h.is_read_only() is False, "a shared base is offered read-only")
    with open(expect_file, "rb") as f:
        f.seek(0)
        check(h.pread(MIB, 0) == f.read(MIB), "base's first MiB differs")
        data = bytes([byte]) * 65536
        h.pwrite(data, off)
        h.flush()
        check(h.pread(65536, off) == data, "own write not read back")
        f.seek(off + 65536)
        check(h.pread(65536, off + 65536) == f.read(65536),
              "base bytes beside own write differ")
    h.shutdown()


def sc_load(uri, log, stop, deadline):
    """Writes (with FUA: a reply says Ceph has it) and reads 64 KiB blocks
    in the image's first quarter until STOP exists, each write's pattern
    a counter: the acknowledged ones go to LOG as "off n". Every
    request must end (reply or error) within DEADLINE seconds. Errors are
    counted; the scenario ends after the first error, once STOP
    exists, or at once with "error" in LOG."""
    h = connect(uri, meta=False)
    size = h.get_size()
    n = 0
    errors = 0
    with open(log, "a") as out:
        while not os.path.exists(stop):
            n += 1
            off = (n % (size // 65536 // 4)) * 65536
            data = (b"%016d" % n) * 4096
            t0 = time.monotonic()
            try:
                h.pwrite(data, off, nbd.CMD_FLAG_FUA)
                out.write("%d %d\n" % (off, n))
                out.flush()
                check(h.pread(65536, off) == data, "read back differs")
            except nbd.Error as e:
                dt = time.monotonic() - t0
                check(dt < deadline, "a request took %.1f s" % dt)
                out.write("error %.1f %s\n" % (dt, e))
                out.flush()
                errors += 1
                break
            dt = time.monotonic() - t0
            check(dt < deadline, "a request took %.1f s" % dt)
    print("load: %d requests, %d errors" % (n, errors), flush=True)


def sc_acked(log, image):
    """Every write sc_load logged as acknowledged is in IMAGE (a raw copy
    of the image): each block holds that write's counter or a later
    one's."""
    last = {}
    for line in open(log):
        if line.startswith("error"):
            continue
        off, n = map(int, line.split())
        last[off] = n
    img = open(image, "rb").read()
    for off, n in last.items():
        got = int(img[off:off + 16])
        check(got >= n, "block %d holds write %d, but write %d was "
              "acknowledged" % (off, got, n))


def sc_reader(uri, expect_file, stop):
    """Reads a file image in a loop until STOP exists; every read right."""
    h = connect(uri, meta=False)
    with open(expect_file, "rb") as f:
        want = f.read()
    size = len(want)
    n = 0
    while not os.path.exists(stop):
        off = (n * 65536) % size
        t0 = time.monotonic()
        check(h.pread(65536, off) == want[off:off + 65536],
              "file image read differs")
        check(time.monotonic() - t0 < 5, "a file read took over 5 s")
        n += 1
    h.shutdown()
    print("reader: %d reads" % n, flush=True)


def sc_flushed(uri, off, ln, data_file):
    """Writes DATA_FILE's first LEN bytes at OFF, FLUSHes, says
    "flushed", and keeps the connection until it is killed."""
    h = connect(uri, meta=False)
    with open(data_file, "rb") as f:
        h.pwrite(f.read(ln), off)
    h.flush()
    print("flushed", flush=True)
    time.sleep(3600)


def sc_retry(uri, want, off, expect_file):
    """As nbd-client -persist: connects again every 0.2 s while refused
    (each refusal must hold WANT, as in sc_refused), then reads EXPECT_FILE's bytes at OFF
    and writes and FLUSHes a block of its own at OFF + their length.
    Prints the refusals and the seconds it took."""
    t0 = time.monotonic()
    refusals = 0
    first = ""
    while True:
        try:
            h = connect(uri, meta=False)
            break
        except nbd.Error as e:
            check(want in str(e), "refused, but not for %r: %s" % (want, e))
            refusals += 1
            first = first or str(e)
            check(time.monotonic() - t0 < 120, "still refused after 120 s")
            time.sleep(0.2)
    secs = time.monotonic() - t0
    with open(expect_file, "rb") as f:
        want_bytes = f.read()
    check(h.pread(len(want_bytes), off) == want_bytes,
          "the bytes the first server acknowledged as flushed are not there")
    h.pwrite(b"B" * 4096, off + len(want_bytes))
    h.flush()
    h.shutdown()
    print("refused %d times (%s); served after %.1f s" %
          (refusals, first, secs), flush=True)


SCENARIOS = {
    "flushed": (sc_flushed, 4), "retry": (sc_retry, 4),
    "ops": (sc_ops, 2), "map": (sc_map, 2), "hold": (sc_hold, 2),
    "refused": (sc_refused, 2), "base": (sc_base, 4), "load": (sc_load, 4),
    "acked": (sc_acked, 2), "reader": (sc_reader, 3),
}

if __name__ == "__main__":
    fn, nargs = SCENARIOS[sys.argv[1]]
    args = sys.argv[2:]
    check(len(args) == nargs, "usage: %s" % __doc__)
    conv = []
    for a in args:
        conv.append(int(a) if a.isdigit() else a)
    fn(*conv)
