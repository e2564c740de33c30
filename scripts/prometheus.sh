#!/usr/bin/env bash
# A real Prometheus for the scrape test: Debian's `prometheus` package, run as our own process (never
# the Debian service) with a generated configuration that scrapes one Arc every second. Everything
# (configuration, TSDB, log, pid file) lives in one directory.
#
#   prometheus.sh install                            apt-get prometheus if missing (root or sudo); the
#                                                    Debian service is stopped and disabled (port 9090 stays free)
#   prometheus.sh start DIR HOST:PORT [TOKEN_FILE]   write DIR/prometheus.yml scraping http://HOST:PORT/metrics
#                                                    every 1 s (with `Authorization: Bearer <TOKEN_FILE's
#                                                    content>` when given), start Prometheus, wait until ready
#   prometheus.sh stop DIR                           stop it and wait for it to exit (DIR kept)
#   prometheus.sh status DIR                         whether it runs and answers (exit 1 if not)
#   prometheus.sh env [DIR]                          print `export ARC_TEST_PROMETHEUS_...=` lines: the binary
#                                                    and version; with DIR of a started one, also its URL
#
# Environment: ARC_PROMETHEUS_PORT (listen port on 127.0.0.1, default 9391; 0 picks a free one),
# ARC_PROMETHEUS_READY_TIMEOUT_S (how long `start` waits, default 60).
set -euo pipefail

readonly DEFAULT_PORT=9391
readonly STOP_TIMEOUT_S=30
readonly SCRAPE_INTERVAL=1s
readonly MARKER=arc-prometheus    # a file in DIR: proves DIR is ours before `start` rewrites it

readonly SCRIPT_NAME=prometheus
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- install -------------------------------------------------------------------------------------

# The package's init script or systemd unit would serve 9090 from /var/lib/prometheus: stop it and
# keep it from starting at boot. Root is asked for only when there is something to undo (no
# systemd in CI containers; a machine where it is already off needs no sudo).
debian_service_pid() {
  local pid
  pid="$(cat /run/prometheus/prometheus.pid 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
  return 0
}

disable_debian_service() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
     { systemctl is-enabled --quiet prometheus.service 2>/dev/null || systemctl is-active --quiet prometheus.service 2>/dev/null; }; then
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  if compgen -G '/etc/rc[2-5].d/S*prometheus' >/dev/null && command -v update-rc.d >/dev/null 2>&1; then
    as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  if [ -n "$(debian_service_pid)" ] && [ -x /etc/init.d/prometheus ]; then
    as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
  local pid
  pid="$(debian_service_pid)"
  [ -z "$pid" ] || die "the Debian prometheus service (pid $pid) still runs; stop it"
}

cmd_install() {
  if ! command -v prometheus >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # While apt runs, policy-rc.d answers 101 ("action forbidden") so the package's postinst never
    # starts the service; removed again however apt ends. An existing policy-rc.d is left alone.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
      as_root chmod 755 "$policy"
      own_policy=1
    fi
    local status=0
    apt_install prometheus || status=$?
    if [ "$own_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    [ "$status" -eq 0 ] || die "apt-get install prometheus failed (exit $status)"
    echo "installed: prometheus"
  fi
  disable_debian_service
  echo "prometheus present: $(prometheus_version)"
}

prometheus_version() { prometheus --version 2>&1 | sed -n 's/^prometheus, version \([^ ]*\).*/\1/p' | head -1; }

require_binary() { command -v prometheus >/dev/null 2>&1 || die "prometheus not found: run bash scripts/prometheus.sh install"; }

# --- paths, ports, process -----------------------------------------------------------------------

set_dir() {
  [ -n "${1:-}" ] || usage
  DIR="$1"
  case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
  DIR="${DIR%/}"
  CONF="$DIR/prometheus.yml"
}

listen_port() { cat "$DIR/port" 2>/dev/null || die "no Prometheus started in $DIR (run start)"; }
base_url() { echo "http://127.0.0.1:$(listen_port)"; }

# The pid of this directory's Prometheus, or nothing. The pid file is trusted only if that process's
# command line names this directory's configuration, so a reused pid is never signalled.
prometheus_pid() {
  local pid
  pid="$(cat "$DIR/prometheus.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config.file=$CONF " && echo "$pid"
  return 0
}

answers_ready() { curl -sf -o /dev/null --max-time 2 "$(base_url)/-/ready"; }

# --- subcommands ---------------------------------------------------------------------------------

# A target is host:port (the scrape goes to http://HOST:PORT/metrics); anything else is refused
# before it reaches the YAML.
check_target() {
  [[ "$1" =~ ^[A-Za-z0-9._-]+:[0-9]{1,5}$ ]] || die "target must be HOST:PORT, got '$1'"
}

write_conf() {
  local target="$1" token_file="$2" auth=''
  if [ -n "$token_file" ]; then
    auth="    authorization:
      type: Bearer
      credentials_file: $token_file"
  fi
  cat >"$CONF" <<EOF
# Written by scripts/prometheus.sh: one Arc, scraped every $SCRAPE_INTERVAL.
global:
  scrape_interval: $SCRAPE_INTERVAL
  scrape_timeout: $SCRAPE_INTERVAL
  evaluation_interval: $SCRAPE_INTERVAL
scrape_configs:
  - job_name: arc
    metrics_path: /metrics
$auth
    static_configs:
      - targets: ['$target']
EOF
}

cmd_start() {
  local target="${1:-}" token_file="${2:-}"
  [ -n "$target" ] || usage
  check_target "$target"
  if [ -n "$token_file" ]; then
    [ -r "$token_file" ] || die "token file $token_file is not readable"
    case "$token_file" in /*) ;; *) token_file="$PWD/$token_file" ;; esac
  fi
  require_binary
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$DIR/$MARKER" ]; then
    die "$DIR exists and was not made by this script; choose another DIR"
  fi
  mkdir -p "$DIR/data"
  touch "$DIR/$MARKER"
  [ -z "$(prometheus_pid)" ] || die "a Prometheus already runs from $DIR (pid $(prometheus_pid)); stop it first"
  # With 0, from a random place, so that two starts at the same moment (test files run in
  # parallel) seldom pick the same port.
  local port
  port="$(choose_port "${ARC_PROMETHEUS_PORT:-$DEFAULT_PORT}" ARC_PROMETHEUS_PORT $((20000 + RANDOM % 20000)))"
  echo "$port" >"$DIR/port"
  write_conf "$target" "$token_file"
  # Its own session, no inherited descriptors: a caller capturing this script's output never waits
  # for Prometheus. The web UI is not used; the HTTP API is.
  setsid prometheus --config.file="$CONF" --storage.tsdb.path="$DIR/data" \
    --storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$port" --log.level=warn \
    </dev/null >>"$DIR/prometheus.log" 2>&1 9>&- &
  echo $! >"$DIR/prometheus.pid"
  local deadline=$((SECONDS + ${ARC_PROMETHEUS_READY_TIMEOUT_S:-60}))
  until answers_ready; do
    [ -n "$(prometheus_pid)" ] || die "prometheus exited while starting; last lines of $DIR/prometheus.log:
$(tail -n 5 "$DIR/prometheus.log" 2>/dev/null)"
    [ "$SECONDS" -lt "$deadline" ] || die "prometheus not ready after ${ARC_PROMETHEUS_READY_TIMEOUT_S:-60}s; log in $DIR/prometheus.log"
    sleep 0.1
  done
  echo "started: Prometheus at $(base_url) scraping http://$target/metrics every $SCRAPE_INTERVAL ($DIR)"
}

cmd_stop() {
  [ -d "$DIR" ] || { echo "nothing in $DIR"; return 0; }
  local pid
  pid="$(prometheus_pid)"
  if [ -n "$pid" ]; then stop_process "$pid" prometheus "$STOP_TIMEOUT_S"; fi
  rm -f "$DIR/prometheus.pid"
  echo "stopped ($DIR)"
}

cmd_status() {
  local pid
  pid="$(prometheus_pid)"
  if [ -z "$pid" ]; then echo "prometheus: stopped ($DIR)"; return 1; fi
  echo "prometheus: running, pid $pid, RSS $(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$pid/status")"
  if answers_ready; then echo "answering at $(base_url)"; else echo "not answering at $(base_url)"; return 1; fi
}

cmd_env() {
  require_binary
  echo "export ARC_TEST_PROMETHEUS_BIN=$(command -v prometheus)"
  echo "export ARC_TEST_PROMETHEUS_VERSION=$(prometheus_version)"
  if [ -n "${DIR:-}" ]; then echo "export ARC_TEST_PROMETHEUS_URL=$(base_url)"; fi
}

main() {
  local command="${1:-}"
  [ "$#" -gt 0 ] && shift
  case "$command" in
    install) [ "$#" -eq 0 ] || usage; cmd_install ;;
    start) { [ "$#" -ge 2 ] && [ "$#" -le 3 ]; } || usage; set_dir "$1"; shift; cmd_start "$@" ;;
    stop) [ "$#" -eq 1 ] || usage; set_dir "$1"; cmd_stop ;;
    status) [ "$#" -eq 1 ] || usage; set_dir "$1"; cmd_status ;;
    env) [ "$#" -le 1 ] || usage; if [ "$#" -eq 1 ]; then set_dir "$1"; fi; cmd_env ;;
    *) usage ;;
  esac
}

main "$@"
