#!/usr/bin/env python3
"""What a boot storm did, from the files tests/storm/lan.inc's storm_run
writes ($STORM_OUT/NAME/pis.txt, meta.txt, bad.txt).

  report.py summary DIR            one storm: a "storm ..." line of figures
                                   (the tests read it), failures by reason
  report.py writes DIR SRV WRITES  every booted Pi's writes are in its image
                                   SRV/pi-SERIAL.img (same rule as pi-boot)
  report.py memory DIR             each daemon's memory per Pi against what
                                   its man page says; exit 1 when over
  report.py targets OUT LOSS        the issue's targets for the storms
                                   under OUT (tests/bench/storm.sh),
                                   ours beside the composition
  report.py table OURS0 COMP0 OURS1 COMP1
                                   the side-by-side table, ratios ours /
                                   composition, and the issue's targets
  report.py plot PNG DIR...        every Pi's DHCP, TFTP and NBD phases as
                                   bars on one time axis, one panel per storm
"""
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile


def read_pis(d):
    pis = []
    with open(os.path.join(d, "pis.txt")) as f:
        for line in f:
            if not line.startswith("pi "):
                continue
            kv = dict(w.split("=", 1) for w in shlex.split(line)[1:])
            for k, v in kv.items():
                if k in ("serial", "mac", "addr", "reason"):
                    continue
                if re.fullmatch(r"-?[0-9]+", v):
                    kv[k] = int(v)
                elif re.fullmatch(r"-?[0-9]+\.[0-9]+", v):
                    kv[k] = float(v)
            pis.append(kv)
    return pis


def read_tries(d):
    """The failed attempts before each Pi's last, by Pi id."""
    tries = {}
    with open(os.path.join(d, "pis.txt")) as f:
        for line in f:
            if not line.startswith("try "):
                continue
            kv = dict(w.split("=", 1) for w in shlex.split(line)[1:])
            for k, v in kv.items():
                if re.fullmatch(r"-?[0-9]+", v):
                    kv[k] = int(v)
                elif re.fullmatch(r"-?[0-9]+\.[0-9]+", v):
                    kv[k] = float(v)
            tries.setdefault(kv["id"], []).append(kv)
    return tries


def read_meta(d):
    m = {}
    with open(os.path.join(d, "meta.txt")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            m[k] = v
    return m


def pct(xs, p):
    """The p-th percentile, nearest rank."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def rate_bytes(r):
    """A tc rate (100mbit, 1gbit, 40000kbit) in bytes a second."""
    mult = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1}
    for unit in ("kbit", "mbit", "gbit", "bit"):
        if r.endswith(unit):
            try:
                return float(r[:-len(unit)]) * mult[unit] / 8
            except ValueError:
                break
    return float("nan")


def num(m, k):
    try:
        return float(m.get(k, 0) or 0)
    except ValueError:
        return 0.0


def summarize(d):
    pis, m = read_pis(d), read_meta(d)
    ok = [p for p in pis if p["result"] == "ok"]
    roots = [p["root"] for p in ok]
    s = {"name": m.get("name", os.path.basename(d)), "set": m.get("set"),
         "loss_pm": int(num(m, "loss_pm")), "pis": int(num(m, "pis")),
         "reported": len(pis), "booted": len(ok)}
    s["failed"] = s["pis"] - s["booted"]
    s["p50"], s["p95"], s["max"] = pct(roots, 50), pct(roots, 95), \
        max(roots) if roots else float("nan")
    # The last Pi at its root: never, while one is not.
    s["last_root"] = s["max"] if s["failed"] == 0 and roots else float("inf")
    # Boot attempts per Pi (a Pi that never reached its root counts the
    # attempts it made); older clients printed none: one each.
    att = [p.get("attempts", 1) for p in pis]
    s["att_p50"], s["att_p95"] = pct(att, 50), pct(att, 95)
    s["att_max"] = max(att) if att else 0
    s["restarted"] = sum(1 for a in att if a > 1)
    # What one boot moves (TFTP and NBD payload), from the Pis that
    # reached their root; the rack needs that for every Pi.
    bb = [p["boot_bytes"] for p in ok if p.get("boot_bytes")]
    s["boot_bytes"] = sum(bb) / len(bb) if bb else float("nan")
    s["need_bytes"] = s["boot_bytes"] * s["pis"]
    s["rate_bps"] = rate_bytes(m.get("rate", ""))
    # For the targets every Pi counts: one that never reached its root
    # took forever.
    every = roots + [float("inf")] * (s["pis"] - len(roots))
    s["p50_all"], s["p95_all"] = pct(every, 50), pct(every, 95)
    for ph in ("dhcp", "tftp", "nbd"):
        s[ph + "_p50"] = pct([p[ph + "_end"] - p[ph + "_start"]
                              for p in ok], 50)
    for k in ("dup_data", "dup_oack", "rrq_retx", "reack", "stray",
              "nbd_tcp_retx", "blocks", "tftp_bytes", "nbd_read",
              "nbd_written"):
        s[k] = sum(p.get(k, 0) for p in pis)
    s["dhcp_retx"] = sum(p["discovers"] + p["requests"] - 2 for p in pis
                         if p["discovers"] > 0)
    d_ = lambda k: num(m, "after_" + k) - num(m, "before_" + k)
    s["srv_data"] = d_("srv_data")
    # DATA the server sent beyond the blocks the Pis took in: its
    # retransmissions (and the copies after a lost final ACK).
    s["srv_retx"] = s["srv_data"] - s["blocks"]
    s["srv_oack"] = d_("srv_oack")
    s["srv_tcp_retx"] = d_("tcp_RetransSegs")
    s["srv_sndbuf_err"] = d_("udp_SndbufErrors")
    s["srv_rcvbuf_err"] = d_("udp_RcvbufErrors")
    s["router_rcvbuf_err"] = d_("router_udp_RcvbufErrors")
    # The drop counts of sockets that exist only during the storm (the
    # server set's) start from zero.
    s["drops"] = "srv67=%d srv69=%d router67=%d" % (
        num(m, "after_srv_drops_67"), num(m, "after_srv_drops_69"),
        d_("router_drops_67"))
    s["lost"] = d_("lost")
    s["backlog_drops"] = d_("backlog_drops")
    cpu = {}
    for k in m:
        if k.startswith("cpu1_"):
            dn = k[5:]
            cpu[dn] = (num(m, k) - num(m, "cpu0_" + dn)) / 1e9
    s["cpu"] = cpu
    s["cpu_total"] = sum(cpu.values())
    s["cpu_per_pi"] = s["cpu_total"] / s["booted"] if s["booted"] else \
        float("nan")
    # Per GiB the Pis received or wrote: comparable even when the sets
    # booted different numbers of Pis.
    gib = (s["tftp_bytes"] + s["nbd_read"] + s["nbd_written"]) / 2 ** 30
    s["gib"] = gib
    s["cpu_per_gib"] = s["cpu_total"] / gib if gib else float("nan")
    s["rss"] = {k[4:]: int(num(m, k)) for k in m if k.startswith("rss_")}
    s["hwm"] = {k[4:]: int(num(m, k)) for k in m if k.startswith("hwm_")}
    s["rss0"] = {k[5:]: int(num(m, k)) for k in m if k.startswith("rss0_")}
    # What the storm added to each daemon, per Pi (KiB).
    s["rss_per_pi"] = {k: (v - s["rss0"][k]) / s["pis"]
                       for k, v in s["rss"].items()
                       if k in s["rss0"] and s["pis"]}
    s["wall"] = num(m, "wall")
    # The Pi clients run on the same machine: their CPU is the harness's
    # share of what the machine had (cores x wall time).
    s["pis_cpu"] = num(m, "pis_cpu_ns") / 1e9
    s["machine_cpu"] = num(m, "ncpu") * s["wall"]
    s["crashed"] = int(num(m, "crashed"))
    # Failures by reason, numbers taken out so that alike ones group.
    why = {}
    for p in pis:
        if p["result"] != "ok":
            r = "%s: %s" % (p["phase"], re.sub(r"[0-9]+", "N",
                                               str(p["reason"])))
            why.setdefault(r, []).append(p["id"])
    s["why"] = why
    # Why attempts failed before a Pi's last one.
    tried = {}
    for ts in read_tries(d).values():
        for t in ts:
            r = "%s: %s" % (t["phase"], re.sub(r"[0-9]+", "N",
                                               str(t["reason"])))
            tried[r] = tried.get(r, 0) + 1
    s["try_why"] = tried
    bad = {}
    try:
        with open(os.path.join(d, "bad.txt")) as f:
            for line in f:
                kv = dict(w.split("=", 1) for w in line.split()[1:])
                bad[kv.pop("mode")] = kv
    except FileNotFoundError:
        pass
    s["bad"] = bad
    return s, pis


def cmd_summary(d):
    s, _ = summarize(d)
    print("storm name=%s set=%s pis=%d booted=%d failed=%d crashed=%d "
          "attempts_p50=%d attempts_p95=%d attempts_max=%d restarted=%d "
          "last_root=%.2f "
          "p50=%.2f p95=%.2f max=%.2f dhcp_p50=%.2f tftp_p50=%.2f "
          "nbd_p50=%.2f wall=%.1f cpu=%.2f cpu_per_pi=%.3f dup_data=%d "
          "dup_oack=%d rrq_retx=%d dhcp_retx=%d srv_data=%d srv_retx=%d "
          "srv_tcp_retx=%d lost=%d backlog_drops=%d srv_rcvbuf_err=%d "
          "router_rcvbuf_err=%d pis_cpu=%.1f machine_cpu=%.1f" % (
              s["name"], s["set"], s["pis"], s["booted"], s["failed"],
              s["crashed"], s["att_p50"], s["att_p95"], s["att_max"],
              s["restarted"], s["last_root"],
              s["p50"], s["p95"], s["max"], s["dhcp_p50"],
              s["tftp_p50"], s["nbd_p50"], s["wall"], s["cpu_total"],
              s["cpu_per_pi"], s["dup_data"], s["dup_oack"],
              s["rrq_retx"], s["dhcp_retx"], s["srv_data"], s["srv_retx"],
              s["srv_tcp_retx"], s["lost"], s["backlog_drops"],
              s["srv_rcvbuf_err"], s["router_rcvbuf_err"], s["pis_cpu"],
              s["machine_cpu"]))
    print("  socket drops: " + s["drops"])
    print("  cpu s: " + " ".join("%s=%.2f" % kv for kv in s["cpu"].items())
          + "; peak rss KiB: " + " ".join("%s=%d" % kv
                                          for kv in s["rss"].items())
          + "; idle rss KiB: " + " ".join("%s=%d" % kv
                                          for kv in s["rss0"].items())
          + "; KiB per Pi: " + " ".join("%s=%.1f" % kv
                                        for kv in s["rss_per_pi"].items()))
    for mode, kv in s["bad"].items():
        print("  bad host %s: %s" % (mode, " ".join(
            "%s=%s" % x for x in kv.items())))
    for r, ids in sorted(s["why"].items(), key=lambda x: -len(x[1])):
        print("  FAILED %d Pi(s) (%s): %s" % (
            len(ids), ",".join(str(i) for i in ids[:12]) +
            ("..." if len(ids) > 12 else ""), r))
    for r, n in sorted(s["try_why"].items(), key=lambda x: -x[1]):
        print("  restarted %d time(s) after: %s" % (n, r))


def cmd_writes(d, srv, writes):
    """Each booted Pi's chunks, as pi-boot writes them: chunk k at the
    scratch area (last 4 MiB of partition 2) + k * 64 KiB, 4 KiB x (1 +
    (k * 7 + serial) % 16) bytes of "SERIAL chunk KKKK\\n" repeated."""
    writes = min(int(writes), 64)
    bad = checked = 0
    for p in read_pis(d):
        if p["result"] != "ok":
            continue
        serial = int(p["serial"], 16)
        name = p["serial"]
        with open(os.path.join(srv, "pi-%s.img" % name), "rb") as f:
            mbr = f.read(512)
            start, size = struct.unpack_from("<II", mbr, 446 + 16 + 8)
            base = (start + size) * 512 - (4 << 20)
            for k in range(writes):
                n = 4096 * (1 + (k * 7 + serial) % 16)
                rec = ("%s chunk %04d\n" % (name, k % 10000)).encode()
                want = (rec * (n // len(rec) + 1))[:n]
                f.seek(base + k * 65536)
                if f.read(n) != want:
                    print("pi %s: chunk %d is not in its image" % (
                        p["id"], k))
                    bad += 1
                checked += 1
    print("writes checked=%d bad=%d" % (checked, bad))
    return 1 if bad else 0


# The memory each daemon's man page states it needs per Pi (KiB): a
# lock-step transfer for tftpd, a connection for nbdd. dhcpproxyd's does
# not grow with Pis: what the whole storm may add to it (its table of
# recent clients, touched) is FIXED_KIB.
PER_PI_KIB = {"tftpd": 256, "nbdd": 768}
FIXED_KIB = {"dhcpproxyd": 64}


def memory_verdicts(s):
    """(daemon, figure, bound, ok) for each of our daemons measured."""
    out = []
    for d, bound in PER_PI_KIB.items():
        if d in s["rss_per_pi"]:
            v = s["rss_per_pi"][d]
            out.append((d, "%.0f KiB per Pi" % v,
                        "%d KiB per Pi" % bound, v <= bound))
    for d, bound in FIXED_KIB.items():
        if d in s["rss"] and d in s["rss0"]:
            v = s["rss"][d] - s["rss0"][d]
            out.append((d, "%d KiB in all" % v, "%d KiB in all" % bound,
                        v <= bound))
    return out


def cmd_memory(d):
    """Exit 1 when a daemon took more memory than its man page says."""
    s, _ = summarize(d)
    verdicts = memory_verdicts(s)
    for d_, fig, bound, ok in verdicts:
        print("%s: %s (peak %d KiB, idle %d KiB); its man page: at most "
              "%s: %s" % (d_, fig, s["rss"][d_], s["rss0"][d_], bound,
                          "ok" if ok else "OVER"))
    if len(verdicts) != len(PER_PI_KIB) + len(FIXED_KIB):
        print("memory figures missing in %s" % d)
        return 1
    return 0 if all(v[3] for v in verdicts) else 1


def ratio(a, b):
    if not b or b != b or a != a:
        return "-"
    return "%.2fx" % (a / b)


def targets_storms(out, scen, loss):
    """Summaries of one scenario's storms that exist, by name."""
    d = os.path.join(out, scen)
    got = {}
    for name in ("lone-0", "lone-%s" % loss, "ours-0", "comp-0",
                 "ours-%s" % loss, "comp-%s" % loss):
        if os.path.exists(os.path.join(d, name, "pis.txt")):
            got[name] = summarize(os.path.join(d, name))[0]
    return got


def fmt_s(v):
    return "never" if v != v or v == float("inf") else "%.1f" % v


def cmd_targets(out, loss):
    """The issue's table: each target, ours beside the composition."""
    met = lambda ok: "met" if ok else "NOT MET"
    lo = "%g%%" % (int(loss) / 10)
    print()
    print("Boot storm targets: ours beside the composition (dnsmasq + "
          "nbd-server), same scenario")
    for scen, label in (("link", "link-bound"), ("head", "headline")):
        st = targets_storms(out, scen, loss)
        if "ours-0" not in st:
            continue
        o0 = st["ours-0"]
        meta = read_meta(os.path.join(out, scen, "ours-0"))
        print()
        print("%s: %d Pis, server link %s, real file sizes, bad hosts %s, "
              "storm deadline %s s" % (label, o0["pis"], meta.get("rate"),
                                       "on" if meta.get("bad") == "1" else
                                       "off", meta.get("deadline")))
        rows = []
        for l in ("0", loss):
            o, c = st.get("ours-" + l), st.get("comp-" + l)
            if o is None:
                continue
            lone = st.get("lone-" + l)
            ideal = o["need_bytes"] / o["rate_bps"] \
                if o["rate_bps"] == o["rate_bps"] else float("nan")
            rows.append((l, o, c, lone, ideal))
        for l, o, c, lone, ideal in rows:
            print("  %s: the bytes every Pi needs over the link (TFTP and "
                  "NBD payload, %.0f MB) take %.1f s at %s%s" % (
                      "loss-free" if l == "0" else lo + " loss each way",
                      o["need_bytes"] / 1e6, ideal, meta.get("rate"),
                      "; a lone Pi boots in %s s" % fmt_s(lone["last_root"])
                      if lone else ""))
        print("  %-36s %-30s %s" % ("", "loss-free", lo + " loss each way"))
        print("  %-36s %7s %7s  %-13s %7s %7s  %s" % (
            "", "ours", "comp", "target", "ours", "comp", "target"))
        cells = {}
        for l, o, c, lone, ideal in rows:
            cv = lambda k, f: f(c[k]) if c else "-"
            at = ("%d" % o["booted"], cv("booted", lambda v: "%d" % v),
                  "all %d: %s" % (o["pis"], met(o["failed"] == 0)))
            if scen == "link":
                bound = 1.25 * ideal + (lone["last_root"] if lone else 0)
                last = (fmt_s(o["last_root"]), cv("last_root", fmt_s),
                        "<= %.0f: %s" % (bound, met(o["last_root"] <= bound
                                                     and lone is not None)))
            else:
                last = (fmt_s(o["last_root"]), cv("last_root", fmt_s), "")
            attempts = lambda s: "%d/%d/%d" % (s["att_p50"], s["att_p95"],
                                               s["att_max"])
            att = (attempts(o), attempts(c) if c else "-",
                   "p95 <= 2: %s" % met(o["att_p95"] <= 2))
            cells[l] = (at, last, att)
        for i, label in enumerate(("Pis at root within the deadline",
                                   "time until the last Pi at root, s",
                                   "boot attempts per Pi, p50/p95/max")):
            line = "  %-36s" % label
            for l in ("0", loss):
                if l in cells:
                    a, b, t = cells[l][i]
                    line += " %7s %7s  %-13s" % (a, b, t)
            print(line.rstrip())
    # Make check's storm and a lone Pi, ours against BEFORE's daemons.
    d = os.path.join(out, "check")
    if os.path.isdir(d):
        runs = sorted(os.listdir(d))
        med = lambda xs: pct(xs, 50) if xs else float("nan")
        fig = {}
        for kind in ("lone-ours", "lone-before", "ours", "before"):
            xs = []
            for r in runs:
                if re.fullmatch(kind + r"-[0-9]+", r):
                    sm = summarize(os.path.join(d, r))[0]
                    if sm["booted"] > 0:
                        xs.append(sm["p50"])
            fig[kind] = (med(xs), len(xs))
        print()
        print("make check's storm (20 Pis, small files, 1%% loss, 1 Gbit/s) "
              "and a lone Pi: time to root p50, medians of %d interleaved "
              "runs" % fig["ours"][1])
        print("  %-36s %7s %7s  %s" % ("", "ours", "before", "target"))
        for label, a, b in (("a lone Pi, s", "lone-ours", "lone-before"),
                            ("20 Pis, p50, s", "ours", "before")):
            o, bf = fig[a][0], fig[b][0]
            ok = "-" if bf != bf else "no slower (5%%): %s, %.2fx" % (
                met(o <= bf * 1.05), o / bf)
            print("  %-36s %7s %7s  %s" % (label, fmt_s(o), fmt_s(bf), ok))
        if fig["before"][1] == 0:
            print("  (before: make bench BEFORE=REV runs REV's daemons "
                  "beside ours)")


def cmd_table(d_o0, d_c0, d_o1, d_c1):
    o0, c0, o1, c1 = (summarize(d)[0] for d in (d_o0, d_c0, d_o1, d_c1))
    lo = lambda s: "%g%%" % (s["loss_pm"] / 10)
    print()
    print("Boot storm: %d Pis powered on at once, server link %s, "
          "bad hosts %s" % (o0["pis"], read_meta(d_o0).get("rate"),
                            "on" if read_meta(d_o0).get("bad") == "1"
                            else "off"))
    hdr = "%-34s %9s %9s %8s   %9s %9s %8s" % (
        "", "ours", "comp", "ratio", "ours", "comp", "ratio")
    print("%-34s %29s   %29s" % ("", "loss " + lo(o0) + " each way",
                                  "loss " + lo(o1) + " each way"))
    print(hdr)

    def row(label, key, fmt="%.2f", sub=None):
        vals = []
        for s in (o0, c0, o1, c1):
            v = s[key] if sub is None else s[key].get(sub, 0)
            vals.append(v)
        f = lambda v: (fmt % v) if v == v else "-"
        print("%-34s %9s %9s %8s   %9s %9s %8s" % (
            label, f(vals[0]), f(vals[1]), ratio(vals[0], vals[1]),
            f(vals[2]), f(vals[3]), ratio(vals[2], vals[3])))

    row("failed boots", "failed", "%d")
    row("time to root p50, s (booted Pis)", "p50")
    row("time to root p95, s (booted Pis)", "p95")
    row("time to root max, s (booted Pis)", "max")
    row("  DHCP p50, s", "dhcp_p50")
    row("  TFTP p50, s", "tftp_p50")
    row("  NBD p50, s", "nbd_p50")
    row("DATA retransmitted (server count)", "srv_retx", "%d")
    row("duplicate DATA seen by the Pis", "dup_data", "%d")
    row("RRQs the Pis sent again", "rrq_retx", "%d")
    row("DHCP packets the Pis sent again", "dhcp_retx", "%d")
    row("server TCP segments retransmitted", "srv_tcp_retx", "%d")
    row("server CPU s, all daemons", "cpu_total")
    row("server CPU s per booted Pi", "cpu_per_pi", "%.3f")
    row("GiB the Pis received and wrote", "gib")
    row("server CPU s per GiB", "cpu_per_gib")
    row("the Pi clients' CPU s (harness)", "pis_cpu", "%.1f")
    row("CPU s the machine had (cores x wall)", "machine_cpu", "%.1f")
    print("%-34s %s" % ("peak RSS, KiB (loss-free / loss)", ""))
    for k in ("dhcpproxyd", "tftpd", "nbdd"):
        print("  %-32s %9s %9s %8s   %9s" % (
            k, o0["rss"].get(k, "-"), "", "", o1["rss"].get(k, "-")))
    for k in ("dnsmasq", "nbd-server"):
        print("  %-32s %9s %9s %8s   %9s %9s" % (
            k + " (all processes)", "", c0["rss"].get(k, "-"), "", "",
            c1["rss"].get(k, "-")))
    print("  %-32s %9d %9d %8s   %9d %9d %8s" % (
        "sum", sum(o0["rss"].values()), sum(c0["rss"].values()),
        ratio(sum(o0["rss"].values()), sum(c0["rss"].values())),
        sum(o1["rss"].values()), sum(c1["rss"].values()),
        ratio(sum(o1["rss"].values()), sum(c1["rss"].values()))))
    print("%-34s %s" % ("memory per Pi, KiB: (peak-idle)/Pis", ""))
    for k in ("dhcpproxyd", "tftpd", "nbdd", "dnsmasq", "nbd-server"):
        f = lambda st: "%.1f" % st["rss_per_pi"][k] \
            if k in st["rss_per_pi"] else ""
        print("  %-32s %9s %9s %8s   %9s %9s" % (
            k, f(o0), f(c0), "", f(o1), f(c1)))
    print("%-34s %9.1f %9.1f %8s   %9.1f %9.1f" % (
        "storm wall time, s", o0["wall"], c0["wall"], "", o1["wall"],
        c1["wall"]))
    print("%-34s %9d %9d %8s   %9d %9d" % (
        "packets lost on the Pis' links", o0["lost"], c0["lost"], "",
        o1["lost"], c1["lost"]))
    print("%-34s %9d %9d %8s   %9d %9d" % (
        "dropped by the machine's backlog", o0["backlog_drops"],
        c0["backlog_drops"], "", o1["backlog_drops"], c1["backlog_drops"]))
    print()
    print("Targets (issue 13)                  ours loss-free       ours %s" %
          lo(o1))
    met = lambda ok: "met" if ok else "NOT MET"
    print("  zero failed boots                 %-20s %s" % (
        "%d: %s" % (o0["failed"], met(o0["failed"] == 0)),
        "%d: %s" % (o1["failed"], met(o1["failed"] == 0))))
    def spread(s):
        if s["p50_all"] == float("inf"):
            return "p50 never: NOT MET"
        r = s["p95_all"] / s["p50_all"]
        return "%s: %s" % ("%.2fx" % r if r != float("inf") else
                           "p95 never", met(r <= 1.5))
    print("  p95 <= 1.5 x p50 (every Pi)       %-20s %s" % (spread(o0),
                                                           spread(o1)))
    r = o1["p50_all"] / o0["p50_all"]
    print("  p50 with loss <= 1.5 x loss-free  %s" % (
        "%.2fx: %s" % (r, met(r <= 1.5)) if r == r and r != float("inf")
        else "-: NOT MET (the median Pi never reached its root)"))
    v1 = {v[0]: v for v in memory_verdicts(o1)}
    for d_, fig, bound, ok in memory_verdicts(o0):
        b = v1.get(d_)
        print("  %-33s %-20s %s" % (
            "%s <= %s" % (d_, bound), "%s: %s" % (fig, met(ok)),
            "%s: %s" % (b[1], met(b[3])) if b else "-"))
    for s, c in ((o0, c0), (o1, c1)):
        r = s["cpu_per_pi"] / c["cpu_per_pi"] if s["booted"] and \
            c["booted"] else float("nan")
        print("  CPU per booted Pi <= 0.5 x comp   %s: %s" % (
            lo(s), "%.2fx: %s" % (r, met(r <= 0.5)) if r == r else
            "- (a set booted no Pi)"))
    print()
    for s in (o0, c0, o1, c1):
        for r, ids in sorted(s["why"].items(), key=lambda x: -len(x[1])):
            print("  %s: %d Pi(s) failed, %s" % (s["name"], len(ids), r))


# What the plot draws of each boot attempt: (label, start key, end key,
# colour). TFTP is drawn in two parts: the boot files up to the kernel's
# first block (a Pi waiting its turn under overload spends its time
# there), then the kernel and the initramfs.
SEGMENTS = (("DHCP", "dhcp_start", "dhcp_end", "#4477aa"),
            ("TFTP until the kernel", "tftp_start", "kernel_start",
             "#f6c08a"),
            ("TFTP kernel, initramfs", "kernel_start", "tftp_end",
             "#ee7733"),
            ("NBD", "nbd_start", "nbd_end", "#228833"))


def attempts(pis, tries):
    """Every attempt of every Pi: (id, fields, failed)."""
    for p in pis:
        for t in tries.get(p["id"], []):
            yield p["id"], t, True
        yield p["id"], p, p["result"] != "ok"


def segment(a, k0, k1):
    """The span of one segment of attempt a, or None."""
    s0, s1 = a.get(k0, -1), a.get(k1, -1)
    if k0 == "tftp_start" and (s1 is None or s1 < 0):
        s1 = a.get("tftp_end", -1)     # no kernel block: all of TFTP
    if s0 is None or s1 is None or s0 < 0 or s1 < 0:
        return None
    return s0, s1


def cmd_plot(png, dirs):
    runs = [(summarize(d), read_tries(d)) for d in dirs]
    xmax = 1.0
    for (s, pis), tries in runs:
        for _, a, _ in attempts(pis, tries):
            for k in ("dhcp_end", "tftp_end", "nbd_end"):
                xmax = max(xmax, a.get(k, 0) or 0)
    tmp = tempfile.mkdtemp()
    script = ["set terminal pngcairo size 1400,%d font ',10'" %
              (300 + 260 * len(runs) + 6 * sum(len(p) for (_, p), _ in
                                               runs)),
              "set output '%s'" % png,
              "set multiplot layout %d,1" % len(runs),
              "set xrange [0:%g]" % (xmax * 1.02),
              "set style fill solid 1.0 noborder",
              "set ytics out nomirror", "set grid xtics",
              "set key outside right top"]
    for i, ((s, pis), tries) in enumerate(runs):
        n = max(len(pis), 1)
        data = os.path.join(tmp, "run%d.dat" % i)
        with open(data, "w") as f:
            for _, k0, k1, _ in SEGMENTS:
                for pid, a, _ in attempts(pis, tries):
                    span = segment(a, k0, k1)
                    if span:
                        f.write("%d %.3f %.3f\n" % (pid, span[0], span[1]))
                # Never an empty block: gnuplot would not count it as an
                # index. (x = -1 is off the axis.)
                f.write("0 -1 -1\n\n\n")
            for pid, a, failed in attempts(pis, tries):
                if failed:
                    end = max(a.get(k, 0) or 0 for k in
                              ("dhcp_end", "tftp_end", "nbd_end"))
                    f.write("%d %.3f %.3f\n" % (pid, end, end))
            f.write("0 -1 -1\n")
        sec = lambda v: "%.1f s" % v if v == v and v != float("inf") \
            else "never"
        title = "%s (%s, loss %g%%, link %s): %d Pis, %d at root; the " \
                "last at root %s; attempts p95 %s; server CPU %.2f s" % (
                    s["name"], "ours" if s["set"] == "ours" else
                    "composition: dnsmasq + nbd-server", s["loss_pm"] / 10,
                    read_meta(dirs[i]).get("rate", "?"), s["pis"],
                    s["booted"], sec(s["last_root"]), s["att_p95"],
                    s["cpu_total"])
        script += ["set title \"%s\"" % title.replace('"', "'"),
                   "set yrange [%g:0.5] reverse" % (n + 0.5),
                   "set ylabel 'Pi'",
                   "set xlabel %s" % ("'seconds since power-on'"
                                      if i == len(runs) - 1 else "''")]
        plots = []
        for k, (label, _, _, col) in enumerate(SEGMENTS):
            plots.append("'%s' index %d using (($2+$3)/2):1:(($3-$2)/2):"
                         "(0.4) with boxxyerror lc rgb '%s' title '%s'" %
                         (data, k, col, label))
        plots.append("'%s' index %d using 2:1 with points pt 2 ps 1.2 "
                     "lc rgb '#cc0000' title 'attempt failed'" %
                     (data, len(SEGMENTS)))
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(tmp, "storm.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("gnuplot failed: " + r.stderr, file=sys.stderr)
        return 1
    print("storm plot: %s" % png)
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "summary":
        cmd_summary(args[0])
    elif cmd == "writes":
        sys.exit(cmd_writes(*args))
    elif cmd == "memory":
        sys.exit(cmd_memory(args[0]))
    elif cmd == "table":
        cmd_table(*args)
    elif cmd == "targets":
        cmd_targets(*args)
    elif cmd == "plot":
        sys.exit(cmd_plot(args[0], args[1:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
