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

readonly SCRIPT_NAME=chromium
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

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
  apt_install "$PACKAGE" || die "apt-get install $PACKAGE failed"
  browser_path >/dev/null || die "apt-get installed $PACKAGE but no chromium binary is on PATH"
  echo "installed: $PACKAGE ($(browser_path))"
}

case "${1:-}" in
  install) install_package ;;
  path) browser_path || die "no chromium on PATH (run: bash scripts/chromium.sh install)" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
