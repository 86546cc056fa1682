#!/usr/bin/python3
"""A raw NBD client for nbdd's integration tests: speaks the protocol byte
by byte so the tests can send what no well-behaved client sends.

usage: raw.py PORT SCENARIO [ARGS...]   (exit 0 = scenario passed)
"""
import os
import socket
import ssl
import struct
import sys
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPMAGIC = 0x3E889045565A9
REQMAGIC = 0x25609513
SIMPLE = 0x67446698
STRUCT = 0x668E33EF
OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_STARTTLS, OPT_INFO, OPT_GO = \
    1, 2, 3, 5, 6, 7
OPT_SR, OPT_LIST_META, OPT_SET_META = 8, 9, 10
REP_ACK, REP_SERVER, REP_INFO, REP_META = 1, 2, 3, 4
ERR = 1 << 31
REP_ERR_UNSUP, REP_ERR_POLICY, REP_ERR_INVALID = ERR | 1, ERR | 2, ERR | 3
REP_ERR_UNKNOWN, REP_ERR_TOO_BIG = ERR | 6, ERR | 9
REP_ERR_TLS_REQD = ERR | 5
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM = 0, 1, 2, 3, 4
CMD_CACHE, CMD_WZ, CMD_BS = 5, 6, 7
EPERM, EINVAL, ENOSPC = 1, 22, 28
FLAG_READ_ONLY = 1 << 1


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class TLS:
    """A TLS client session over a connected socket, with the records in
    our hands (ssl.MemoryBIO): it can send a record cut short, which
    SSLSocket cannot. Has the socket calls Client uses."""

    def __init__(self, sock, certdir, hostname="localhost"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(certdir, "ca-cert.pem"))
        cert = os.path.join(certdir, "client-cert.pem")
        if os.path.exists(cert):
            ctx.load_cert_chain(cert, os.path.join(certdir, "client-key.pem"))
        self.raw = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname=hostname)

    def _flush(self):
        d = self.out.read()
        if d:
            self.raw.sendall(d)

    def _fill(self):
        d = self.raw.recv(65536)
        if d:
            self.inc.write(d)
        else:
            self.inc.write_eof()

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()

    def records(self, data):
        """data as the TLS records that carry it, not sent."""
        self.obj.write(data)
        return self.out.read()

    def sendall(self, data):
        self.raw.sendall(self.records(data))

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def settimeout(self, t):
        self.raw.settimeout(t)

    def close(self):
        self.raw.close()


class Client:
    def __init__(self, port, src=None,
                 host=os.environ.get("NBD_HOST", "127.0.0.1")):
        self.s = socket.socket(socket.AF_INET6 if ":" in host else
                               socket.AF_INET, socket.SOCK_STREAM)
        src = src or os.environ.get("NBD_SRC")
        if src:
            self.s.bind((src, 0))
        self.s.settimeout(20)
        self.s.connect((host, port))
        self.handle = 0

    def recv(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("server closed after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def closed(self, wait=5):
        """True when the server has closed the connection."""
        self.s.settimeout(wait)
        try:
            while True:
                c = self.s.recv(65536)
                if not c:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def greet(self, cflags=3):
        magic, opt, hflags = struct.unpack(">QQH", self.recv(18))
        check(magic == NBDMAGIC and opt == IHAVEOPT, "bad greeting")
        check(hflags & 1, "no FIXED_NEWSTYLE")
        self.s.sendall(struct.pack(">I", cflags))
        return hflags

    def opt(self, o, payload=b""):
        self.s.sendall(struct.pack(">QII", IHAVEOPT, o, len(payload)) + payload)

    def reply(self):
        magic, o, typ, ln = struct.unpack(">QIII", self.recv(20))
        check(magic == REPMAGIC, "bad option reply magic %#x" % magic)
        return o, typ, self.recv(ln)

    def go(self, name, o=OPT_GO, reqs=()):
        n = name if isinstance(name, bytes) else name.encode()
        self.opt(o, struct.pack(">I", len(n)) + n + struct.pack(">H", len(reqs))
                 + b"".join(struct.pack(">H", r) for r in reqs))
        infos = {}
        while True:
            _, typ, data = self.reply()
            if typ == REP_INFO:
                infos[struct.unpack(">H", data[:2])[0]] = data[2:]
            elif typ == REP_ACK:
                size, flags = struct.unpack(">QH", infos[0])
                return size, flags, infos
            else:
                return typ, data.decode(errors="replace"), infos

    def starttls(self, certdir):
        """STARTTLS, acknowledged, then the TLS handshake."""
        self.opt(OPT_STARTTLS)
        o, typ, _ = self.reply()
        check(o == OPT_STARTTLS and typ == REP_ACK,
              "STARTTLS not acknowledged: %#x" % typ)
        self.s = TLS(self.s, certdir)
        self.s.handshake()

    def structured(self):
        self.opt(OPT_SR)
        _, typ, _ = self.reply()
        check(typ == REP_ACK, "STRUCTURED_REPLY not acked")

    def req(self, typ, off, ln, flags=0, payload=b""):
        self.handle += 1
        self.s.sendall(struct.pack(">IHHQQI", REQMAGIC, flags, typ,
                                   self.handle, off, ln) + payload)
        return self.handle

    def simple(self, want_data=0):
        magic, err, h = struct.unpack(">IIQ", self.recv(16))
        check(magic == SIMPLE, "bad reply magic %#x" % magic)
        data = self.recv(want_data) if err == 0 and want_data else b""
        return err, h, data


def ready(port, name, src=None, certdir=None):
    c = Client(port, src)
    c.greet()
    if certdir:
        c.starttls(certdir)
    size, flags, _ = c.go(name)
    check(isinstance(flags, int), "GO %s refused: %s" % (name, flags))
    return c, size, flags


# --- scenarios ------------------------------------------------------------

def sc_options(port, name):
    """Unknown options, oversized options and bad names get errors and the
    haggling goes on; then GO works on the same connection."""
    c = Client(port)
    c.greet()
    c.opt(0x7777, b"xyz")
    o, typ, msg = c.reply()
    check(o == 0x7777 and typ == REP_ERR_UNSUP, "unknown option: %#x" % typ)
    # Longer than any real option: refused without being buffered.
    c.opt(OPT_GO, b"\0" * 100000)
    _, typ, msg = c.reply()
    check(typ == REP_ERR_TOO_BIG, "oversized option: %#x" % typ)
    for bad in (b"../" + name.encode(), b"a/b", b"..", b".hidden",
                b"x\0y", b"pi\n4", b"\x1b[2J", b"/etc/passwd"):
        typ, msg, _ = c.go(bad)
        # A NUL makes the string itself malformed (proto.md: strings
        # hold no NUL), hence INVALID for that one.
        check(typ in (REP_ERR_POLICY, REP_ERR_UNKNOWN, REP_ERR_INVALID),
              "bad name %r: %r" % (bad, typ))
        check(typ != REP_ERR_INVALID or b"\0" in bad, "bad name %r: INVALID" % bad)
    typ, msg, _ = c.go("no-such-export")
    check(typ == REP_ERR_UNKNOWN, "missing export: %r" % typ)
    typ, msg, _ = c.go("")
    check(typ == REP_ERR_UNKNOWN, "default export: %r" % typ)
    # Malformed GO: name length past the payload.
    c.opt(OPT_GO, struct.pack(">I", 1000) + b"abc\0\0")
    _, typ, _ = c.reply()
    check(typ == REP_ERR_INVALID, "malformed GO: %#x" % typ)
    c.opt(OPT_LIST, b"junk")
    _, typ, _ = c.reply()
    check(typ == REP_ERR_INVALID, "LIST with data: %#x" % typ)
    # SET_META_CONTEXT before structured replies is refused.
    n = name.encode()
    meta = struct.pack(">I", len(n)) + n + struct.pack(">II", 1, 15) + b"base:allocation"
    c.opt(OPT_SET_META, meta)
    _, typ, _ = c.reply()
    check(typ == REP_ERR_INVALID, "SET_META without SR: %#x" % typ)
    c.structured()
    c.opt(OPT_SET_META, meta)
    _, typ, data = c.reply()
    check(typ == REP_META and data[4:] == b"base:allocation", "SET_META")
    _, typ, _ = c.reply()
    check(typ == REP_ACK, "SET_META ack")
    size, flags, infos = c.go(name, reqs=(1, 2, 3))
    check(isinstance(flags, int), "GO after errors failed: %r" % (flags,))
    check(infos.get(1) == n, "INFO_NAME")
    check(len(infos.get(3, b"")) == 12, "INFO_BLOCK_SIZE")
    mn, pref, mx = struct.unpack(">III", infos[3])
    check(mx == 32 << 20, "max block %d" % mx)
    # BLOCK_STATUS works with structured replies.
    c.req(CMD_BS, 0, 4096)
    magic, fl, typ, h, ln = struct.unpack(">IHHQI", c.recv(20))
    check(magic == STRUCT and typ == 5, "block status chunk type %d" % typ)
    c.recv(ln)
    # READ with DF: one OFFSET_DATA chunk, marked DONE.
    c.req(CMD_READ, 512, 4096, 4)
    magic, fl, typ, h, ln = struct.unpack(">IHHQI", c.recv(20))
    check(magic == STRUCT and typ == 1 and fl == 1 and ln == 8 + 4096,
          "DF read chunk: type %d flags %d length %d" % (typ, fl, ln))
    check(struct.unpack(">Q", c.recv(8))[0] == 512, "DF read offset")
    c.recv(4096)
    # An error on a READ is a structured error chunk once negotiated.
    c.req(CMD_READ, size, 512)
    magic, fl, typ, h, ln = struct.unpack(">IHHQI", c.recv(20))
    check(magic == STRUCT and typ == (1 << 15) + 1 and fl == 1,
          "READ error chunk type %#x" % typ)
    err, mlen = struct.unpack(">IH", c.recv(6))
    check(err == EINVAL and ln == 6 + mlen, "error chunk %d/%d" % (err, mlen))
    c.recv(mlen)
    c.req(CMD_DISC, 0, 0)
    check(c.closed(), "DISC did not close")


def sc_huge_option(port):
    """An option claiming 4 GiB is never allocated: the client is dropped."""
    c = Client(port)
    c.greet()
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 0xFFFFFFFF) + b"x" * 100)
    check(c.closed(), "server kept a client announcing a 4 GiB option")


def sc_requests(port, name):
    """Bad requests get errors; the connection stays usable."""
    c, size, flags = ready(port, name)
    check(not flags & FLAG_READ_ONLY, "writable export advertised read-only")
    cases = [
        ("past end", CMD_READ, size - 512, 1024, 0, EINVAL),
        ("offset past end", CMD_READ, size + 4096, 512, 0, EINVAL),
        ("wrapping", CMD_READ, 2**64 - 512, 1024, 0, EINVAL),
        ("zero length read", CMD_READ, 0, 0, 0, EINVAL),
        ("zero length trim", CMD_TRIM, 0, 0, 0, EINVAL),
        ("over 32 MiB", CMD_READ, 0, (32 << 20) + 1, 0, EINVAL),
        ("unknown command", 42, 0, 512, 0, EINVAL),
        ("unknown flag", CMD_READ, 0, 512, 0x40, EINVAL),
        ("DF without SR", CMD_READ, 0, 512, 4, EINVAL),
        ("block status without meta", CMD_BS, 0, 512, 0, EINVAL),
        ("flush with range", CMD_FLUSH, 0, 512, 0, EINVAL),
    ]
    for what, typ, off, ln, fl, want in cases:
        h = c.req(typ, off, ln, fl)
        err, rh, _ = c.simple()
        check(rh == h, "%s: handle %d != %d" % (what, rh, h))
        check(err == want, "%s: error %d, want %d" % (what, err, want))
    # A write past the end: ENOSPC, its payload skipped.
    c.req(CMD_WRITE, size, 512, 0, b"\xee" * 512)
    err, _, _ = c.simple()
    check(err == ENOSPC, "write past end: %d" % err)
    # A refused write as large as the maximum payload: ENOSPC, and its
    # 32 MiB are thrown away in step without the server allocating them.
    big = 32 << 20
    c.req(CMD_WRITE, size, big, 0, b"\xdd" * big)
    err, _, _ = c.simple()
    check(err == ENOSPC, "refused 32 MiB write: %d" % err)
    # Still in step: a good write and read back.
    c.req(CMD_WRITE, 8192, 4096, 1, b"\x5a" * 4096)   # with FUA
    err, _, _ = c.simple()
    check(err == 0, "write: %d" % err)
    c.req(CMD_FLUSH, 0, 0)
    check(c.simple()[0] == 0, "flush")
    c.req(CMD_READ, 8192, 4096)
    err, _, data = c.simple(4096)
    check(err == 0 and data == b"\x5a" * 4096, "read back")
    c.req(CMD_CACHE, 0, 65536)
    check(c.simple()[0] == 0, "cache")
    c.req(CMD_WZ, 0, 4096, 1 << 1)   # NO_HOLE
    check(c.simple()[0] == 0, "write zeroes")
    c.req(CMD_DISC, 0, 0)
    check(c.closed(), "DISC")
    # Writes claiming more than the maximum payload, up to 4 GiB: the
    # server reads none of it and hangs up at once, with or without a
    # reason to refuse the write otherwise.
    for off, ln in ((0, (32 << 20) + 1), (0, 0xffffffff), (size, 0xffffffff)):
        c, _, _ = ready(port, name)
        c.req(CMD_WRITE, off, ln, 0, b"\xdd" * 65536)
        check(c.closed(5), "write of %d bytes: not dropped" % ln)


def sc_shared_base(port, name, src=None, multi_conn="1"):
    """An image nbdd may not write: a writable disk all the same (the
    host's overlay), TRIM, WRITE_ZEROES and FAST_ZERO offered; what the
    host writes, trims and zeroes reads back so."""
    c, size, flags = ready(port, name, src)
    check(not flags & FLAG_READ_ONLY, "shared base advertised read-only")
    for bit, what in ((1 << 5, "TRIM"), (1 << 6, "WRITE_ZEROES"),
                      (1 << 11, "FAST_ZERO")):
        check(flags & bit, "shared base does not offer " + what)
    check(bool(flags & (1 << 8)) == (multi_conn == "1"),
          "shared base: multi-conn %s" % bool(flags & (1 << 8)))
    c.req(CMD_WRITE, 1000, 5000, 0, b"\xa5" * 5000)
    check(c.simple()[0] == 0, "write to a shared base")
    c.req(CMD_READ, 0, 8192)
    err, _, data = c.simple(8192)
    check(err == 0, "read from a shared base: %d" % err)
    check(data[1000:6000] == b"\xa5" * 5000, "the write did not read back")
    c.req(CMD_TRIM, 8192, 8192)
    check(c.simple()[0] == 0, "trim on a shared base")
    c.req(CMD_WZ, 16384, 4096)
    check(c.simple()[0] == 0, "write zeroes on a shared base")
    c.req(CMD_READ, 8192, 12288)
    err, _, data = c.simple(12288)
    check(err == 0 and data == bytes(12288), "trimmed and zeroed: not zero")
    c.req(CMD_FLUSH, 0, 0)
    check(c.simple()[0] == 0, "flush on a shared base")
    c.req(CMD_DISC, 0, 0)
    check(c.closed(), "DISC")


def sc_stall_write(port, name, timeout):
    """Half a WRITE then silence: dropped after the timeout, nothing
    written."""
    c, size, flags = ready(port, name)
    c.s.sendall(struct.pack(">IHHQQI", REQMAGIC, 0, CMD_WRITE, 1, 0, 65536)
                + b"\xab" * 30000)
    t = time.time()
    check(c.closed(wait=float(timeout) + 10), "stalled client not dropped")
    el = time.time() - t
    check(el >= float(timeout) - 1, "dropped too early (%.1fs)" % el)


def sc_cut_write(port, name):
    """Half a WRITE then close: nothing written."""
    c, size, flags = ready(port, name)
    c.s.sendall(struct.pack(">IHHQQI", REQMAGIC, 0, CMD_WRITE, 1, 0, 65536)
                + b"\xab" * 30000)
    c.s.close()
    time.sleep(0.5)


def sc_stall_handshake(port, timeout):
    c = Client(port)
    c.greet()
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 20) + b"abc")
    t = time.time()
    check(c.closed(wait=float(timeout) + 10), "stalled handshake not dropped")
    check(time.time() - t >= float(timeout) - 1, "dropped too early")


def sc_oldstyle(port, timeout):
    """An oldstyle client sends nothing after the greeting."""
    c = Client(port)
    c.recv(18)
    check(c.closed(wait=float(timeout) + 10), "silent client not dropped")


def sc_bad_flags(port):
    c = Client(port)
    c.greet(cflags=0x80)
    check(c.closed(), "unknown client flags accepted")


def sc_go_from(port, name, src, expect):
    """GO from source address src: expect 'ok', 'ok:PATH' (then hold the
    connection until PATH exists), 'refused:TEXT' (NBD_REP_ERR_POLICY) or
    'unavailable:TEXT' (NBD_REP_ERR_UNKNOWN)."""
    c = Client(port, src)
    c.greet()
    size, flags, _ = c.go(name)
    if expect.startswith("ok"):
        check(isinstance(flags, int), "GO from %s refused: %s" % (src, flags))
        print("holding", flush=True)
        until = expect[3:]
        while until and not os.path.exists(until):
            time.sleep(0.05)
        c.req(CMD_DISC, 0, 0)
        return
    check(not isinstance(flags, int), "GO from %s was allowed" % src)
    want_type = REP_ERR_UNKNOWN if expect.startswith("unavailable") else REP_ERR_POLICY
    check(size == want_type, "refusal type %#x" % size)
    want = expect.split(":", 1)[1]
    check(want in flags, "refusal message %r lacks %r" % (flags, want))
    print("refused:", flags)


def sc_write_from(port, name, src, off, ln, byte, end="nodisc",
                  expect="ok"):
    """From source address src: WRITE ln bytes of BYTE (hex) at off, in
    writes of at most 1 MiB, expecting every one to succeed ('ok'), or
    some to fail with ENOSPC ('enospc'), or either ('any'); prints how
    many bytes were written. Then DISC, or just close ('nodisc'), as a Pi
    whose network drops."""
    c, size, flags = ready(port, name, src)
    b = bytes([int(byte, 16)])
    done, pos, end_at = 0, int(off), int(off) + int(ln)
    while pos < end_at:
        n = min(1 << 20, end_at - pos)
        c.req(CMD_WRITE, pos, n, 0, b * n)
        err = c.simple()[0]
        if err == 0:
            done += n
        else:
            check(err == ENOSPC and expect != "ok",
                  "write at %d from %s: error %d" % (pos, src, err))
        pos += n
    check(expect != "enospc" or done < int(ln),
          "from %s: %s bytes written, no ENOSPC" % (src, ln))
    print("written", done, flush=True)
    if end == "disc":
        c.req(CMD_DISC, 0, 0)
    c.s.close()


def sc_read_from(port, name, src, off, ln, byte, end="disc"):
    """From source address src: READ ln bytes at off, which must all be
    BYTE (hex); then DISC, or just close."""
    c, size, flags = ready(port, name, src)
    c.req(CMD_READ, int(off), int(ln))
    err, _, data = c.simple(int(ln))
    check(err == 0, "read from %s: error %d" % (src, err))
    check(data == bytes([int(byte, 16)]) * int(ln),
          "from %s: %s+%s does not read as %s" % (src, off, ln, byte))
    if end == "disc":
        c.req(CMD_DISC, 0, 0)
    c.s.close()


def sc_hold(port, name, n, until=""):
    """Opens n connections, completes the handshake on each, holds them
    until the file until exists."""
    cs = [ready(port, name)[0] for _ in range(int(n))]
    print("holding", len(cs), flush=True)
    while until and not os.path.exists(until):
        time.sleep(0.05)
    for c in cs:
        c.req(CMD_DISC, 0, 0)


def sc_expect_refused(port, src=None):
    """A connection beyond -m or -c: closed straight away."""
    c = Client(port, src)
    try:
        c.recv(18)
    except (EOFError, ConnectionResetError):
        return
    check(c.closed(), "connection beyond the limit was served")


def sc_write_flood(port, hosts, per_host, mib, done_path):
    """From each of the source addresses in hosts (comma-separated), opens
    per_host connections to the export named after the address's last
    number ("w3" for 127.0.0.3), one after the other. Then every one sends
    a WRITE of mib MiB at offset 0, its payload filled with that number,
    all at once: all but the last 64 KiB of each, then, once every one got
    that far (or 10 s passed: a server may not read them all at once), the
    rest. Each WRITE must be answered with success; the file done_path is
    made when all are."""
    import threading
    conns = []
    for src in hosts.split(","):
        tag = int(src.rsplit(".", 1)[1])
        for _ in range(int(per_host)):
            c, size, _ = ready(port, "w%d" % tag, src)
            c.s.settimeout(300)
            conns.append((c, tag))
    print("connected", len(conns), flush=True)
    ln = int(mib) << 20
    cut = ln - 65536
    payloads = {tag: memoryview(bytes([tag]) * ln) for _, tag in conns}
    most = threading.Barrier(len(conns), timeout=10)
    errors = []

    def write(c, tag):
        try:
            c.s.sendall(struct.pack(">IHHQQI", REQMAGIC, 0, CMD_WRITE, 1, 0,
                                    ln))
            c.s.sendall(payloads[tag][:cut])
            try:
                most.wait()
            except threading.BrokenBarrierError:
                pass
            c.s.sendall(payloads[tag][cut:])
            err, _, _ = c.simple()
            if err != 0:
                errors.append("WRITE from %d: error %d" % (tag, err))
            c.req(CMD_DISC, 0, 0)
        except Exception as e:
            errors.append("WRITE from %d: %r" % (tag, e))
    threads = [threading.Thread(target=write, args=ct) for ct in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "; ".join(errors[:5]))
    open(done_path, "w").close()
    print("written", len(conns), flush=True)


def sc_small_requests(port, name, src, until, timeout):
    """From src, small READs and WRITEs, one at a time, each answered
    within timeout seconds, until the file until exists (and at least
    ten); prints how many."""
    c, size, _ = ready(port, name, src)
    c.s.settimeout(float(timeout))
    n = 0
    while n < 10 or not os.path.exists(until):
        data = bytes([n % 251]) * 4096
        c.req(CMD_WRITE, 4096 * (n % 16), 4096, 0, data)
        err, _, _ = c.simple()
        check(err == 0, "small WRITE %d: error %d" % (n, err))
        c.req(CMD_READ, 4096 * (n % 16), 4096)
        err, _, got = c.simple(4096)
        check(err == 0 and got == data, "small READ %d" % n)
        n += 1
        time.sleep(0.05)
    c.req(CMD_DISC, 0, 0)
    print("answered", n, flush=True)


def sc_hold_sockets(port, src, n, how, until):
    """Opens n connections from src that never finish the handshake: each
    connects and then 'silent' sends nothing, 'flags' sends its flags,
    'starttls' its flags and STARTTLS (and reads the ACK) and then no
    ClientHello. Prints how many the server took in (sent the greeting,
    and the ACK for 'starttls') and how many it closed at once; holds
    the rest until the file until exists, then prints how many of those
    the server had closed meanwhile."""
    held, refused = [], 0
    for _ in range(int(n)):
        try:
            c = Client(port, src)
            c.s.settimeout(5)
            c.recv(18)
            if how in ("flags", "starttls"):
                c.s.sendall(struct.pack(">I", 3))
            if how == "starttls":
                c.opt(OPT_STARTTLS)
                _, typ, _ = c.reply()
                check(typ == REP_ACK, "STARTTLS: %#x" % typ)
            held.append(c)
        except (EOFError, ConnectionResetError, BrokenPipeError):
            refused += 1
    print("admitted %d refused %d" % (len(held), refused), flush=True)
    while not os.path.exists(until):
        time.sleep(0.05)
    closed = sum(1 for c in held if c.closed(0.2))
    print("closed %d" % closed, flush=True)


def sc_tls_serve_until(port, certdir, name, src, until):
    """GO over TLS from src, then a READ every 50 ms, each answered, until
    the file until exists; prints how many."""
    c, size, _ = ready(port, name, src or None, certdir)
    c.s.settimeout(30)
    print("holding", flush=True)
    n = 0
    while n < 3 or not os.path.exists(until):
        c.req(CMD_READ, 4096 * (n % 64), 4096)
        err, _, _ = c.simple(4096)
        check(err == 0, "READ %d: error %d" % (n, err))
        n += 1
        time.sleep(0.05)
    c.req(CMD_DISC, 0, 0)
    print("answered", n, flush=True)


def sc_list(port, *names):
    c = Client(port)
    c.greet()
    c.opt(OPT_LIST)
    got = set()
    while True:
        _, typ, data = c.reply()
        if typ == REP_ACK:
            break
        check(typ == REP_SERVER, "LIST reply %#x" % typ)
        ln = struct.unpack(">I", data[:4])[0]
        got.add(data[4:4 + ln].decode())
    check(got == set(names), "LIST gave %s, want %s" % (sorted(got), sorted(names)))
    c.opt(OPT_ABORT)


# --- TLS (nbdd -x required or allowed) -------------------------------------

def listing(c):
    c.opt(OPT_LIST)
    got = set()
    while True:
        _, typ, data = c.reply()
        if typ != REP_SERVER:
            return typ, got
        ln = struct.unpack(">I", data[:4])[0]
        got.add(data[4:4 + ln].decode())


def sc_tls_required(port, certdir, name, *listed):
    """Before TLS only STARTTLS and ABORT are answered (TLS_REQD for the
    rest, LIST shows nothing); after it everything is, STARTTLS once."""
    c = Client(port)
    c.greet()
    typ, got = listing(c)
    check(typ == REP_ERR_TLS_REQD and not got, "LIST before TLS: %#x %s" % (typ, got))
    for o, payload in ((OPT_SR, b""), (0x7777, b"xyz"), (OPT_GO, b"\0" * 100000)):
        c.opt(o, payload)
        _, typ, msg = c.reply()
        check(typ == REP_ERR_TLS_REQD, "option %d before TLS: %#x" % (o, typ))
        check(b"STARTTLS" in msg, "TLS_REQD message %r" % msg)
    for o in (OPT_GO, OPT_INFO):
        typ, msg, _ = c.go(name, o)
        check(typ == REP_ERR_TLS_REQD, "%d before TLS: %r" % (o, typ))
    c.opt(OPT_STARTTLS, b"x")
    _, typ, _ = c.reply()
    check(typ == REP_ERR_INVALID, "STARTTLS with data: %#x" % typ)
    c.starttls(certdir)
    c.opt(OPT_STARTTLS)
    _, typ, msg = c.reply()
    check(typ == REP_ERR_INVALID, "a second STARTTLS: %#x %r" % (typ, msg))
    typ, got = listing(c)
    check(typ == REP_ACK and got == set(listed),
          "LIST over TLS gave %s, want %s" % (sorted(got), sorted(listed)))
    c.opt(0x7777, b"xyz")
    _, typ, _ = c.reply()
    check(typ == REP_ERR_UNSUP, "unknown option over TLS: %#x" % typ)
    size, flags, _ = c.go(name)
    check(isinstance(flags, int), "GO %s over TLS: %r" % (name, flags))
    # Reads of every path: batched, copied, and from the record buffer.
    for off, ln in ((0, 4096), (1, 511), (4096, 60000), (12345, 1 << 20),
                    (size - (4 << 20), 4 << 20)):
        c.req(CMD_READ, off, ln)
        err, _, data = c.simple(ln)
        check(err == 0 and len(data) == ln, "READ %d at %d over TLS" % (ln, off))
    c.req(CMD_WRITE, 8192, 4096, 1, b"\x5a" * 4096)
    check(c.simple()[0] == 0, "WRITE over TLS")
    c.req(CMD_READ, 8192, 4096)
    check(c.simple(4096)[2] == b"\x5a" * 4096, "read back over TLS")
    c.req(CMD_DISC, 0, 0)
    check(c.closed(), "DISC over TLS")


def sc_tls_export_name_plain(port, name):
    """EXPORT_NAME before TLS has no error reply: the connection ends
    without a byte of the export."""
    c = Client(port)
    c.greet()
    n = name.encode()
    c.opt(OPT_EXPORT_NAME, n)
    c.s.settimeout(5)
    try:
        got = c.s.recv(65536)
    except ConnectionResetError:
        got = b""
    check(got == b"", "EXPORT_NAME before TLS answered: %r" % got[:32])


def sc_tls_forgets(port, certdir, name):
    """Allowed mode: structured replies negotiated in the clear do not
    survive STARTTLS (simple replies after it)."""
    c = Client(port)
    c.greet()
    c.structured()
    c.starttls(certdir)
    size, flags, _ = c.go(name)
    check(isinstance(flags, int), "GO: %r" % (flags,))
    check(not flags & (1 << 7), "DF offered without structured replies")
    c.req(CMD_READ, 0, 512)
    err, _, _ = c.simple(512)    # a structured reply fails the magic check
    check(err == 0, "READ error %d" % err)
    c.req(CMD_DISC, 0, 0)


def sc_tls_plain_allowed(port, name):
    """Allowed mode: a plaintext client still opens what it names."""
    c, size, flags = ready(port, name)
    c.req(CMD_READ, 0, 512)
    check(c.simple(512)[0] == 0, "plaintext READ in allowed mode")
    c.req(CMD_DISC, 0, 0)


def sc_tls_inject(port, certdir):
    """Options sent in plaintext with STARTTLS (a man in the middle's
    STARTTLS command injection) are thrown away, never parsed: after the
    handshake the first reply is to our own option."""
    c = Client(port)
    c.greet()
    injected = b"".join(struct.pack(">QII", IHAVEOPT, o, 0)
                        for o in (OPT_LIST, OPT_SR, 0x7777))
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT_STARTTLS, 0) + injected)
    o, typ, _ = c.reply()
    check(o == OPT_STARTTLS and typ == REP_ACK, "STARTTLS: %#x" % typ)
    c.s = TLS(c.s, certdir)
    c.s.handshake()
    c.opt(0x6666, b"mine")
    o, typ, _ = c.reply()
    check(o == 0x6666 and typ == REP_ERR_UNSUP,
          "first reply after TLS is to option %#x (%#x): injected bytes parsed" % (o, typ))
    c.opt(OPT_ABORT)
    o, typ, _ = c.reply()
    check(o == OPT_ABORT and typ == REP_ACK, "ABORT: %#x %#x" % (o, typ))


def sc_tls_inject_late(port):
    """Plaintext after STARTTLS's ACK, where the ClientHello belongs: the
    handshake fails and the connection ends; no reply comes."""
    c = Client(port)
    c.greet()
    c.opt(OPT_STARTTLS)
    o, typ, _ = c.reply()
    check(typ == REP_ACK, "STARTTLS: %#x" % typ)
    c.s.sendall(struct.pack(">QII", IHAVEOPT, OPT_LIST, 0))
    c.s.settimeout(5)
    got = b""
    try:
        while True:
            d = c.s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    check(REPMAGIC.to_bytes(8, "big") not in got,
          "an option reply after plaintext in place of the ClientHello")


def sc_tls_bad_cert(port, certdir):
    """A client whose certificate the server refuses: no option is ever
    answered over TLS."""
    c = Client(port)
    c.greet()
    try:
        c.starttls(certdir)
        c.opt(OPT_LIST)
        c.reply()
    except (ssl.SSLError, EOFError, ConnectionResetError, BrokenPipeError):
        return
    fail("a refused certificate was served")


def sc_tls_stall(port, timeout, how):
    """A client that stalls in the TLS handshake: 'silent' (nothing after
    the ACK) or 'partial' (half a ClientHello record) is dropped after the
    handshake timeout."""
    c = Client(port)
    c.greet()
    t = time.time()
    c.opt(OPT_STARTTLS)
    _, typ, _ = c.reply()
    check(typ == REP_ACK, "STARTTLS: %#x" % typ)
    if how == "partial":
        c.s.sendall(b"\x16\x03\x01\x02\x00" + b"\x01" * 40)
    check(c.closed(wait=float(timeout) + 10), "stalled TLS handshake kept")
    el = time.time() - t
    check(el >= float(timeout) - 1.5, "dropped too early (%.1fs)" % el)


def sc_tls_stall_record(port, certdir, name, timeout):
    """Over TLS, half a request in one record, then a record cut short:
    the client is dropped after the stall timeout, the write not made."""
    c, size, flags = ready(port, name, certdir=certdir)
    req = struct.pack(">IHHQQI", REQMAGIC, 0, CMD_WRITE, 1, 0, 4096)
    c.s.sendall(req[:10])
    rec = c.s.records(req[10:] + b"\xab" * 4096)
    c.s.raw.sendall(rec[:-20])
    t = time.time()
    check(c.closed(wait=float(timeout) + 10), "stalled TLS client kept")
    check(time.time() - t >= float(timeout) - 1, "dropped too early")


def sc_tls_go(port, certdir, name, src, expect):
    """GO over TLS (certdir's identity) from source address src: expect
    'ok', 'ok:PATH' (hold until PATH exists) or 'refused:TEXT'."""
    c = Client(port, src or None)
    c.greet()
    c.starttls(certdir)
    size, flags, _ = c.go(name)
    if expect.startswith("ok"):
        check(isinstance(flags, int), "GO %s refused: %s" % (name, flags))
        print("holding", flush=True)
        until = expect[3:]
        while until and not os.path.exists(until):
            time.sleep(0.05)
        c.req(CMD_DISC, 0, 0)
        return
    check(not isinstance(flags, int), "GO %s was allowed" % name)
    check(size == REP_ERR_POLICY, "refusal type %#x" % size)
    want = expect.split(":", 1)[1]
    check(want in flags, "refusal message %r lacks %r" % (flags, want))
    print("refused:", flags)


def sc_tls_list(port, certdir, *names):
    c = Client(port)
    c.greet()
    c.starttls(certdir)
    typ, got = listing(c)
    check(typ == REP_ACK and got == set(names),
          "LIST gave %s, want %s" % (sorted(got), sorted(names)))
    c.opt(OPT_ABORT)


def main():
    port = int(sys.argv[1])
    fn = globals()["sc_" + sys.argv[2].replace("-", "_")]
    fn(port, *sys.argv[3:])


if __name__ == "__main__":
    main()
