#!/usr/bin/env python3
"""Misbehaving hosts on the boot storm's LAN, each in a namespace of its own,
running until SIGTERM. On exit each prints one line saying what it sent:

  bad mode=dhcp-flood sent=N ...

  badhost.py dhcp-flood IFACE RATE
      DISCOVERs shaped like a Pi's (option 60 PXEClient, option 97), RATE a
      second, broadcast: every other one from one fixed MAC (a stuck
      client), the rest each from a new random MAC with a random serial.
  badhost.py tftp-junk SERVER SERIAL RATE
      RATE junk packets a second at port 69 (garbage, truncated and
      malformed requests, write requests, bad options, stray DATA/ACK/
      ERROR, paths that climb out); asks for SERIAL's real files (as any
      host on the LAN can) and never ACKs, vanishing from some after the
      first DATA; sends junk to those transfers' ports, from their own port
      and from others; and sprays ACK/ERROR at random ports of the server,
      where the real Pis' transfers live.
  badhost.py nbd-stall SERVER PORT CONNS
      keeps CONNS connections open, each stalled at a different point of
      the handshake (silent after connecting, after half the client flags,
      inside an option header, inside an option's data); reopens a
      connection when the server drops it.
"""
import os
import random
import signal
import socket
import struct
import sys
import time

stop = False


def on_term(signo, frame):
    global stop
    stop = True


def report(**kw):
    print("bad " + " ".join("%s=%s" % kv for kv in kw.items()), flush=True)


def pace(rate, start, n):
    """Sleep until packet n of a steady RATE per second is due."""
    due = start + n / rate
    d = due - time.monotonic()
    if d > 0:
        time.sleep(min(d, 0.5))


def discover(mac, serial):
    opts = b"\x35\x01\x01"
    cls = b"PXEClient:Arch:00000:UNDI:002001"
    opts += bytes([60, len(cls)]) + cls
    opts += b"\x5d\x02\x00\x00\x5e\x03\x01\x02\x01"
    guid = b"\x00RPi4" + struct.pack("<I", 0xC03111) + mac[2:] + \
        struct.pack("<I", serial)
    opts += bytes([97, len(guid)]) + guid
    opts += b"\x37\x06\x01\x03\x2b\x3c\x42\x43\xff"
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s4s", 1, 1, 6, 0,
                      random.getrandbits(32), 0, 0x8000, b"\0" * 4,
                      b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10,
                      b"", b"", b"\x63\x82\x53\x63")
    pkt = hdr + opts
    return pkt + b"\0" * max(0, 300 - len(pkt))


def dhcp_flood(iface, rate):
    rate = float(rate)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.bind(("0.0.0.0", 68))
    stuck = bytes.fromhex("020000bd0001")
    sent = macs = errors = 0
    start = time.monotonic()
    while not stop:
        if sent % 2 == 0:
            pkt = discover(stuck, 0xBAD0BAD0)
        else:
            # Locally administered MACs, serials no boot entry has.
            mac = bytes([0x02, 0xBD]) + os.urandom(4)
            pkt = discover(mac, random.getrandbits(32) | 0xF0000000)
            macs += 1
        try:
            s.sendto(pkt, ("255.255.255.255", 67))
        except OSError:
            errors += 1
        sent += 1
        pace(rate, start, sent)
    report(mode="dhcp-flood", sent=sent, random_macs=macs, errors=errors,
           seconds="%.1f" % (time.monotonic() - start))


JUNK_69 = [
    lambda: os.urandom(random.randint(0, 600)),
    lambda: b"\x00\x01",                                  # truncated RRQ
    lambda: b"\x00\x01abc",                               # no terminator
    lambda: b"\x00\x01file\x00",                          # no mode
    lambda: b"\x00\x01file\x00mail\x00",                  # unknown mode
    lambda: b"\x00\x02upload\x00octet\x00",               # WRQ
    lambda: b"\x00\x01" + b"A" * 1400 + b"\x00octet\x00",  # long name
    lambda: b"\x00\x01../../../etc/shadow\x00octet\x00",
    lambda: b"\x00\x01/etc/passwd\x00octet\x00",
    lambda: b"\x00\x01x\x00octet\x00blksize\x000\x00",
    lambda: b"\x00\x01x\x00octet\x00blksize\x0099999999999\x00",
    lambda: b"\x00\x01x\x00octet\x00tsize\x00abc\x00",
    lambda: b"\x00\x01x\x00octet\x00windowsize\x000\x00",
    lambda: b"\x00\x01x\x00octet\x00tsize\x000\x00tsize\x000\x00",
    lambda: b"\x00\x03\x00\x01" + os.urandom(512),        # stray DATA
    lambda: b"\x00\x04\x00\x01",                          # stray ACK
    lambda: b"\x00\x05\x00\x00oops\x00",                  # stray ERROR
    lambda: b"\x00\x09",                                  # unknown opcode
]


def rrq(name):
    return b"\x00\x01" + name.encode() + b"\x00octet\x00tsize\x000\x00" \
        b"blksize\x001468\x00"


def tftp_junk(server, serial, rate):
    rate = float(rate)
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    junk.setblocking(False)
    sent = abandoned = spray = tid_junk = 0
    held = []       # sockets of transfers we asked for and never ACK
    files = ["start4.elf", "kernel8.img", "initrd.img", "config.txt"]
    start = time.monotonic()
    n = 0
    while not stop:
        n += 1
        kind = n % 10
        try:
            if kind < 5:
                junk.sendto(random.choice(JUNK_69)(), (server, 69))
                sent += 1
            elif kind == 5:
                # A real request, then silence: the server retransmits
                # until it gives up.
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setblocking(False)
                s.sendto(rrq("%s/%s" % (serial, random.choice(files))),
                         (server, 69))
                held.append([s, None, time.monotonic()])
                abandoned += 1
            elif kind in (6, 7):
                # Junk at a held transfer's port: from its own port
                # (bad ACKs, garbage) and from a stranger's.
                for h in held:
                    if h[1] is None:
                        try:
                            _, h[1] = h[0].recvfrom(70000)
                        except BlockingIOError:
                            pass
                live = [h for h in held if h[1] is not None]
                if live:
                    h = random.choice(live)
                    pkt = random.choice([
                        b"\x00\x04\xff\xff", b"\x00\x04\x00\x07",
                        b"\x00\x03\x00\x01junk", os.urandom(30),
                        b"\x00\x06tsize\x001\x00"])
                    src = h[0] if kind == 6 else junk
                    src.sendto(pkt, h[1])
                    tid_junk += 1
            else:
                # ACK and ERROR sprayed over the server's ephemeral ports,
                # where the Pis' transfers are.
                port = random.randint(32768, 60999)
                pkt = random.choice([b"\x00\x04\x00\x01",
                                     b"\x00\x05\x00\x00stop\x00",
                                     b"\x00\x03\x00\x02xx"])
                junk.sendto(pkt, (server, port))
                spray += 1
        except OSError:
            pass
        # Vanish: close held sockets after a while (the port goes quiet;
        # no ICMP leaves this host, the harness drops it).
        now = time.monotonic()
        while held and now - held[0][2] > 3:
            held.pop(0)[0].close()
        pace(rate, start, n)
    report(mode="tftp-junk", junk69=sent, abandoned=abandoned,
           tid_junk=tid_junk, port_spray=spray,
           seconds="%.1f" % (time.monotonic() - start))


NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054


def stall_step(kind):
    """What a stalled client sends before it falls silent."""
    if kind == 0:
        return b""
    if kind == 1:
        return b"\x00\x00"                                    # half flags
    if kind == 2:
        return struct.pack("!IQ", 1, IHAVEOPT) + b"\x00\x00"   # in header
    return struct.pack("!IQII", 1, IHAVEOPT, 7, 100) + b"\x00\x00\x00\x04"


def nbd_stall(server, port, conns):
    port, conns = int(port), int(conns)
    opened = dropped = refused = 0
    live = []
    start = time.monotonic()
    while not stop:
        while len(live) < conns and not stop:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                s.connect((server, port))
                kind = opened % 4
                if kind:
                    s.recv(18)
                s.sendall(stall_step(kind))
                s.setblocking(False)
                live.append(s)
                opened += 1
            except OSError:
                refused += 1
                s.close()
                time.sleep(0.2)
        for s in list(live):
            try:
                if s.recv(4096) != b"":
                    continue        # the greeting, unread until now
            except BlockingIOError:
                continue
            except OSError:
                pass
            live.remove(s)
            s.close()
            dropped += 1
        time.sleep(0.2)
    for s in live:
        s.close()
    report(mode="nbd-stall", opened=opened, dropped_by_server=dropped,
           refused=refused, seconds="%.1f" % (time.monotonic() - start))


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    mode, args = sys.argv[1], sys.argv[2:]
    print("ready mode=%s" % mode, flush=True)
    {"dhcp-flood": dhcp_flood, "tftp-junk": tftp_junk,
     "nbd-stall": nbd_stall}[mode](*args)


if __name__ == "__main__":
    main()
