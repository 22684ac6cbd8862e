#!/usr/bin/env bash
# What softland writes to PostgreSQL's WAL per command (issue "Speed"): runs `softland bench` on
# a scratch database of the local cluster and reads the WAL of the run with `pg_waldump
# --stats=record`, divided by the commands the bench made. Counts, not times: the same build
# and workload give the same figures on a busy machine. Run it when nothing else writes to the
# cluster (the WAL is the whole cluster's).
#
#   docs/perf/wal.sh [softland binary] [lifecycles] [clients]
#   docs/perf/wal.sh target/release/softland 300 4
#
# Prints WAL records, bytes, heap inserts and (HOT) updates, and B-tree index entries per
# command, then the record types that make them.
set -euo pipefail

BIN="${1:-${CARGO_TARGET_DIR:-target}/release/softland}"
LIFECYCLES="${2:-300}"
CLIENTS="${3:-4}"
URL="${SOFTLAND_PG:-postgres://postgres@127.0.0.1:5432}"
DB=softland_wal
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
WAL_DIR="$(psql "$URL/test" -Atc 'SHOW data_directory')/pg_wal"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

psql "$URL/test" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
"$BIN" migrate --db "$URL/$DB" >/dev/null
# The bench's server seeds its directory and publishes the workflows first; the WAL counted
# starts after a warm-up lifecycle run, so only lifecycles' commands are in it.
"$BIN" bench --db "$URL/$DB" --lifecycles 20 --clients "$CLIENTS" --raw-seconds 0 --json >/dev/null
psql "$URL/$DB" -qc CHECKPOINT
start="$(psql "$URL/$DB" -Atc 'SELECT pg_current_wal_insert_lsn()')"
"$BIN" bench --db "$URL/$DB" --lifecycles "$LIFECYCLES" --clients "$CLIENTS" --raw-seconds 0 --json >"$OUT/bench.json"
end="$(psql "$URL/$DB" -Atc 'SELECT pg_current_wal_insert_lsn()')"
"$PG_BIN/pg_waldump" --stats=record -p "$WAL_DIR" -s "$start" -e "$end" >"$OUT/stats.txt" 2>/dev/null || true
# Index entries per index: each B-tree leaf insert names its relation's file node.
"$PG_BIN/pg_waldump" -r Btree -p "$WAL_DIR" -s "$start" -e "$end" 2>/dev/null \
  | grep -o 'INSERT_LEAF.*rel [0-9]*/[0-9]*/[0-9]*' | grep -o '[0-9]*$' | sort | uniq -c >"$OUT/leaf.txt" || true
psql "$URL/$DB" -Atc "SELECT relfilenode, relname FROM pg_class WHERE relkind = 'i'" >"$OUT/names.txt"

python3 - "$OUT/bench.json" "$OUT/stats.txt" "$OUT/leaf.txt" "$OUT/names.txt" <<'EOF'
import json, re, sys
bench = json.load(open(sys.argv[1]))
commands = bench.get("commands") or sum(o.get("count", 0) for o in bench.get("operations", []))
rows = {}
total_n = total_b = 0
for line in open(sys.argv[2]):
    m = re.match(r"^(\S+/\S+)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)\s+\(\s*[\d.]+\)\s+(\d+)", line)
    if m:
        name, n, rec, fpi, comb = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))
        rows[name] = (n, comb)
    m = re.match(r"^Total\s+(\d+)\s+(\d+)\s+\[.*?\]\s+(\d+)\s+\[.*?\]\s+(\d+)", line)
    if m:
        total_n, total_b = int(m.group(1)), int(m.group(4))
def count(prefix, names):
    return sum(n for k, (n, _) in rows.items() if k.split("/")[0] == prefix and k.split("/")[1] in names)
btree = sum(n for k, (n, _) in rows.items() if k.startswith("Btree/INSERT"))
heap_ins = count("Heap", {"INSERT", "INSERT+INIT"}) + count("Heap2", {"MULTI_INSERT", "MULTI_INSERT+INIT"})
heap_upd = count("Heap", {"UPDATE", "UPDATE+INIT"})
hot = count("Heap", {"HOT_UPDATE", "HOT_UPDATE+INIT"})
heap_del = count("Heap", {"DELETE"})
per = lambda x: x / commands if commands else float("nan")
print(f"commands: {commands}")
print(f"per command: {per(total_n):.1f} WAL records, {per(total_b)/1024:.2f} KiB, "
      f"{per(btree):.1f} B-tree index entries, {per(heap_ins):.1f} heap inserts, "
      f"{per(heap_upd):.1f} updates (+{per(hot):.1f} HOT), {per(heap_del):.1f} deletes")
for k, (n, b) in sorted(rows.items(), key=lambda kv: -kv[1][0])[:14]:
    print(f"  {k:<28} {per(n):6.2f} records  {per(b):8.0f} B")
names = dict(l.strip().split("|", 1) for l in open(sys.argv[4]) if "|" in l)
print("index entries per command, by index:")
leaf = [l.split() for l in open(sys.argv[3]) if l.strip()]
for n, node in sorted(leaf, key=lambda x: -int(x[0])):
    if node in names:
        print(f"  {names[node]:<36} {per(int(n)):6.2f}")
EOF
