#!/usr/bin/env bash
# A highly available PostgreSQL cluster on loopback for softland's failover tests (issue
# "Failover"): etcd, PostgreSQL instances under Patroni with synchronous replication, and
# HAProxy sending connections to the current primary by Patroni's REST health check.
#
#   tests/ha/cluster.sh install          # etcd-server, haproxy (Debian), Patroni (PyPI, a venv)
#   tests/ha/cluster.sh start DIR [N]    # N PostgreSQL instances (default 2); prints the URL
#   tests/ha/cluster.sh stop DIR
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
    || apt-get install -y -q etcd-server haproxy >/dev/null
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
    ttl: 10
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
    runuser -u postgres -- "$VENV/bin/patroni" "$dir/pg$i.yml" >"$dir/pg$i.log" 2>&1 &
    echo $! >"$dir/patroni$i.pid"
  done
  haproxy_config "$n" >"$dir/haproxy.cfg"
  haproxy -f "$dir/haproxy.cfg" -D -p "$dir/haproxy.pid"
  # Ready: a primary answers through the proxy, and every replica streams from it.
  for _ in $(seq 1 120); do
    if psql -h 127.0.0.1 -p "$PROXY_PORT" -U postgres -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null | grep -qx f \
      && [[ "$("$VENV/bin/patronictl" -c "$dir/pg1.yml" list -f json 2>/dev/null \
        | python3 -c 'import json,sys; print(sum(1 for m in json.load(sys.stdin) if m["State"] in ("running","streaming")))')" == "$n" ]]; then
      echo "postgres://postgres@127.0.0.1:$PROXY_PORT"
      return 0
    fi
    sleep 1
  done
  echo "the cluster did not come up; logs in $dir" >&2
  return 1
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
  *) echo "usage: $0 install | start DIR [N] | stop DIR" >&2; exit 2 ;;
esac
