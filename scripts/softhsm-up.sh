#!/usr/bin/env bash
# Creates a throwaway SoftHSM2 token for tests and local runs of the pkcs11 key backend.
#
#   scripts/softhsm-up.sh DIR
#
# Writes DIR/softhsm2.conf (tokens in DIR/tokens), initialises a token and prints KEY=VALUE lines
# (split at the first "="; values are not shell-quoted) on stdout; everything else goes to stderr.
# Env: KAKUNIN_PKCS11_TOKEN_LABEL (default kakunin), KAKUNIN_PKCS11_PIN (default 1234).
# Re-running on the same DIR reuses the existing token: a second token with the same label would
# make the label ambiguous, and the key manager refuses ambiguous labels.
set -euo pipefail

die() { echo "softhsm-up: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: softhsm-up.sh DIR"
command -v softhsm2-util >/dev/null 2>&1 ||
  die "softhsm2-util not found; install SoftHSM2 (Debian/Ubuntu: apt-get install softhsm2, macOS: brew install softhsm)"

label="${KAKUNIN_PKCS11_TOKEN_LABEL:-kakunin}"
pin="${KAKUNIN_PKCS11_PIN:-1234}"

module=""
for candidate in \
  /usr/lib/softhsm/libsofthsm2.so \
  /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
  /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
  /usr/local/lib/softhsm/libsofthsm2.so \
  /opt/homebrew/lib/softhsm/libsofthsm2.so; do
  if [ -f "$candidate" ]; then module="$candidate"; break; fi
done
[ -n "$module" ] || die "softhsm2-util is installed but libsofthsm2.so was not found in the usual places"

mkdir -p "$1/tokens"
dir="$(cd "$1" && pwd)"
conf="$dir/softhsm2.conf"
cat >"$conf" <<EOF
# Written by scripts/softhsm-up.sh; throwaway.
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$conf"

# softhsm2-util pads labels with spaces in --show-slots; compare trimmed.
if softhsm2-util --show-slots 2>/dev/null |
  sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' | sed 's/[[:space:]]*$//' | grep -Fxq -- "$label"; then
  echo "softhsm-up: token \"$label\" already exists in $dir/tokens; reusing it (its PIN is whatever it was created with)" >&2
else
  # Nobody needs the SO PIN of a throwaway token; a random one keeps it from being a known default.
  so_pin="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$so_pin" >&2 ||
    die "softhsm2-util --init-token failed"
fi

echo "SOFTHSM2_CONF=$conf"
echo "KAKUNIN_PKCS11_MODULE=$module"
echo "KAKUNIN_PKCS11_TOKEN_LABEL=$label"
echo "KAKUNIN_PKCS11_PIN=$pin"
