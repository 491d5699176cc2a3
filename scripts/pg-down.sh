#!/usr/bin/env bash
# pg-down.sh DIR — stops the cluster pg-up.sh started in DIR and removes DIR.
set -uo pipefail
DIR=${1:?usage: pg-down.sh DIR}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -n "$BIN" ] && [ -f "$DIR/data/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "'$BIN/pg_ctl' -D '$DIR/data' -m fast -w stop" >/dev/null 2>&1
  else "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1; fi
fi
rm -rf "$DIR"
