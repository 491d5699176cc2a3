#!/usr/bin/env bash
# The test command (`npm test` / `pnpm test`, and exactly what .ci/run runs).
# Fresh machine → pinned pnpm, dependencies, missing system packages; then real services on
# loopback (PostgreSQL 15), then every vitest project (workerd, origin, e2e), and a closing
# "N passed, N failed" line. Extra arguments go to vitest (e.g. `pnpm test --project origin`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
bash scripts/install-system-deps.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/kakunin-test.XXXXXX")
cleanup() {
  [ -n "${KAKUNIN_PG_DIR:-}" ] && bash scripts/pg-down.sh "$KAKUNIN_PG_DIR"
  [ -n "${WORM_S3_DIR:-}" ] && bash scripts/worm-s3/ceph-down.sh "$WORM_S3_DIR" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  # Its own temp dir: under root, the server runs as `postgres`, which cannot enter $work (0700).
  pgenv=$(bash scripts/pg-up.sh "$(mktemp -d "${TMPDIR:-/tmp}/kakunin-pg.XXXXXX")" "$(node scripts/free-port.mjs)")
  set -a; eval "$pgenv"; set +a
fi

# A real S3 server with Object Lock (Ceph RGW) on loopback, on free ports, for the archive tests.
if [ -z "${S3_ENDPOINT:-}" ]; then
  # Three distinct ports from one call (separate calls could draw the same one).
  read -r WORM_S3_PORT WORM_S3_MON_V2_PORT WORM_S3_MON_V1_PORT <<< "$(node scripts/free-port.mjs 3)"
  export WORM_S3_PORT WORM_S3_MON_V2_PORT WORM_S3_MON_V1_PORT
  s3env=$(bash scripts/worm-s3/ceph-up.sh "$work/s3")
  set -a; eval "$s3env"; set +a
fi

rc=0
# Lint, formatter ratchet and architecture rules first (scripts/lint.mjs, a few seconds). A failure
# fails the run but does not stop the tests. On by default for a full run (CI); for a run of named
# files it is skipped unless KAKUNIN_LINT=1.
lint_failed=0
if [ "$#" -eq 0 ] || [ "${KAKUNIN_LINT:-}" = 1 ]; then
  node scripts/lint.mjs || lint_failed=1
fi
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$work/vitest.json" "$@" || rc=$?
if [ -f "$work/vitest.json" ]; then
  # A failed lint, and a test file that failed outside its tests, each count as one failed test.
  node scripts/test-summary.mjs "$work/vitest.json" "$lint_failed" "$rc"
else
  echo "0 passed, 1 failed"
  [ "$rc" = 0 ] && rc=1
fi
[ "$lint_failed" = 1 ] && [ "$rc" = 0 ] && rc=1
exit "$rc"
