#!/usr/bin/env bash
# Installs InfluxDB 1.x from Debian (bookworm: 1.6.7): the server `influxd` (package influxdb), which
# the InfluxQL comparison tests run beside Arc, and the `influx` CLI (package influxdb-client), which
# the real-client tests drive against Arc. Idempotent: installs only what is missing. Needs root or sudo.
set -euo pipefail

missing=()
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
command -v influx >/dev/null 2>&1 || missing+=(influxdb-client)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "influxd and influx present: $(command -v influxd) $(command -v influx)"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-influxdb: not root and no sudo; install the Debian packages ${missing[*]} by hand" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# The package's service is not started here (no systemd in CI containers; tests start their own influxd).
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
