#!/usr/bin/env bash
# The Dockerfile's build steps, run without Docker (no engine on these machines), in a copy of the
# repository: frozen install, compiled origin, a production-only deploy folder, and the result
# started as the image would start it (`node dist/main.js`, production dependencies only).
# Usage: deploy/check-image-build.sh <empty work dir>   (prints the deploy folder's path)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:?work dir}"
mkdir -p "$work/src"
# COPY . . — the tracked files (what a clean build context holds), without node_modules.
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work/src")
cd "$work/src"
pnpm install --frozen-lockfile --prefer-offline >/dev/null
node scripts/build.mjs origin
pnpm --filter @kakunin/origin deploy --prod --legacy "$work/out" >/dev/null
cp -r origin/dist "$work/out/dist"
echo "$work/out"
