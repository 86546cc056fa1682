#!/usr/bin/python3
"""A raw NBD client for nbdd's integration tests: speaks the protocol byte
by byte so the tests can send what no well-behaved client sends.

usage: nbdd-raw.py PORT SCENARIO [ARGS...]   (exit 0 = scenario passed)
"""
import os
import socket
import struct
import sys
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPMAGIC = 0x3E889045565A9
REQMAGIC = 0x25609513
SIMPLE = 0x67446698
STRUCT = 0x668E33EF
OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_INFO, OPT_GO = 1, 2, 3, 6, 7
OPT_SR, OPT_LIST_META, OPT_SET_META = 8, 9, 10
REP_ACK, REP_SERVER, REP_INFO, REP_META = 1, 2, 3, 4
ERR = 1 << 31
REP_ERR_UNSUP, REP_ERR_POLICY, REP_ERR_INVALID = ERR | 1, ERR | 2, ERR | 3
REP_ERR_UNKNOWN, REP_ERR_TOO_BIG = ERR | 6, ERR | 9
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


class Client:
    def __init__(self, port, src=None,
                 host=os.environ.get("NBD_HOST", "127.0.0.1")):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


def ready(port, name, src=None):
    c = Client(port, src)
    c.greet()
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


def main():
    port = int(sys.argv[1])
    fn = globals()["sc_" + sys.argv[2].replace("-", "_")]
    fn(port, *sys.argv[3:])


if __name__ == "__main__":
    main()
