#!/usr/bin/python3
"""Reassembles the TCP streams of a capture (tcpdump -w, Ethernet) on one
port, each direction by its sequence numbers, and checks what they hold:
every +STRING must appear in some stream, no -STRING in any, and the
server's side must have carried at least --min-bytes. A string split
across packets is found, as it would be on the wire.

usage: pcap-streams.py PCAP PORT [--min-bytes N] [+STRING|-STRING]...
exit 0 when every check holds; 1 with the reasons otherwise.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        sys.exit("%s: no pcap header" % path)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("%s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("%s: link type %d, not Ethernet" % (path, linktype))
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(e + "I", data[pos + 8:pos + 12])[0]
        yield data[pos + 16:pos + 16 + incl]
        pos += 16 + incl


def tcp_segments(frame):
    """(src, sport, dst, dport, seq, syn, payload) or None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack(">H", frame[12:14])[0]
    ip = frame[14:]
    if etype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            return None
        src, dst, tcp = ip[12:16], ip[16:20], ip[ihl:total]
    elif etype == 0x86DD and len(ip) >= 40:
        plen = struct.unpack(">H", ip[4:6])[0]
        if ip[6] != 6:
            return None
        src, dst, tcp = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", tcp[:8])
    off = (tcp[12] >> 4) * 4
    syn = bool(tcp[13] & 2)
    return src, sport, dst, dport, seq, syn, tcp[off:]


def streams(path, port):
    flows = {}
    for frame in packets(path):
        seg = tcp_segments(frame)
        if seg is None:
            continue
        src, sport, dst, dport, seq, syn, payload = seg
        if port not in (sport, dport):
            continue
        key = (src, sport, dst, dport)
        fl = flows.setdefault(key, {"isn": None, "segs": []})
        if syn:
            fl["isn"] = (seq + 1) & 0xFFFFFFFF
        if payload:
            fl["segs"].append((seq, payload))
    out = {}
    for key, fl in flows.items():
        if not fl["segs"]:
            continue
        isn = fl["isn"]
        if isn is None:   # the capture began after the SYN
            isn = min(s for s, _ in fl["segs"])
        buf = bytearray()
        for seq, payload in fl["segs"]:
            rel = (seq - isn) & 0xFFFFFFFF
            if rel > 1 << 31:     # before the ISN: a stray retransmission
                continue
            end = rel + len(payload)
            if end > len(buf):
                buf.extend(bytes(end - len(buf)))
            buf[rel:end] = payload
        out[key] = bytes(buf)
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    path, port = args[0], int(args[1])
    min_bytes = 0
    musts, nevers = [], []
    rest = args[2:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--min-bytes":
            min_bytes = int(rest[i + 1])
            i += 2
            continue
        if a[:1] == "+":
            musts.append(a[1:].encode())
        elif a[:1] == "-":
            nevers.append(a[1:].encode())
        else:
            sys.exit("not +STRING or -STRING: %r" % a)
        i += 1
    st = streams(path, port)
    bad = []
    served = sum(len(b) for (s, sp, d, dp), b in st.items() if sp == port)
    print("%d streams on port %d; %d bytes from the server, %d to it" %
          (len(st), port, served,
           sum(len(b) for (s, sp, d, dp), b in st.items() if dp == port)))
    if served < min_bytes:
        bad.append("the server sent %d bytes, fewer than %d" % (served, min_bytes))
    for m in musts:
        if not any(m in b for b in st.values()):
            bad.append("%r is in no stream" % m.decode())
    for n in nevers:
        for (s, sp, d, dp), b in st.items():
            at = b.find(n)
            if at >= 0:
                bad.append("%r is on the wire, in plaintext, %s port %d "
                           "at byte %d" % (n.decode(), "from" if sp == port
                                           else "to", port, at))
    for b in bad:
        print("pcap-streams:", b, file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
