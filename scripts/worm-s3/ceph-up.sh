#!/usr/bin/env bash
# ceph-up.sh [DIR] — start a throwaway, single-node Ceph RGW (real S3 with
# Object Lock / WORM) bound to 127.0.0.1 only, for the archive e2e tests
# (test/archive-s3.test.ts). Copied from the shared worm-s3 recipe
# (tools/worm-s3, tested with aws4fetch 1.0.20 on Node 20) so CI does not
# depend on anything outside this repository; behaviour unchanged.
#
#   mon (1) + osd (1, memstore: data lives in RAM) + radosgw (beast frontend)
#
# * Installs Debian's ceph-mon ceph-osd radosgw if missing (needs root or sudo).
# * Everything (conf, data, logs, pid files, sockets) lives under DIR
#   (default: a fresh mktemp dir). Nothing is written to /etc/ceph.
# * Progress goes to stderr; on success stdout gets KEY=VALUE lines that are
#   also written to DIR/env (shell-sourceable, dotenv-compatible).
# * On failure (or after WORM_S3_TIMEOUT seconds, default 60) it prints log
#   tails, stops the daemons it started and exits non-zero; DIR is kept for
#   inspection (remove it with ceph-down.sh DIR).
#
# Tunables (env): WORM_S3_PORT (7480) WORM_S3_MON_V2_PORT (3300)
#   WORM_S3_MON_V1_PORT (6789) WORM_S3_TIMEOUT (60) WORM_S3_ACCESS_KEY
#   WORM_S3_SECRET_KEY WORM_S3_MEM_BYTES (memstore cap, 1073741824)
#   WORM_S3_NO_INSTALL=1 (fail instead of apt-get installing)
# Stop it with ceph-down.sh DIR. See docs/archive.md ("Testing against Ceph").
set -Eeuo pipefail

S3_PORT=${WORM_S3_PORT:-7480}
MON_V2_PORT=${WORM_S3_MON_V2_PORT:-3300}
MON_V1_PORT=${WORM_S3_MON_V1_PORT:-6789}
TIMEOUT=${WORM_S3_TIMEOUT:-60}
ACCESS_KEY=${WORM_S3_ACCESS_KEY:-KAKUNINTESTACCESS}
SECRET_KEY=${WORM_S3_SECRET_KEY:-kakunin-test-secret-key-0000000000000000}
MEM_BYTES=${WORM_S3_MEM_BYTES:-1073741824}
REGION=us-east-1
HOST=127.0.0.1
POINTER=${TMPDIR:-/tmp}/worm-s3.last

log() { printf 'ceph-up: %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
T0=$(now_ms)
elapsed() { local t; t=$(now_ms); printf '%d.%03ds' $(((t - T0) / 1000)) $(((t - T0) % 1000)); }

# ---------------------------------------------------------------- install --
need_install=0
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
  command -v "$b" >/dev/null 2>&1 || need_install=1
done
if [ "$need_install" = 1 ]; then
  if [ "${WORM_S3_NO_INSTALL:-0}" = 1 ]; then
    log "ERROR: ceph binaries missing and WORM_S3_NO_INSTALL=1"; exit 1
  fi
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: need root (or sudo) to apt-get install ceph"; exit 1; }
    SUDO="sudo -n"
  fi
  log "installing ceph-mon ceph-osd radosgw (Debian packages) ..."
  ti=$(now_ms)
  apt_log=$(mktemp "${TMPDIR:-/tmp}/worm-s3-apt.XXXXXX")
  if ! { $SUDO apt-get update -q && \
         $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
           --no-install-recommends ceph-mon ceph-osd radosgw; } >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2; log "ERROR: apt-get install failed (full log: $apt_log)"; exit 1
  fi
  rm -f "$apt_log"
  log "installed in $(( ($(now_ms) - ti) / 1000 ))s"
fi

T0=$(now_ms)   # boot time is measured from here (install excluded)

# ------------------------------------------------------------------ ports --
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
for p in "$S3_PORT" "$MON_V2_PORT" "$MON_V1_PORT"; do
  if port_busy "$p"; then
    log "ERROR: $HOST:$p is already in use: $(ss -ltnpH "sport = :$p" 2>/dev/null | head -1 | tr -s ' ')"
    log "  a cluster left over from an earlier run? last DIR: $(cat "$POINTER" 2>/dev/null || echo none)"
    log "  stop it with: $(dirname "$0")/ceph-down.sh [DIR]   (or pick other ports: WORM_S3_PORT, WORM_S3_MON_V2_PORT, WORM_S3_MON_V1_PORT)"
    exit 1
  fi
done

# -------------------------------------------------------------------- dir --
if [ $# -ge 1 ] && [ -n "$1" ]; then
  DIR=$1
  mkdir -p "$DIR"
  if [ -n "$(ls -A "$DIR")" ]; then
    log "ERROR: $DIR is not empty (stale cluster? run ceph-down.sh $DIR first)"; exit 1
  fi
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/worm-s3.XXXXXX")
fi
DIR=$(cd "$DIR" && pwd -P)
CONF=$DIR/ceph.conf
: >"$DIR/.worm-s3"            # marker: ceph-down.sh only deletes dirs that have it
mkdir -p "$DIR/mon" "$DIR/osd/0" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/pids"
printf '%s\n' "$DIR" >"$POINTER"

STARTED=()   # names of daemons we started (pid files in $DIR/pids)

dump_logs() {
  local f
  for f in "$DIR"/log/*; do
    [ -s "$f" ] || continue
    printf '\n===== tail -n 25 %s =====\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}
stop_started() {
  local n pid i
  for n in rgw osd.0 mon.a; do
    [ -f "$DIR/pids/$n" ] || continue
    pid=$(cat "$DIR/pids/$n")
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF"; then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/pids/$n"
  done
}
fail() {
  trap - ERR INT TERM
  set +e
  log "ERROR after $(elapsed): $*"
  dump_logs
  stop_started
  log "daemons stopped; logs kept in $DIR (remove with: $(dirname "$0")/ceph-down.sh $DIR)"
  exit 1
}
trap 'fail "unexpected error (line $LINENO)"' ERR
trap 'fail "interrupted"' INT TERM

# ------------------------------------------------------------------- conf --
FSID=$(cat /proc/sys/kernel/random/uuid)
MON_ADDRS="[v2:$HOST:$MON_V2_PORT,v1:$HOST:$MON_V1_PORT]"
cat >"$CONF" <<EOF
# generated by ceph-up.sh — throwaway test cluster, loopback only, no auth
[global]
fsid = $FSID
mon host = $MON_ADDRS
public addr = $HOST
cluster addr = $HOST
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $DIR/keyring
run dir = $DIR/run
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
crash dir = $DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
mon max pg per osd = 1000

[mon]
mon data = $DIR/mon/\$id
mon initial members = a
mon cluster log file = $DIR/log/cluster.log
# default 1 s per map change: S3 up in ~11.5 s instead of ~1.5 s
paxos propose interval = 0.05
mon osd report timeout = 3600

[osd]
osd data = $DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = $MEM_BYTES
osd mon shutdown timeout = 0.5

[client.rgw.a]
rgw frontends = beast endpoint=$HOST:$S3_PORT
rgw data = $DIR/rgw
# required with auth = none: radosgw otherwise insists on a "secure" mon session and
# loops on "get_initial_auth_request returned -13" (ceph CLI, osd, radosgw-admin don't need it)
ms mon client mode = crc secure
EOF
: >"$DIR/keyring"

log "dir=$DIR fsid=$FSID"

# ----------------------------------------------------------------- daemons --
start_daemon() {  # name cmd...
  local name=$1; shift
  "$@" -f >"$DIR/log/$name.stdout" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"
  STARTED+=("$name")
}
alive() {  # all daemons we started still running?
  local n
  for n in "${STARTED[@]}"; do
    kill -0 "$(cat "$DIR/pids/$n")" 2>/dev/null || fail "$n died"
  done
}
deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
check_deadline() { [ "$(now_ms)" -lt "$deadline" ] || fail "not up within ${TIMEOUT}s (waiting for $1)"; }

monmaptool --create --fsid "$FSID" --addv a "$MON_ADDRS" "$DIR/monmap" >"$DIR/log/monmaptool.out" 2>&1 \
  || fail "monmaptool failed"
timeout 20 ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >"$DIR/log/mon-mkfs.out" 2>&1 \
  || fail "ceph-mon --mkfs failed"
start_daemon mon.a ceph-mon -c "$CONF" -i a

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
osd_id=
while :; do
  alive; check_deadline "mon"
  if osd_id=$(timeout 10 ceph -c "$CONF" --connect-timeout 5 osd new "$OSD_UUID" 2>>"$DIR/log/ceph-cli.err"); then
    break
  fi
  sleep 0.2
done
[ "$osd_id" = 0 ] || fail "unexpected osd id '$osd_id'"
timeout 20 ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$DIR/log/osd-mkfs.out" 2>&1 \
  || fail "ceph-osd --mkfs failed"
start_daemon osd.0 ceph-osd -c "$CONF" -i 0
start_daemon rgw radosgw -c "$CONF" -n client.rgw.a
log "mon, osd, rgw started ($(elapsed)); waiting for S3 on http://$HOST:$S3_PORT ..."

s3_answers() (  # anonymous GET / -> "HTTP/1.1 200 OK" once rgw serves requests
  exec 3<>"/dev/tcp/$HOST/$S3_PORT" || exit 1
  printf 'GET / HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$HOST" "$S3_PORT" >&3
  IFS= read -r -t 5 line <&3 || exit 1
  timeout 5 cat <&3 >/dev/null || true   # drain, so rgw doesn't log "Connection reset by peer"
  [[ "$line" == HTTP/1.1\ 200* ]]
)
until s3_answers 2>/dev/null; do
  alive; check_deadline "rgw"
  sleep 0.1
done

timeout 20 radosgw-admin -c "$CONF" user create --uid=worm-test --display-name="worm-s3 test user" \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1 \
  || fail "radosgw-admin user create failed: $(tail -n 5 "$DIR/log/user-create.out")"

cat >"$DIR/env" <<EOF
S3_ENDPOINT=http://$HOST:$S3_PORT
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_REGION=$REGION
WORM_S3_DIR=$DIR
EOF
trap - ERR INT TERM
log "S3 up in $(elapsed) (pids: mon $(cat "$DIR/pids/mon.a"), osd $(cat "$DIR/pids/osd.0"), rgw $(cat "$DIR/pids/rgw")); env in $DIR/env"
cat "$DIR/env"
