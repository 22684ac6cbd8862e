#!/usr/bin/env bash
# Compares softland builds at 16 clients, alternating them so that a slow or noisy moment of
# the machine hits every build alike. Each PostgreSQL run gets a fresh database (dropped after).
#
#   docs/perf/ab.sh 3 /tmp/softland-before /tmp/softland-after          # PostgreSQL
#   BACKEND=sqlite docs/perf/ab.sh 2 /tmp/softland-before /tmp/softland-after
#
# Prints, per run: build, commands/s, raw transactions/s, ratio (%), p99 per operation (ms).
#
# Build each binary in its own CARGO_TARGET_DIR (or `cargo clean --release -p …` every package of
# the workspace first): cargo keys a workspace's packages by their path inside the workspace, so
# two clones at different commits building into one target dir reuse each other's artifacts.
set -euo pipefail
cd "$(dirname "$0")/../.."
PG="${SOFTLAND_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
LIFECYCLES="${LIFECYCLES:-3000}"
CLIENTS="${CLIENTS:-16}"
BACKEND="${BACKEND:-postgresql}"
rounds="$1"; shift
report='import json,sys; r=json.load(sys.stdin); print(sys.argv[1], round(r["commands_per_second"]), round(r["raw"]["transactions_per_second"]), round(100*r["raw"]["ratio"],1), [round(o["p99_ms"],1) for o in r["operations"]])'
for i in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    if [[ "$BACKEND" == sqlite ]]; then
      "$bin" bench --lifecycles "$LIFECYCLES" --clients "$CLIENTS" --json 2>/dev/null | python3 -c "$report" "$(basename "$bin")"
      continue
    fi
    db="softland_ab_$$_$i"
    psql -q "$PG" -c "CREATE DATABASE $db"
    "$bin" bench --db "${PG%/*}/$db" --lifecycles "$LIFECYCLES" --clients "$CLIENTS" --json 2>/dev/null | python3 -c "$report" "$(basename "$bin")"
    psql -q "$PG" -c "DROP DATABASE $db WITH (FORCE)"
  done
done
