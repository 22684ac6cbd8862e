#!/usr/bin/env python3
"""Prints the Markdown table of docs/PERFORMANCE.md from `softland bench --json` reports.

Usage: python3 docs/perf/table.py docs/perf/bench-*.json
"""

import json
import sys

rows = []
for path in sys.argv[1:]:
    r = json.load(open(path))
    ops = {o["operation"]: o for o in r["operations"]}
    raw = r.get("raw") or {}
    db = "PostgreSQL 15" if r["database"].startswith("postgres") else "SQLite (WAL, full sync)"
    rows.append((db, r["clients"], r, ops, raw))
rows.sort(key=lambda x: (x[0], x[1]))
print("| database | clients | lifecycles/s | commands/s | raw tx/s | ratio | act p50 / p95 / p99 (ms) | submit p99 (ms) | errors | server peak RSS |")
print("|---|---|---|---|---|---|---|---|---|---|")
for db, c, r, ops, raw in rows:
    a, s = ops["act"], ops["submit"]
    errors = sum(r["errors"].values()) if r["errors"] else "none"
    print(
        f"| {db} | {c} | {r['lifecycles_per_second']:.1f} | {r['commands_per_second']:.0f} "
        f"| {raw.get('transactions_per_second') or 0:.0f} | {100 * (raw.get('ratio') or 0):.0f}% "
        f"| {a['p50_ms']:.1f} / {a['p95_ms']:.1f} / {a['p99_ms']:.1f} | {s['p99_ms']:.1f} "
        f"| {errors} | {r['server_peak_rss_mib']:.1f} MiB |"
    )
