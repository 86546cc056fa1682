#!/usr/bin/env python3
"""Hand-made TFTP packets for tftpd's integration tests: what no real
client sends (malformed requests, strangers on a transfer's port, clients
that hold transfers open). Prints one line per answer.

  tftp-raw.py PORT send HEX...      each HEX is one packet sent from a
                                    fresh port; prints the answer
  tftp-raw.py PORT rrq FILE [OPT VAL]...   a well-formed RRQ, same output
  tftp-raw.py PORT tid FILE         a stranger ACKs to a running transfer
  tftp-raw.py PORT busy FILE N      holds N transfers, then asks once more
  tftp-raw.py PORT wrq FILE         a write request
  tftp-raw.py PORT oversize FILE    a lock-step transfer whose client
                                    sends a 3000-byte ACK 1 (trailing
                                    bytes), then a 3000-byte ERROR
  tftp-raw.py PORT flood N HEX      the packet N times from one port, as
                                    fast as it goes; prints how many
                                    answers of each kind came back
"""
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def describe(pkt):
    if len(pkt) < 2:
        return "SHORT"
    op = struct.unpack("!H", pkt[:2])[0]
    if op == 3 and len(pkt) >= 4:
        return "DATA %d %d" % (struct.unpack("!H", pkt[2:4])[0], len(pkt) - 4)
    if op == 5 and len(pkt) >= 4:
        code = struct.unpack("!H", pkt[2:4])[0]
        msg = pkt[4:].split(b"\0")[0].decode("ascii", "replace")
        return "ERROR %d %s" % (code, msg)
    if op == 6:
        return "OACK " + " ".join(x.decode() for x in pkt[2:].split(b"\0") if x)
    return "OPCODE %d" % op


def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(2)
    return s


def ask(port, pkt):
    s = sock()
    s.sendto(pkt, (HOST, port))
    try:
        data, addr = s.recvfrom(70000)
        return describe(data), addr, s
    except socket.timeout:
        return "TIMEOUT", None, s


def rrq(name, *opts, op=1):
    b = struct.pack("!H", op) + name.encode() + b"\0octet\0"
    for o in opts:
        b += o.encode() + b"\0"
    return b


def ack(n):
    return struct.pack("!HH", 4, n & 0xFFFF)


def main():
    port = int(sys.argv[1])
    cmd = sys.argv[2]
    args = sys.argv[3:]
    if cmd == "send":
        for h in args:
            print(ask(port, bytes.fromhex(h))[0])
    elif cmd == "rrq":
        print(ask(port, rrq(args[0], *args[1:]))[0])
    elif cmd == "wrq":
        print(ask(port, rrq(args[0], op=2))[0])
    elif cmd == "tid":
        # A lock-step transfer; after block 1 a stranger writes to the
        # transfer's port. It must get ERROR 5 and the transfer go on.
        what, tid, s = ask(port, rrq(args[0]))
        print("first", what)
        stranger = sock()
        stranger.sendto(ack(1), tid)
        try:
            print("stranger", describe(stranger.recvfrom(70000)[0]))
        except socket.timeout:
            print("stranger TIMEOUT")
        block, total = 1, int(what.split()[2])
        last = total
        while last == 512:
            s.sendto(ack(block), tid)
            data, addr = s.recvfrom(70000)
            if addr != tid:
                print("reply from a new port", addr)
                return
            d = describe(data).split()
            # The server's timer may resend the block just ACKed (a slow
            # moment on this side); RFC 1350 has the client ignore it.
            while d[0] == "DATA" and int(d[1]) == block & 0xFFFF:
                d = describe(s.recvfrom(70000)[0]).split()
            if d[0] != "DATA" or int(d[1]) != (block + 1) & 0xFFFF:
                print("unexpected", " ".join(d))
                return
            block += 1
            last = int(d[2])
            total += last
        s.sendto(ack(block), tid)
        print("done", total)
    elif cmd == "oversize":
        what, tid, s = ask(port, rrq(args[0]))
        print("first", what)
        s.sendto(ack(1) + b"J" * 2996, tid)
        try:
            print("after big ACK", describe(s.recvfrom(70000)[0]))
        except socket.timeout:
            print("after big ACK TIMEOUT")
        s.sendto(struct.pack("!HH", 5, 0) + b"M" * 2995 + b"\0", tid)
        print("sent big ERROR")
    elif cmd == "busy":
        n = int(args[1])
        held = []
        for _ in range(n):
            what, tid, s = ask(port, rrq(args[0]))
            held.append(s)
            print("held", what)
        print("more", ask(port, rrq(args[0]))[0])
    elif cmd == "flood":
        n, pkt = int(args[0]), bytes.fromhex(args[1])
        s = sock()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        seen = {}
        for _ in range(n):
            s.sendto(pkt, (HOST, port))
        try:
            for _ in range(n):
                what = describe(s.recvfrom(70000)[0])
                seen[what] = seen.get(what, 0) + 1
        except socket.timeout:
            pass
        for what, count in sorted(seen.items()):
            print(count, what)
    else:
        sys.exit("unknown command " + cmd)


main()
