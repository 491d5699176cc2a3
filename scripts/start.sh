#!/usr/bin/env bash
# `npm start` / `pnpm start`: origin on 127.0.0.1:8788 and edge on 127.0.0.1:8787, wired together,
# on embedded defaults (PGlite and keys under KAKUNIN_DATA_DIR, default .kakunin/). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
exec node scripts/start.mjs
