#!/usr/bin/python3
"""Greedy NBD connections and one Pi-like connection against one server,
for tests/nbdd/overload.sh.

usage: overload.py [options] HOST PORT   (see --help)

Each host reads and writes its own image, pi and the last byte of its
address (one writer per image). Each greedy connection keeps --qd
requests of --size bytes in flight (READs; the last --writers
connections WRITEs), sending a new one as each is answered. Once they
are all under way, the Pi sends --pi-count requests of --pi-size bytes
(--pi-cmd), one at a time every --pi-gap-ms, as a booting kernel does
with its root. For each it notes how long the answer took and how many
greedy requests sent before it were still unanswered when it came
(--count: the READs, or all): a server that gives each connection its
turn answers the Pi ahead of most of them; one that answers in order of
arrival, or lets a deep queue or large payloads go first, after them.
Prints one line per Pi request and a summary; exit 0 once every Pi
request is answered, each within --pi-deadline seconds (the kernel's
NBD timeout), else 1.
"""
import argparse
import socket
import struct
import sys
import threading
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REPMAGIC = 0x3E889045565A9
REQMAGIC = 0x25609513
SIMPLE = 0x67446698
OPT_GO, REP_ACK, REP_INFO = 7, 1, 3
CMD_READ, CMD_WRITE = 0, 1


def recvn(s, n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(min(n - len(b), 1 << 20))
        if not c:
            raise EOFError("server closed after %d of %d bytes" % (len(b), n))
        b += c
    return bytes(b)


def connect(host, port, prefix, src):
    export = prefix + src.split(".")[-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(60)
    s.connect((host, port))
    magic, opt, _ = struct.unpack(">QQH", recvn(s, 18))
    if magic != NBDMAGIC or opt != IHAVEOPT:
        raise RuntimeError("bad greeting")
    s.sendall(struct.pack(">I", 3))
    n = export.encode()
    body = struct.pack(">I", len(n)) + n + struct.pack(">H", 0)
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(body)) + body)
    while True:
        magic, _, typ, ln = struct.unpack(">QIII", recvn(s, 20))
        data = recvn(s, ln)
        if magic != REPMAGIC:
            raise RuntimeError("bad option reply")
        if typ == REP_ACK:
            break
        if typ != REP_INFO:
            raise RuntimeError("export refused: %#x %r" % (typ, data))
    s.settimeout(None)
    return s


PAYLOADS = {}


def payload(size):
    """One payload of each size for every writer: forty of 32 MiB each
    would take the machine's memory."""
    if size not in PAYLOADS:
        PAYLOADS[size] = b"\x5a" * size
    return PAYLOADS[size]


class Greedy:
    """One greedy connection: a sender keeping qd requests in flight and
    a reader taking the replies. sent_at[h] is the clock when request h
    went out, for the requests not answered yet."""

    def __init__(self, host, port, prefix, src, qd, size, write, base):
        self.s = connect(host, port, prefix, src)
        self.qd, self.size, self.write, self.base = qd, size, write, base
        self.lock = threading.Lock()
        self.room = threading.Semaphore(qd)
        self.sent_at = {}
        self.replies = 0
        self.error = None
        self.stop = False
        self.payload = payload(size) if write else b""
        threading.Thread(target=self.sender, daemon=True).start()
        threading.Thread(target=self.reader, daemon=True).start()

    def sender(self):
        h = self.base
        try:
            while not self.stop:
                self.room.acquire()
                h += 1
                off = (h % 4) * self.size if self.write else \
                    (h * self.size) % (1 << 30)
                with self.lock:
                    self.sent_at[h] = time.monotonic()
                self.s.sendall(struct.pack(
                    ">IHHQQI", REQMAGIC, 0, CMD_WRITE if self.write else
                    CMD_READ, h, off, self.size))
                if self.write:
                    self.s.sendall(self.payload)
        except OSError as e:
            if not self.stop:
                self.error = "sending: %s" % e

    def reader(self):
        try:
            while not self.stop:
                magic, err, h = struct.unpack(">IIQ", recvn(self.s, 16))
                if magic != SIMPLE or err != 0:
                    raise RuntimeError("reply magic %#x error %d" %
                                       (magic, err))
                if not self.write:
                    recvn(self.s, self.size)
                with self.lock:
                    self.sent_at.pop(h, None)
                    self.replies += 1
                self.room.release()
        except (OSError, EOFError, RuntimeError) as e:
            if not self.stop:
                self.error = "reading: %s" % e

    def unanswered_before(self, t):
        with self.lock:
            return sum(1 for at in self.sent_at.values() if at < t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--srcs", required=True, help="greedy hosts, a,b,c")
    ap.add_argument("--per-src", type=int, default=4)
    ap.add_argument("--qd", type=int, default=128)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--writers", type=int, default=0)
    ap.add_argument("--ready", choices=("reply", "sent"), default="reply",
                    help="the Pi starts once every greedy connection has "
                    "had a reply, or has sent its first request")
    ap.add_argument("--count", choices=("reads", "all"), default="reads")
    ap.add_argument("--pi-src", required=True)
    ap.add_argument("--pi-cmd", choices=("read", "write"), default="read")
    ap.add_argument("--pi-size", type=int, default=4096)
    ap.add_argument("--pi-count", type=int, default=30)
    ap.add_argument("--pi-gap-ms", type=int, default=100)
    ap.add_argument("--pi-deadline", type=float, default=30)
    a = ap.parse_args()
    conns = [src for _ in range(a.per_src) for src in a.srcs.split(",")]
    start = time.monotonic()
    greedy = []
    for n, src in enumerate(conns):
        greedy.append(Greedy(a.host, a.port, "pi", src, a.qd, a.size,
                             n >= len(conns) - a.writers, (n + 1) << 40))
    counted = greedy if a.count == "all" else [g for g in greedy
                                                if not g.write]
    pi = connect(a.host, a.port, "pi", a.pi_src)
    while any((g.replies if a.ready == "reply" else len(g.sent_at) +
               g.replies) == 0 for g in greedy):
        bad = [g.error for g in greedy if g.error]
        if bad:
            print("FAIL: a greedy connection: %s" % bad[0])
            return 1
        if time.monotonic() - start > 120:
            print("FAIL: greedy connections not under way after 120 s")
            return 1
        time.sleep(0.05)
    if a.ready == "sent":
        time.sleep(1)	# their requests read and queued by the server
    print("# greedy: %d connections (%d writing), %d requests of %d bytes "
          "in flight each, all under way after %.1f s" %
          (len(greedy), a.writers, a.qd, a.size, time.monotonic() - start))
    cmd = CMD_WRITE if a.pi_cmd == "write" else CMD_READ
    payload = b"\xa5" * a.pi_size if cmd == CMD_WRITE else b""
    pi.settimeout(a.pi_deadline)
    waits, ahead = [], []
    for i in range(a.pi_count):
        t = time.monotonic()
        off = (i * a.pi_size) % (64 << 20)
        try:
            pi.sendall(struct.pack(">IHHQQI", REQMAGIC, 0, cmd, i + 1, off,
                                   a.pi_size) + payload)
            magic, err, h = struct.unpack(">IIQ", recvn(pi, 16))
            data = recvn(pi, a.pi_size) if cmd == CMD_READ else b""
        except socket.timeout:
            pending = sum(g.unanswered_before(t) for g in counted)
            print("FAIL: the Pi's %s %d of %d bytes not answered within "
                  "%g s, the kernel's NBD timeout (%d greedy requests "
                  "sent before it still unanswered)" %
                  (a.pi_cmd.upper(), i + 1, a.pi_size, a.pi_deadline,
                   pending))
            return 1
        done = time.monotonic()
        if magic != SIMPLE or err != 0 or h != i + 1 or (
                cmd == CMD_READ and data != bytes(a.pi_size)):
            print("FAIL: the Pi's request %d: magic %#x error %d handle %d"
                  % (i + 1, magic, err, h))
            return 1
        pending = sum(g.unanswered_before(t) for g in counted)
        waits.append(done - t)
        ahead.append(pending)
        print("pi %d wait_ms %.1f greedy_sent_before_still_pending %d" %
              (i + 1, (done - t) * 1000, pending))
        time.sleep(max(0.0, a.pi_gap_ms / 1000.0 - (time.monotonic() - t)))
    bad = [g.error for g in greedy if g.error]
    if bad:
        print("FAIL: a greedy connection: %s" % bad[0])
        return 1
    elapsed = time.monotonic() - start
    got = sum(g.replies for g in greedy)
    for g in greedy:
        g.stop = True
    w = sorted(waits)
    print("summary pi_requests %d wait_ms_p50 %.1f wait_ms_p99 %.1f "
          "wait_ms_max %.1f min_pending_ahead %d counted_in_flight %d "
          "greedy_replies %d greedy_mib_s %.1f" %
          (len(w), w[len(w) // 2] * 1000,
           w[min(len(w) - 1, int(len(w) * 0.99))] * 1000, w[-1] * 1000,
           min(ahead), len(counted) * a.qd, got,
           got * a.size / elapsed / (1 << 20)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
