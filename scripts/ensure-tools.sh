#!/usr/bin/env bash
# Sourced by start.sh, test.sh and demo.sh: makes a fresh machine (Node + npm only) ready.
# - installs the pinned pnpm if it is missing (npm -g, or ~/.local when -g is not writable), with
#   the machine's own npm, so `pnpm start` / `pnpm test` work afterwards
# - puts the pinned Node LTS (scripts/ensure-node.sh, installed into .tools/ from the npm registry)
#   first on PATH: pnpm, the origin, wrangler and vitest all run on it from here on
# - installs the workspace's dependencies from the lockfile when node_modules is missing or stale
PNPM_VERSION=10.34.9   # keep equal to package.json "packageManager" (pnpm refuses a mismatch)

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "[kakunin] installing pnpm@$PNPM_VERSION" >&2
  if ! npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    npm install -g --prefix "$HOME/.local" "pnpm@$PNPM_VERSION" >/dev/null
    export PATH="$HOME/.local/bin:$PATH"
  fi
fi

source "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh"

# pnpm writes node_modules/.modules.yaml last; a lockfile newer than it means a pull changed deps.
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  echo "[kakunin] installing dependencies (pnpm install --frozen-lockfile)" >&2
  pnpm install --frozen-lockfile >&2
  node --version > node_modules/.kakunin-node
fi
# Native addons (pkcs11js) are built for the Node that ran the install: rebuild after a Node change.
if [ "$(cat node_modules/.kakunin-node 2>/dev/null)" != "$(node --version)" ]; then
  echo "[kakunin] rebuilding native addons for node $(node --version)" >&2
  pnpm rebuild pkcs11js >&2
  node --version > node_modules/.kakunin-node
fi
