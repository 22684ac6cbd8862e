#!/usr/bin/env bash
# A highly available PostgreSQL cluster on loopback for softland's failover tests (issue
# "Failover"): etcd, PostgreSQL instances under Patroni with synchronous replication, and
# HAProxy sending connections to the current primary by Patroni's REST health check.
#
#   tests/ha/cluster.sh install          # etcd-server, haproxy (Debian), Patroni (PyPI, a venv)
#   tests/ha/cluster.sh start DIR [N]    # N PostgreSQL instances (default 2); prints the URL
#   tests/ha/cluster.sh stop DIR
#
# Faults, for the failover test (tests/e2e/failover.rs):
#   tests/ha/cluster.sh crash DIR        # kill -9 the primary's Patroni and postmaster; prints
#                                        # its name (the machine died)
#   tests/ha/cluster.sh revive DIR NAME  # starts NAME's Patroni again: it rejoins as a replica
#   tests/ha/cluster.sh switchover DIR   # asks Patroni to hand the primary role to the sync
#                                        # standby; prints the old primary's name
#   tests/ha/cluster.sh healthy DIR N    # waits until one leader and N-1 streaming replicas,
#                                        # one of them the synchronous standby
#
# Ports (loopback only): HAProxy 5440 (the primary), PostgreSQL 5441…, Patroni's REST API
# 8011…, etcd 23790 (clients) and 23800 (peers). PostgreSQL runs as the `postgres` user
# (initdb refuses root), trust authentication on 127.0.0.1.
set -euo pipefail

VENV=/opt/softland-ha
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PROXY_PORT=5440

install() {
  command -v etcd >/dev/null && command -v haproxy >/dev/null \
    || { export DEBIAN_FRONTEND=noninteractive
         apt-get install -y -q etcd-server haproxy >/dev/null 2>&1 \
           || { apt-get update -q && apt-get install -y -q etcd-server haproxy >/dev/null; }; }
  if [[ ! -x "$VENV/bin/patroni" ]]; then
    # Debian's own Python: the `postgres` user runs Patroni, and may not read root's.
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'patroni[etcd3]==4.1.5' 'psycopg[binary]==3.2.*'
  fi
}

node_config() { # DIR I N
  local dir="$1" i="$2" pg=$((5440 + $2)) rest=$((8010 + $2))
  cat <<YAML
scope: softland-ha
name: pg$i
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: [127.0.0.1:23790]
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
        max_connections: 200
  initdb: [{encoding: UTF8}, {locale: C.UTF-8}]
  pg_hba:
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
    - local all all trust
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $dir/pg$i
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass$i
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
  parameters:
    unix_socket_directories: $dir
tags: {nofailover: false, noloadbalance: false, clonefrom: false, nosync: false}
YAML
}

haproxy_config() { # N
  cat <<CFG
global
  maxconn 1000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 2s
listen primary
  bind 127.0.0.1:$PROXY_PORT
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
CFG
  for i in $(seq 1 "$1"); do
    echo "  server pg$i 127.0.0.1:$((5440 + i)) maxconn 500 check port $((8010 + i))"
  done
}

start() { # DIR N
  local dir="$1" n="${2:-2}"
  install
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  runuser -u postgres -- etcd --name softland-ha --data-dir "$dir/etcd" \
    --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster softland-ha=http://127.0.0.1:23800 --enable-v2=false \
    >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  for _ in $(seq 1 50); do
    curl -sf http://127.0.0.1:23790/health >/dev/null && break
    sleep 0.2
  done
  for i in $(seq 1 "$n"); do
    node_config "$dir" "$i" >"$dir/pg$i.yml"
    chown postgres:postgres "$dir/pg$i.yml"
    patroni "$dir" "pg$i"
  done
  haproxy_config "$n" >"$dir/haproxy.cfg"
  haproxy -f "$dir/haproxy.cfg" -D -p "$dir/haproxy.pid"
  # Ready: a primary answers through the proxy, and every replica streams from it.
  if healthy "$dir" "$n" 120; then
    echo "postgres://postgres@127.0.0.1:$PROXY_PORT"
  else
    echo "the cluster did not come up; logs in $dir" >&2
    return 1
  fi
}

members() { # DIR: the members as JSON
  "$VENV/bin/patronictl" -c "$1/pg1.yml" list -f json 2>/dev/null
}

leader() { # DIR: the primary's name (empty while there is none)
  members "$1" | python3 -c 'import json,sys; print(next((m["Member"] for m in json.load(sys.stdin) if m["Role"] == "Leader" and m["State"] == "running"), ""))' 2>/dev/null || true
}

healthy() { # DIR N [SECONDS]: a primary through the proxy, N-1 replicas streaming, one sync
  local dir="$1" n="$2" tries="${3:-120}"
  for _ in $(seq 1 "$tries"); do
    if psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null | grep -qx f \
      && [[ "$(members "$dir" | python3 -c '
import json, sys
ms = json.load(sys.stdin)
leaders = sum(1 for m in ms if m["Role"] == "Leader" and m["State"] == "running")
streaming = sum(1 for m in ms if m["Role"] != "Leader" and m["State"] == "streaming")
sync = any(m["Role"] == "Sync Standby" for m in ms)
print("ok" if leaders == 1 and streaming == len(ms) - 1 and (sync or len(ms) == 1) else "no")
' 2>/dev/null)" == ok && "$(members "$dir" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" == "$n" ]]; then
      return 0
    fi
    sleep 1
  done
  return 1
}

patroni() { # DIR NAME: starts NAME's Patroni
  local dir="$1" name="$2"
  runuser -u postgres -- "$VENV/bin/patroni" "$dir/$name.yml" >>"$dir/$name.log" 2>&1 &
}

crash() { # DIR: kill -9 the primary's Patroni and PostgreSQL
  local dir="$1" name
  name="$(leader "$dir")"
  [[ -n "$name" ]] || { echo "no primary to crash" >&2; return 1; }
  pkill -9 -f "bin/patroni $dir/$name.yml" || true
  kill -9 "$(head -1 "$dir/$name/postmaster.pid")"
  echo "$name"
}

switchover() { # DIR: the primary role to the synchronous standby
  local dir="$1" name
  name="$(leader "$dir")"
  [[ -n "$name" ]] || { echo "no primary to switch over from" >&2; return 1; }
  "$VENV/bin/patronictl" -c "$dir/pg1.yml" switchover --leader "$name" --force >/dev/null
  echo "$name"
}

stop() { # DIR
  local dir="$1"
  [[ -f "$dir/haproxy.pid" ]] && kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
  # Patroni stops its PostgreSQL first; then etcd (and the `runuser`s that started them).
  pkill -f "bin/patroni $dir/" 2>/dev/null || true
  for _ in $(seq 1 60); do
    pgrep -f "bin/patroni $dir/" >/dev/null || break
    sleep 0.5
  done
  pkill -f "etcd --name softland-ha --data-dir $dir/" 2>/dev/null || true
  for _ in $(seq 1 20); do
    pgrep -f "data-dir $dir/" >/dev/null || break
    sleep 0.25
  done
  pkill -9 -f "data-dir $dir/" 2>/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start "$2" "${3:-2}" ;;
  stop) stop "$2" ;;
  crash) crash "$2" ;;
  revive) patroni "$2" "$3" ;;
  switchover) switchover "$2" ;;
  healthy) healthy "$2" "$3" "${4:-120}" ;;
  *) echo "usage: $0 install | start DIR [N] | stop DIR | crash DIR | revive DIR NAME | switchover DIR | healthy DIR N [SECONDS]" >&2; exit 2 ;;
esac
