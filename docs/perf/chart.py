#!/usr/bin/env python3
"""Draws docs/perf/throughput-p99.svg from the JSON reports of `softland bench --json`.

Usage: python3 docs/perf/chart.py docs/perf/bench-*.json [-o docs/perf/throughput-p99.svg]

Two panels against client count: commands/s (with the raw database rate, dashed, where the
report has one) and the p99 latency of `act`. One line per database. Plain SVG, no libraries.
"""

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

COLORS = {"postgresql": "#1f6fb4", "sqlite": "#d9661f"}
W, H = 460, 300  # one panel
M = dict(left=64, right=16, top=36, bottom=48)


def backend(report):
    return "postgresql" if report["database"].startswith("postgres") else "sqlite"


def nice_max(v):
    if v <= 0:
        return 1
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def panel(x0, title, ylabel, series, clients, dashed=None):
    """series: {name: [(clients, value)]}; dashed: {name: [(clients, value)]}"""
    dashed = dashed or {}
    ymax = nice_max(max(v for s in list(series.values()) + list(dashed.values()) for _, v in s) * 1.05)
    pw, ph = W - M["left"] - M["right"], H - M["top"] - M["bottom"]
    lx = [math.log2(c) for c in clients]
    xmin, xmax = min(lx), max(lx) if max(lx) > min(lx) else min(lx) + 1

    def px(c):
        return x0 + M["left"] + (math.log2(c) - xmin) / (xmax - xmin) * pw

    def py(v):
        return M["top"] + ph - v / ymax * ph

    out = [f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">{title}</text>']
    for i in range(6):
        v = ymax * i / 5
        y = py(v)
        out.append(f'<line x1="{x0 + M["left"]}" y1="{y:.1f}" x2="{x0 + W - M["right"]}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + M["left"] - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for c in clients:
        out.append(f'<text x="{px(c):.1f}" y="{M["top"] + ph + 18}" text-anchor="middle">{c}</text>')
    out.append(f'<text x="{x0 + M["left"] + pw / 2}" y="{H - 8}" text-anchor="middle">concurrent clients</text>')
    out.append(
        f'<text transform="translate({x0 + 16},{M["top"] + ph / 2}) rotate(-90)" text-anchor="middle">{ylabel}</text>'
    )
    out.append(f'<rect x="{x0 + M["left"]}" y="{M["top"]}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    for name, pts, dash in [(n, p, False) for n, p in series.items()] + [(n, p, True) for n, p in dashed.items()]:
        pts = sorted(pts)
        color = COLORS.get(name, "#444")
        d = " ".join(f"{'M' if i == 0 else 'L'}{px(c):.1f},{py(v):.1f}" for i, (c, v) in enumerate(pts))
        extra = ' stroke-dasharray="5,4"' if dash else ""
        out.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"{extra}/>')
        if not dash:
            for c, v in pts:
                out.append(f'<circle cx="{px(c):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>')
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reports", nargs="+")
    ap.add_argument("-o", "--output", default=str(Path(__file__).with_name("throughput-p99.svg")))
    args = ap.parse_args()

    thr, raw, p99 = defaultdict(list), defaultdict(list), defaultdict(list)
    clients = set()
    for path in args.reports:
        r = json.loads(Path(path).read_text())
        b, c = backend(r), r["clients"]
        clients.add(c)
        thr[b].append((c, r["commands_per_second"]))
        act = next((o for o in r["operations"] if o["operation"] == "act"), None)
        if act:
            p99[b].append((c, act["p99_ms"]))
        rate = (r.get("raw") or {}).get("transactions_per_second")
        if rate:
            raw[b].append((c, rate))
    clients = sorted(clients)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H + 30}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    parts += panel(0, "Throughput over HTTP (dashed: raw database rate)", "commands / s", thr, clients, raw)
    parts += panel(W, "act latency, p99", "ms", p99, clients)
    x = M["left"]
    for name, color in COLORS.items():
        if name in thr:
            parts.append(f'<rect x="{x}" y="{H + 10}" width="14" height="4" fill="{color}"/>')
            parts.append(f'<text x="{x + 20}" y="{H + 16}">{name}</text>')
            x += 120
    parts.append("</svg>")
    Path(args.output).write_text("\n".join(parts) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
