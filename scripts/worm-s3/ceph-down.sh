#!/usr/bin/env bash
# ceph-down.sh [DIR] — stop the daemons that ceph-up.sh started in DIR (by the PIDs in DIR/pids,
# each verified to be a ceph process started with "-c DIR/ceph.conf") and remove DIR.
# DIR defaults to $WORM_S3_DIR, else the last DIR that ceph-up.sh used (${TMPDIR:-/tmp}/worm-s3.last).
# Idempotent: a missing DIR or already-dead daemons are not an error.
# WORM_S3_KEEP_DIR=1 stops the daemons but keeps DIR (logs) for inspection.
# Copied from the shared worm-s3 recipe (tools/worm-s3) alongside ceph-up.sh; behaviour unchanged.
set -euo pipefail

POINTER=${TMPDIR:-/tmp}/worm-s3.last
DIR=${1:-${WORM_S3_DIR:-$(cat "$POINTER" 2>/dev/null || true)}}
log() { printf 'ceph-down: %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

if [ -z "$DIR" ]; then log "no DIR given and no $POINTER; nothing to do"; exit 0; fi
if [ ! -d "$DIR" ]; then log "$DIR does not exist; nothing to do"; exit 0; fi
DIR=$(cd "$DIR" && pwd -P)
if [ ! -e "$DIR/.worm-s3" ]; then log "ERROR: $DIR has no .worm-s3 marker; refusing to touch it"; exit 1; fi
CONF=$DIR/ceph.conf
t0=$(now_ms)

# Collect live PIDs that really are our daemons (guards against PID reuse).
names=(); pids=()
for name in rgw osd.0 mon.a; do
  f=$DIR/pids/$name
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-c $CONF "; then
      names+=("$name"); pids+=("$pid")
    else
      log "pid $pid ($name) is not a daemon of $DIR any more; not touching it"
    fi
  fi
done

# Each daemon needs ~2 s to exit after SIGTERM. rgw goes first and alone (its shutdown talks to the osd
# and hangs if the osd is already gone), then osd + mon together (ceph.conf sets osd_mon_shutdown_timeout
# to 0.5 s so the osd does not wait 5 s for the mon's ack). 10 s grace per group, then SIGKILL.
rc=0
stop_group() {  # indexes into names/pids
  local i p live sel=() 
  for i in "$@"; do sel+=("${pids[$i]}"); done
  [ ${#sel[@]} -gt 0 ] || return 0
  kill -TERM "${sel[@]}" 2>/dev/null || true
  for _ in $(seq 100); do
    live=0; for p in "${sel[@]}"; do kill -0 "$p" 2>/dev/null && live=1; done
    [ "$live" = 0 ] && break; sleep 0.1
  done
  for i in "$@"; do
    p=${pids[$i]}
    if kill -0 "$p" 2>/dev/null; then
      log "${names[$i]} (pid $p) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$p" 2>/dev/null; then log "ERROR: ${names[$i]} (pid $p) still alive"; rc=1; continue; fi
    fi
    log "stopped ${names[$i]} (pid $p)"
  done
}
first=(); last=()
for i in "${!names[@]}"; do
  if [ "${names[$i]}" = rgw ]; then first+=("$i"); else last+=("$i"); fi
done
stop_group "${first[@]}"
stop_group "${last[@]}"

if [ "$rc" = 0 ]; then
  rm -f "$DIR"/pids/*
  if [ "${WORM_S3_KEEP_DIR:-0}" = 1 ]; then
    log "kept $DIR"
  else
    rm -rf -- "$DIR"
    log "removed $DIR"
  fi
  if [ "$(cat "$POINTER" 2>/dev/null || true)" = "$DIR" ]; then rm -f "$POINTER"; fi
fi
log "done in $(( $(now_ms) - t0 )) ms"
exit "$rc"
