#!/usr/bin/env bash
# System packages the tests use: PostgreSQL 15 server, SoftHSM2 (PKCS#11), openssl, and Ceph's
# mon/osd/radosgw for a real S3 server with Object Lock (scripts/worm-s3), libfaketime for the
# clock-skew fault, and the X.509 parser matrix (test/support/parser-matrix.ts): GnuTLS certtool,
# Go (with golang.org/x/crypto for OCSP), a JDK (javac: `java File.java` compiles) and Python
# `cryptography` for Debian's /usr/bin/python3;
# chromium, poppler-utils and a font for the console's browser tests and the evidence report.
# zsh and fish for the CLI's shell-completion tests.
# Installs only what is missing; needs root (or passwordless sudo) for apt-get.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v faketime >/dev/null 2>&1 || need+=(faketime)   # the clock-skew fault (test/faults)
command -v zsh >/dev/null 2>&1 || need+=(zsh)             # cli/test/completion.test.ts: the zsh script
command -v fish >/dev/null 2>&1 || need+=(fish)           # cli/test/completion.test.ts: fish completes
command -v radosgw >/dev/null 2>&1 || need+=(ceph-mon ceph-osd radosgw)
command -v certtool >/dev/null 2>&1 || need+=(gnutls-bin)
command -v go >/dev/null 2>&1 || need+=(golang-go)
# golang.org/x/crypto/ocsp for the Go OCSP client (test/parsers/ocsp.go), as Go gateways check OCSP.
[ -d /usr/share/gocode/src/golang.org/x/crypto/ocsp ] || need+=(golang-golang-x-crypto-dev)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || need+=(python3-cryptography)
# The console's browser tests (Playwright drives Debian's chromium) and the evidence report's PDF
# (headless chromium prints it; pdftoppm reads it back in the tests), with a font to render text.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "[kakunin] missing system packages: ${need[*]} (run as root: apt-get install -y ${need[*]})" >&2
    exit 1
  fi
fi
echo "[kakunin] apt-get install ${need[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
