#!/usr/bin/python3
# The initramfs side of the demo, through libnbd: what nbd-client and then
# the Pi's kernel do with the root export. Standalone: it shares no code
# with nbdd.
#
#   nbd-root.py URI mount           handshake, partition table, ext4
#                                   superblock of partition 2, one block
#                                   written, flushed and read back
#   nbd-root.py URI rewrite FILE TEXT
#                                   rewrite FILE in the FAT root directory of
#                                   partition 1 in place, as the Pi's kernel
#                                   would on a kernel upgrade
import struct
import sys
import uuid

import nbd


def connect(uri):
    h = nbd.NBD()
    h.set_export_name("")
    h.connect_uri(uri)
    return h


def partitions(h):
    mbr = h.pread(512, 0)
    if mbr[510:512] != b"\x55\xaa":
        sys.exit("no MBR signature in the export")
    parts = []
    for i in range(4):
        e = mbr[446 + 16 * i:462 + 16 * i]
        ptype = e[4]
        start, count = struct.unpack_from("<II", e, 8)
        if ptype:
            parts.append((i + 1, ptype, start * 512, count * 512))
    return parts


def mount(uri):
    h = connect(uri)
    print("  handshake: export %s, %d bytes, %s%s" % (
        h.get_export_name(),
        h.get_size(),
        "read-only" if h.is_read_only() else "writable",
        ", flush" if h.can_flush() else ""))
    parts = partitions(h)
    for n, t, off, size in parts:
        print("  partition %d: type 0x%02x, %d MiB at %d" % (n, t, size >> 20, off))
    root = [p for p in parts if p[0] == 2]
    if not root:
        sys.exit("no partition 2 (root=/dev/nbd0p2)")
    _, _, off, size = root[0]
    sb = h.pread(1024, off + 1024)
    magic, = struct.unpack_from("<H", sb, 56)
    if magic != 0xEF53:
        sys.exit("partition 2 holds no ext4 superblock (magic 0x%04x)" % magic)
    label = sb[120:136].split(b"\0")[0].decode()
    fsuuid = uuid.UUID(bytes=bytes(sb[104:120]))
    blocks, = struct.unpack_from("<I", sb, 4)
    bsize = 1024 << struct.unpack_from("<I", sb, 24)[0]
    print("  root /dev/nbd0p2: ext4, label %s, UUID %s, %d blocks of %d" % (
        label, fsuuid, blocks, bsize))
    if label != "writable":
        sys.exit("root label is %r, expected 'writable'" % label)
    # A block written and flushed: sector 1 of the gap before partition 1,
    # which no file system uses.
    block = (b"netboot demo was here\n" * 200)[:4096]
    h.pwrite(block, 4096)
    h.flush()
    if h.pread(4096, 4096) != block:
        sys.exit("the block read back differs from the block written")
    print("  wrote 4096 bytes at offset 4096, flushed, read back equal")
    h.shutdown()


def rewrite(uri, name, text):
    h = connect(uri)
    parts = [p for p in partitions(h) if p[0] == 1]
    if not parts:
        sys.exit("no partition 1")
    _, _, off, _ = parts[0]
    bs = h.pread(512, off)
    bps, spc, reserved, nfats = struct.unpack_from("<HBHB", bs, 11)
    fatsz, = struct.unpack_from("<I", bs, 36)
    rootclus, = struct.unpack_from("<I", bs, 44)
    if bps == 0 or spc == 0 or fatsz == 0:
        sys.exit("partition 1 is not FAT32")
    data = off + (reserved + nfats * fatsz) * bps
    clus = spc * bps
    base, _, ext = name.upper().partition(".")
    want = base.ljust(8).encode() + ext.ljust(3).encode()
    # The root directory's first cluster is enough for the demo's image.
    d = h.pread(clus, data + (rootclus - 2) * clus)
    for i in range(0, clus, 32):
        e = d[i:i + 32]
        if e[0] == 0:
            break
        if e[0] == 0xE5 or e[11] == 0x0F:
            continue
        if e[:11] == want:
            hi, = struct.unpack_from("<H", e, 20)
            lo, = struct.unpack_from("<H", e, 26)
            first = hi << 16 | lo
            new = text.encode()
            if len(new) > clus:
                sys.exit("new text does not fit in one cluster")
            h.pwrite(new, data + (first - 2) * clus)
            h.pwrite(struct.pack("<I", len(new)),
                     data + (rootclus - 2) * clus + i + 28)
            h.flush()
            print("  rewrote %s inside partition 1 through NBD: %d bytes, flushed"
                  % (name, len(new)))
            h.shutdown()
            return
    sys.exit("%s not found in the FAT root directory" % name)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] == "mount":
        mount(sys.argv[1])
    elif len(sys.argv) == 5 and sys.argv[2] == "rewrite":
        rewrite(sys.argv[1], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: nbd-root.py URI mount | URI rewrite FILE TEXT")
