#!/usr/bin/env python3
"""Turns the benchmark suite's raw results into docs/benchmarks/latest.md
(a Markdown table: metric, host, VXLAN, slim, ratios, the targets,
pass/miss) and latest.svg (the ratios to host networking as bars).

    bench_report.py RESULTS.tsv OUT.md OUT.svg

RESULTS.tsv is written by bench-suite.sh, one tab-separated record a line:
    R  PART  METRIC  PATH  VALUE    one measured value (one round)
    F  PART  PATH    REASON         PATH's numbers in PART are not valid
    M  KEY   VALUE                  run metadata (date, kernel, rounds...)
Only the standard library: the suite must run on a bare Debian 12.
"""
import statistics
import sys
from collections import defaultdict
from html import escape

CROSS = ("host", "vxlan", "slim", "slim-ipc")
SAME = ("host-local", "bridge-local", "slim-local", "slim-ipc-local")


class Results:
    """The parsed RESULTS.tsv: values[(part, metric, path)] = [floats],
    flags[(part, path)] = [reasons], meta[key] = value."""

    def __init__(self, path):
        self.values = defaultdict(list)
        self.flags = defaultdict(list)
        self.meta = {}
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                rec = line.rstrip("\n").split("\t")
                if rec[0] == "R" and len(rec) == 5:
                    self.values[(rec[1], rec[2], rec[3])].append(float(rec[4]))
                elif rec[0] == "F" and len(rec) == 4:
                    self.flags[(rec[1], rec[2])].append(rec[3])
                elif rec[0] == "M" and len(rec) == 3:
                    self.meta[rec[1]] = rec[2]
                elif line.strip():
                    raise SystemExit(f"bench_report.py: {path}:{n}: malformed record: {line!r}")

    def median(self, part, metric, path):
        """Median of the rounds, or None when nothing was measured."""
        v = self.values.get((part, metric, path))
        return statistics.median_low(v) if v else None

    def span(self, part, metric, path):
        v = self.values.get((part, metric, path))
        return (min(v), max(v)) if v else None

    def bad(self, part, path):
        return bool(self.flags.get((part, path)))


def fmt(x, digits):
    return "—" if x is None else f"{x:,.{digits}f}"


def cell(res, part, metric, path, digits):
    """'median (min–max)', or why there is no valid number."""
    if res.bad(part, path):
        why = res.flags[(part, path)][0]
        return "**FELL BACK**" if why.startswith("fell back") else "**INVALID**"
    m = res.median(part, metric, path)
    if m is None:
        return "—"
    lo, hi = res.span(part, metric, path)
    if lo == hi:
        return fmt(m, digits)
    return f"{fmt(m, digits)} ({fmt(lo, digits)}–{fmt(hi, digits)})"


def ratio(res, part, metric, path, base):
    """Median of path over median of base, or None if either is missing or
    flagged."""
    if res.bad(part, path) or res.bad(part, base):
        return None
    a, b = res.median(part, metric, path), res.median(part, metric, base)
    if a is None or not b:
        return None
    return a / b


def verdict(r, target):
    """Result column for ratio r against target ('>=0.97', '<=1.03', '<1024'
    or None = report only)."""
    if target is None:
        return "report"
    if r is None:
        return "no data"
    op = target[:2] if target[1] == "=" else target[:1]
    lim = float(target.lstrip("<>="))
    ok = {">=": r >= lim, "<=": r <= lim, "<": r < lim, ">": r > lim}[op]
    return "pass" if ok else "**miss**"


# Rows of the main table: (label, plot label, part, metric, digits, target).
PERF_ROWS = [
    ("Connection setup rate (conn/s)", "setup rate", "setup", "setup_rate", 0, ">=0.97"),
    ("Connection setup latency p50 (µs)", "setup p50", "setup", "setup_p50_us", 0, None),
    ("Connection setup latency p99 (µs)", "setup p99", "setup", "setup_p99_us", 0, None),
    ("Request/response latency p50 (µs)", "rr latency p50", "rr", "rr_p50_us", 1, "<=1.03"),
    ("Request/response latency p99 (µs)", "rr latency p99", "rr", "rr_p99_us", 1, "<=1.03"),
    ("Single-stream throughput (Mbit/s)", "throughput", "stream", "stream_mbit", 0, ">=0.97"),
    ("nginx, wrk `Connection: close` (req/s)", "nginx req/s", "nginx", "nginx_rps", 0, None),
    ("PostgreSQL `pgbench -C` (tps)", "pgbench -C tps", "pgbench", "pgbench_tps", 0, None),
]


# The metric each part records once per run (to count a flag's runs).
PART_METRIC = {"setup": "setup_rate", "rr": "rr_p50_us", "stream": "stream_mbit",
               "nginx": "nginx_rps", "pgbench": "pgbench_tps", "memory": "proc_pss_kib",
               "listeners": "setup_rate_l1", "mixed": "setup_rate"}


def target_text(t):
    return "report" if t is None else "slim/host " + t.replace(">=", "≥ ").replace("<=", "≤ ")


def perf_rows(res, paths, title, tag, rows, bars):
    """The table rows of one group of paths (host, vxlan, slim, slim-ipc
    roles); appends each row's ratios to bars for the plot."""
    out = [f"| **{title}** | | | | | | | |"]
    host, vx, slim, ipc = paths
    for label, short, part, metric, digits, target in rows:
        if not any(res.values.get((part, metric, p)) for p in paths):
            continue
        r = ratio(res, part, metric, slim, host)
        cells = [cell(res, part, metric, p, digits) for p in paths]
        rtxt = fmt(r, 2)
        ri = ratio(res, part, metric, slim, ipc)
        if ri is not None:
            rtxt += f" (vs slim-ipc {ri:.2f})"
        out.append(f"| {label} | " + " | ".join(cells) +
                   f" | {rtxt} | {target_text(target)} | {verdict(r, target)} |")
        bars.append((f"{short}, {tag}",
                     [(p, ratio(res, part, metric, p, host)) for p in (vx, slim, ipc)
                      if res.values.get((part, metric, p)) or res.bad(part, p)], target))
    return out


def listener_rows(res, bars):
    out = ["| **Connection setup with N listeners on the server host** | | | | | | | |"]
    metric = "setup_rate"
    have = False
    for n in (1, 100, 10000):
        m = f"{metric}_l{n}"
        if not any(res.values.get(("listeners", m, p)) for p in ("host", "slim")):
            continue
        have = True
        r = ratio(res, "listeners", m, "slim", "host")
        out.append(f"| setup rate, {n:,} listener{'s' if n > 1 else ''} (conn/s) | "
                   f"{cell(res, 'listeners', m, 'host', 0)} | — | "
                   f"{cell(res, 'listeners', m, 'slim', 0)} | — | {fmt(r, 2)} | report | report |")
    scale = {}
    for p in ("host", "slim"):
        a = res.median("listeners", f"{metric}_l10000", p)
        b = res.median("listeners", f"{metric}_l1", p)
        bad = res.bad("listeners", p)
        scale[p] = None if bad or a is None or not b else a / b
    if have and (scale["host"] is not None or scale["slim"] is not None):
        out.append(f"| setup rate, 10,000 vs 1 listener (ratio) | {fmt(scale['host'], 2)} | — | "
                   f"{fmt(scale['slim'], 2)} | — | — | slim ≥ 0.97 | "
                   f"{verdict(scale['slim'], '>=0.97')} |")
        bars.append(("setup rate, 10,000 vs 1 listener",
                     [("host", scale["host"]), ("slim", scale["slim"])], ">=0.97"))
    return out if have else []


def memory_rows(res):
    med = res.median
    out = []
    pss = (med("memory", "proc_pss_kib", "vxlan"), med("memory", "proc_pss_kib", "slim"))
    prv = (med("memory", "proc_private_kib", "vxlan"), med("memory", "proc_private_kib", "slim"))
    rss = (med("memory", "proc_rss_kib", "vxlan"), med("memory", "proc_rss_kib", "slim"))
    if pss[0] is not None and pss[1] is not None:
        bad = res.bad("memory", "slim")
        add = None if bad else pss[1] - pss[0]
        out.append("| **Memory** (KiB; without libslim in the VXLAN column, with it in the slim "
                   "column) | | | | | | | |")
        out.append(f"| idle process after one connection: Rss | — | {fmt(rss[0], 0)} | "
                   f"{fmt(rss[1], 0)} | — | +{fmt(None if bad else rss[1] - rss[0], 0)} | report | report |")
        out.append(f"| idle process after one connection: Private | — | {fmt(prv[0], 0)} | "
                   f"{fmt(prv[1], 0)} | — | +{fmt(None if bad else prv[1] - prv[0], 0)} | report | report |")
        fds = (med("memory", "proc_fds", "vxlan"), med("memory", "proc_fds", "slim"))
        if fds[0] is not None and fds[1] is not None:
            out.append(f"| idle process after one connection: open fds (pooled host sockets "
                       f"hold kernel memory not counted above) | — | {fmt(fds[0], 0)} | "
                       f"{fmt(fds[1], 0)} | — | +{fmt(fds[1] - fds[0], 0)} | report | report |")
        out.append(f"| idle process after one connection: Pss (libslim's cost) | — | "
                   f"{fmt(pss[0], 0)} | {'**FELL BACK**' if bad else fmt(pss[1], 0)} | — | "
                   f"+{fmt(add, 0)} | added < 1,024 | {verdict(add, '<1024')} |")
    r0 = med("memory", "router_rss_kib_l0", "slim")
    r1 = med("memory", "router_rss_kib_l10k", "slim")
    if r0 is not None and r1 is not None:
        p0 = med("memory", "router_pss_kib_l0", "slim")
        p1 = med("memory", "router_pss_kib_l10k", "slim")
        ms = med("memory", "listen_10k_ms", "slim")
        out.append(f"| slim-router Rss / Pss, no listeners | — | — | {fmt(r0, 0)} / {fmt(p0, 0)} | — "
                   f"| — | report | report |")
        out.append(f"| slim-router Rss / Pss, 10,000 listeners (registered in {fmt(ms, 0)} ms) | — | — "
                   f"| {fmt(r1, 0)} / {fmt(p1, 0)} | — | +{fmt(r1 - r0, 0)} Rss | report | report |")
    return out


# The mixed-peers table: (title, the container network's path, the mixed
# path, whether the targets apply). A plain client of a slim server crosses
# the same container network as the base path: its rows are reported only.
MIXED = (("Cross host, slim client → plain server (c1 on h1 → c2 on h2: vxlan / slim-plain)",
          "vxlan", "slim-plain", True),
         ("Cross host, plain client → slim server (vxlan / plain-slim)", "vxlan", "plain-slim",
          False),
         ("Same host, slim client → plain server (c1 → c3 on h1: bridge-local / "
          "slim-plain-local)", "bridge-local", "slim-plain-local", True),
         ("Same host, plain client → slim server (bridge-local / plain-slim-local)",
          "bridge-local", "plain-slim-local", False))
# (label, part, metric, digits, target): pgbench -C is measured by the
# pgbench part, across hosts only.
MIXED_ROWS = [
    ("Connection setup rate (conn/s)", "mixed", "setup_rate", 0, ">=0.95"),
    ("Connection setup latency p50 (µs)", "mixed", "setup_p50_us", 0, None),
    ("Connection setup latency p99 (µs)", "mixed", "setup_p99_us", 0, None),
    ("Single-stream throughput (Mbit/s)", "mixed", "stream_mbit", 0, ">=0.95"),
    ("PostgreSQL `pgbench -C` (tps)", "pgbench", "pgbench_tps", 0, None),
]


def mixed_table(res):
    """The mixed-peers table: each mixed path against the container network
    it replaces or crosses (a plain client of the same plain server, or of a
    plain server where the mixed path's server is slim)."""
    out = []
    for title, plain, mixed, targets in MIXED:
        rows = []
        for label, part, metric, digits, target in MIXED_ROWS:
            if not res.values.get((part, metric, mixed)) and not res.bad(part, mixed):
                continue
            target = target if targets else None
            r = ratio(res, part, metric, mixed, plain)
            t = "report" if target is None else "mixed / plain " + target.replace(">=", "≥ ")
            rows.append(f"| {label} | {cell(res, part, metric, plain, digits)} | "
                        f"{cell(res, part, metric, mixed, digits)} | {fmt(r, 2)} | {t} | "
                        f"{verdict(r, target)} |")
        if rows:
            out.append(f"| **{title}** | | | | | |")
            out += rows
    if not out:
        return ""
    return ("## Mixed peers\n\n"
            "A slim client of a plain server (the destination host translates the slim client's "
            "connection into the container network) and a plain client of a slim server (over "
            "the container network to the listener's container side): docs/architecture.md, "
            "\"Mixed peers\". Each against plain peers over the same container network "
            "(VXLAN across hosts, the bridge on one host).\n\n"
            "| metric | plain client, plain server | mixed | mixed / plain | target | result |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(out) + "\n\n")


def svg(bars, meta, path):
    """Horizontal grouped bars: each metric's ratio to host per path, a line
    at 1.0 and a tick at the target."""
    colors = {"vxlan": "#9e9e9e", "bridge-local": "#9e9e9e", "slim": "#1f77b4",
              "slim-local": "#1f77b4", "slim-ipc": "#aec7e8", "slim-ipc-local": "#aec7e8",
              "host": "#555555"}
    # A path with no valid ratio keeps its slot, labelled, when another path
    # of the row has one (slim flagged as FELL BACK/INVALID must show).
    bars = [b for b in bars if any(r is not None for _, r in b[1])]
    left, width, bh, gap, top = 230, 560, 11, 10, 50
    xmax = max([1.2] + [r for _, vals, _ in bars for _, r in vals if r is not None])
    xmax = min(xmax, 3.0)
    height = top + sum(len(v) * bh + gap for _, v, _ in bars) + 50

    def x(r):
        return left + width * min(r, xmax) / xmax

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="100%" height="100%" fill="white"/>',
         f'<text x="10" y="18" font-size="14" font-weight="bold">slim benchmark suite: ratio to '
         f'host networking (median of {escape(meta.get("rounds", "?"))} rounds)</text>',
         f'<text x="10" y="34" fill="#555">{escape(meta.get("date", ""))}, kernel '
         f'{escape(meta.get("kernel", ""))}, {escape(meta.get("machine", ""))}. Latency rows: '
         f'lower is better; other rows: higher is better. | = target</text>']
    y = top
    for label, vals, target in bars:
        gh = len(vals) * bh
        o.append(f'<text x="{left - 6}" y="{y + gh / 2 + 4}" text-anchor="end">{escape(label)}</text>')
        for p, r in vals:
            if r is None:
                o.append(f'<text x="{left + 3}" y="{y + bh - 2}" font-size="9" fill="#d62728">'
                         f'{escape(p)}: no valid value (see the table)</text>')
                y += bh
                continue
            o.append(f'<rect x="{left}" y="{y}" width="{x(r) - left:.1f}" height="{bh - 1}" '
                     f'fill="{colors.get(p, "#333")}"><title>{escape(p)}: {r:.3f}</title></rect>')
            o.append(f'<text x="{x(r) + 3:.1f}" y="{y + bh - 2}" font-size="9">{escape(p)} '
                     f'{r:.2f}</text>')
            y += bh
        if target and target[0] in "<>":
            tx = x(float(target.lstrip("<>=")))
            o.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - gh - 2}" y2="{y + 1}" '
                     f'stroke="#d62728" stroke-width="2"/>')
        y += gap
    o.append(f'<line x1="{x(1.0):.1f}" x2="{x(1.0):.1f}" y1="{top - 6}" y2="{y}" stroke="black" '
             f'stroke-dasharray="4,3"/>')
    for t in (0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        if t <= xmax:
            o.append(f'<text x="{x(t):.1f}" y="{y + 14}" text-anchor="middle">{t:.1f}x</text>')
    o.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: bench_report.py RESULTS.tsv OUT.md OUT.svg")
    res = Results(sys.argv[1])
    meta = res.meta
    bars = []
    rows = ["| metric | host | VXLAN | slim | slim-ipc | slim / host | target | result |",
            "|---|---|---|---|---|---|---|---|"]
    rows += perf_rows(res, CROSS, "Cross host (c1 on h1 → c2 on h2)", "cross host", PERF_ROWS,
                      bars)
    rows += perf_rows(res, SAME, "Same host (c1 → c3 on h1; columns: host loopback, bridge, slim, "
                      "slim-ipc)", "same host", PERF_ROWS[:6], bars)
    rows += listener_rows(res, bars)
    rows += memory_rows(res)
    flags = []
    for (part, path), whys in sorted(res.flags.items()):
        rounds = len(res.values.get((part, PART_METRIC.get(part, ""), path), [])) or "?"
        for why in dict.fromkeys(w.strip() for w in whys):
            n = sum(1 for w in whys if w.strip() == why)
            flags.append(f"- {part} / {path} ({n} of {rounds} runs): {why}")
    md = f"""# Benchmark suite, latest run

- date: {meta.get('date', '?')}
- machine: {meta.get('machine', '?')}, {meta.get('os', '?')}, kernel {meta.get('kernel', '?')}
- commit: {meta.get('commit', '?')} (plus the work tree's changes, if any)
- rounds: {meta.get('rounds', '?')}, paths alternated within each round; connection setup
  and applications {meta.get('seconds', '?')} s per run, the other parts
  {meta.get('seconds2', '?')} s per run; the whole suite took {meta.get('elapsed_s', '?')} s

Made by `bash scripts/bench.sh` (as root) (method and knobs: [README.md](README.md)).
Cells: median (min–max) over the rounds. "slim / host"
is the ratio of the medians (for the same-host rows: to host loopback); "vs slim-ipc" is
slim's fast path against the same slim with `SLIM_FASTPATH=0` (a router request per
connect, the per-connect router request path). Latency: lower is better; everything else: higher.

{chr(10).join(rows)}

"""
    md += mixed_table(res)
    if flags:
        md += ("**Not valid**, so shown as FELL BACK or INVALID above and given no ratio: a slim "
               "run that put packets on vxlan0 or c1's eth0 measured the container network, not "
               "slim; a run with errors measured something else than the work.\n\n"
               + "\n".join(flags) + "\n\n")
    else:
        md += "Every slim run was checked: no packet went over vxlan0 or c1's eth0.\n\n"
    md += ("![ratios to host networking](latest.svg)\n\n"
           "Raw values (one line per round): [latest.tsv](latest.tsv).\n")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(md)
    svg(bars, meta, sys.argv[3])


if __name__ == "__main__":
    main()
