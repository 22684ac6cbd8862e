#!/usr/bin/env bash
# The server's memory while it streams the programme's exports over a whole database (issue 33):
# starts `softland serve` on DB, downloads each export for every application in it as an
# administrator, and prints the bytes, the time and the server's resident memory before, at
# its peak (VmHWM) and after.
#
#   docs/perf/export-memory.sh 'sqlite:///tmp/growth/g.db?mode=rwc' [from] [to]
#
# A database `softland growth` loaded suits it (its applications are submitted from
# 2025-01-01). Uses the release binary (cargo build --release).
set -euo pipefail
db="$1"; from="${2:-2025-01-01}"; to="${3:-2026-12-31}"
bin="${CARGO_TARGET_DIR:-target}/release/softland"
port=18093
token=$("$bin" keys create --db "$db" --role admin --name export-memory | tail -n 1)
"$bin" serve --db "$db" --listen "127.0.0.1:$port" >/tmp/export-memory.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
rss() { awk -v k="$1" '$1 == k":" {print $2 / 1024 " MiB"}' "/proc/$server/status"; }
echo "idle: $(rss VmRSS)"
for export in applications.csv event-log.xes event-log.jsonocel; do
  start=$(date +%s.%N)
  bytes=$(curl -sf -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/reports/$export?from=$from&to=$to" | wc -c)
  took=$(echo "$(date +%s.%N) - $start" | bc)
  echo "$export: $bytes bytes in ${took} s; resident now $(rss VmRSS), peak so far $(rss VmHWM)"
done
