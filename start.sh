#!/usr/bin/env bash
# Starts Arc. `./start.sh native` (the default) installs dependencies if needed, builds, and runs
# the server in the foreground on local disk (./data unless ARC_DATA_DIR says otherwise).
# Every setting comes from arc.conf and ARC_* environment variables (see README).
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-native}"
case "$mode" in
  native) ;;
  *) echo "usage: $0 [native]" >&2; exit 2 ;;
esac

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "Arc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing dependencies (native modules build from source; takes a few minutes the first time)..."
  npm ci --no-audit --no-fund
fi
npx tsc -b packages/cli bench
chmod +x packages/cli/dist/main.js  # the CLI package's bin entry runs it directly

exec node packages/cli/dist/main.js serve
