#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server holding the PostgreSQL peer (#30), for
# benches/postgres.sh and the cross-check test (tests/clients/python/
# test_postgres_peer.py). Debian's `postgresql` package; PostgreSQL refuses
# to run as root, so as root the server runs as the `postgres` user
# (runuser) while psql and pgbench connect over loopback TCP.
#
#   peer.sh start PGDATA PORT      # initdb, start; prints the server's PID
#   peer.sh load PORT EXPORT.jsonl [PAIRS.csv]
#                                  # schema, records (`diplomacy export`),
#                                  # GetRelation's function, the bench's pairs
#   peer.sh stop PGDATA            # fast shutdown, by the PID it wrote
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
for tool in initdb postgres; do
  [ -x "$pg_bin/$tool" ] || {
    echo "error: PostgreSQL's $tool is missing (PG_BIN=${pg_bin:-unset}); install it with: apt-get install postgresql (as root)" >&2
    exit 1
  }
done
command -v psql >/dev/null || {
  echo "error: psql is missing; install it with: apt-get install postgresql-client" >&2
  exit 1
}

# Runs a command as the owner of the cluster: postgres when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

sql() {
  local port=$1
  shift
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

case ${1:-} in
  start)
    pgdata=${2:?usage: peer.sh start PGDATA PORT}
    port=${3:?usage: peer.sh start PGDATA PORT}
    mkdir -p "$pgdata"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$pgdata"
      # The owner must reach its data dir through the directories above it.
      parent=$(dirname "$pgdata")
      chmod o+x "$parent"
    fi
    as_owner "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust --no-sync \
      --encoding=UTF8 --locale=C >"$pgdata.initdb.log" 2>&1 || {
      cat "$pgdata.initdb.log" >&2
      exit 1
    }
    # Settings a PostgreSQL user would give a read-mostly database on this
    # machine: a buffer cache that holds it, no JIT for millisecond queries,
    # room for the bench's 64 connections.
    as_owner "$pg_bin/postgres" -D "$pgdata" -p "$port" -c listen_addresses=127.0.0.1 \
      -c unix_socket_directories= -c shared_buffers=512MB -c jit=off \
      -c max_connections=100 -c log_min_messages=warning \
      >"$pgdata.log" 2>&1 &
    for _ in $(seq 1 100); do
      if psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
        head -1 "$pgdata/postmaster.pid"
        exit 0
      fi
      sleep 0.1
    done
    echo "error: PostgreSQL did not start on port $port:" >&2
    cat "$pgdata.log" >&2
    exit 1
    ;;
  load)
    port=${2:?usage: peer.sh load PORT EXPORT.jsonl [PAIRS.csv]}
    records=${3:?usage: peer.sh load PORT EXPORT.jsonl [PAIRS.csv]}
    sql "$port" -f "$here/schema.sql"
    sql "$port" -c 'CREATE TABLE raw_record (doc jsonb NOT NULL)'
    # One JSON document a line: CSV with a quote and a delimiter no JSON
    # line holds, so that backslashes reach jsonb as they are.
    sql "$port" -c "\\copy raw_record (doc) FROM STDIN WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" <"$records"
    sql "$port" -f "$here/load.sql"
    sql "$port" -f "$here/relation.sql"
    if [ -n "${4:-}" ]; then
      sql "$port" -c "\\copy bench_pair FROM STDIN WITH (FORMAT csv)" <"$4"
      sql "$port" -c 'ANALYZE bench_pair'
    fi
    ;;
  stop)
    pgdata=${2:?usage: peer.sh stop PGDATA}
    [ -f "$pgdata/postmaster.pid" ] || exit 0
    pid=$(head -1 "$pgdata/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
  *)
    echo "usage: peer.sh start PGDATA PORT | load PORT EXPORT.jsonl [PAIRS.csv] | stop PGDATA" >&2
    exit 2
    ;;
esac
