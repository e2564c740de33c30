#!/usr/bin/env bash
# Installs the InfluxDB 1.x `influx` CLI (Debian package influxdb-client, 1.6.7 on bookworm) that
# the real-client tests (packages/server/test/influx-clients-cli.e2e.test.ts) drive against Arc.
# Idempotent: does nothing when `influx` is already on PATH. Needs root (or sudo) for apt-get.
set -euo pipefail

if command -v influx >/dev/null 2>&1; then
  echo "influx CLI present: $(command -v influx)"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-influx-cli: not root and no sudo; install the Debian package influxdb-client by hand" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends influxdb-client >/dev/null
echo "influx CLI installed: $(command -v influx)"
