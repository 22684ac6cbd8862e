#!/usr/bin/env bash
# Runs `softland bench` at several client counts on SQLite and PostgreSQL, keeps each JSON
# report in docs/perf/, and draws docs/perf/throughput-p99.svg from them.
#
#   docs/perf/sweep.sh                                   # PostgreSQL at postgres://postgres@127.0.0.1:5432/test
#   SOFTLAND_BENCH_POSTGRES_URL=postgres://… LIFECYCLES=300 CLIENTS="1 4 16" BACKENDS=sqlite docs/perf/sweep.sh
#
# Each PostgreSQL run uses a fresh database created on that server (dropped afterwards).
set -euo pipefail
cd "$(dirname "$0")/../.."
PG="${SOFTLAND_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
LIFECYCLES="${LIFECYCLES:-300}"
CLIENTS="${CLIENTS:-1 4 8 16 32}"
RAW_SECONDS="${RAW_SECONDS:-10}"
BACKENDS="${BACKENDS:-sqlite postgresql}"
cargo build --release --locked
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/softland
base="${PG%/*}"
for c in $CLIENTS; do
  if [[ " $BACKENDS " == *" sqlite "* ]]; then
  echo "sqlite, $c clients" >&2
  "$bin" bench --lifecycles "$LIFECYCLES" --clients "$c" --raw-seconds "$RAW_SECONDS" --json > "docs/perf/bench-sqlite-$c.json" \
    || echo "warning: the SQLite run at $c clients reported errors (see its JSON)" >&2
  fi
  [[ " $BACKENDS " == *" postgresql "* ]] || continue
  db="softland_bench_$$_$c"
  psql -q "$PG" -c "CREATE DATABASE $db"
  echo "postgresql, $c clients" >&2
  "$bin" bench --db "$base/$db" --lifecycles "$LIFECYCLES" --clients "$c" --raw-seconds "$RAW_SECONDS" --json > "docs/perf/bench-postgresql-$c.json" \
    || echo "warning: the PostgreSQL run at $c clients reported errors (see its JSON)" >&2
  psql -q "$PG" -c "DROP DATABASE $db WITH (FORCE)"
done
python3 docs/perf/chart.py docs/perf/bench-*.json
python3 docs/perf/table.py docs/perf/bench-*.json
