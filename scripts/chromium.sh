#!/usr/bin/env bash
# Headless Chromium for the API documentation test (packages/server/test/api-docs-browser.e2e.test.ts),
# which loads /docs and /redoc and reads the rendered page.
#
#   chromium.sh install     apt-get the Debian package `chromium` if no chromium is on PATH (root or sudo)
#   chromium.sh path        print the browser's path (exit 1 if there is none)
#
# The test finds the browser through `chromium.sh path` (or ARC_TEST_CHROMIUM) and skips, saying
# why, when there is none; `make test` runs `install` first and goes on without it if that fails.
set -euo pipefail

readonly PACKAGE=chromium
readonly BINARIES=(chromium chromium-browser)

die() { echo "chromium: $*" >&2; exit 1; }

browser_path() {
  local binary
  for binary in "${BINARIES[@]}"; do
    if command -v "$binary" >/dev/null 2>&1; then
      command -v "$binary"
      return 0
    fi
  done
  return 1
}

install_package() {
  if browser_path >/dev/null; then
    echo "chromium present: $(browser_path)"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo; install the Debian package $PACKAGE by hand"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
  browser_path >/dev/null || die "apt-get installed $PACKAGE but no chromium binary is on PATH"
  echo "installed: $PACKAGE ($(browser_path))"
}

case "${1:-}" in
  install) install_package ;;
  path) browser_path || die "no chromium on PATH (run: bash scripts/chromium.sh install)" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
