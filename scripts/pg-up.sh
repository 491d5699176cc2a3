#!/usr/bin/env bash
# pg-up.sh DIR [PORT] — a throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests.
# Prints KEY=VALUE lines (TEST_DATABASE_URL, KAKUNIN_PG_DIR). Stop it with pg-down.sh DIR.
# Runs the server as the `postgres` user when invoked as root (initdb refuses root).
set -euo pipefail
DIR=${1:?usage: pg-up.sh DIR [PORT]}
PORT=${2:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "pg-up: PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2
  exit 1
fi
mkdir -p "$DIR"
as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "'$BIN/initdb' -D '$DIR/data' -U postgres --auth=trust -E UTF8 --no-sync >'$DIR/initdb.log' 2>&1"
fi
# fsync off: test data is thrown away, and it makes CREATE DATABASE per test file cheap.
as_pg "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 30 \
  -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start >/dev/null"
echo "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
echo "KAKUNIN_PG_DIR=$DIR"
