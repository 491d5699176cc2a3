#!/usr/bin/env bash
# before-tree.sh DIR [COMMIT] — a copy of COMMIT's sources (default: main) in DIR that resolves its
# dependencies to this checkout's node_modules, for `pnpm --filter @kakunin/bench run audit --
# --only append --before DIR`: the append series then times that commit's appendAudit in the same
# process, on the same database and rows, as this checkout's (bench/README.md, "Audit").
set -euo pipefail
DIR=${1:?usage: before-tree.sh DIR [COMMIT]}
COMMIT=${2:-main}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$DIR" && mkdir -p "$DIR"
git -C "$ROOT" archive "$COMMIT" origin shared | tar -x -C "$DIR"
# pnpm's per-package links are relative (../../node_modules/.pnpm/…): the same real files, so
# drizzle and the drivers are the very modules this checkout's origin uses.
ln -s "$ROOT/node_modules" "$DIR/node_modules"
for pkg in origin shared; do cp -a "$ROOT/$pkg/node_modules" "$DIR/$pkg/node_modules"; done
echo "$DIR: $(git -C "$ROOT" rev-parse --short "$COMMIT")"
