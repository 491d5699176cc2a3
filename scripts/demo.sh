#!/usr/bin/env bash
# `pnpm demo`: the whole Kakunin story (register, certify, verify, behaviour, auto-revocation,
# evidence) on a throwaway origin + edge, in under a minute. Works on a fresh machine like start.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
# tsx resolves from the origin workspace (as when the origin runs); the demo finds the repo itself.
cd origin
exec node --import tsx ../scripts/demo/main.ts "$@"
