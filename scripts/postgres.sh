#!/usr/bin/env bash
# A real PostgreSQL for the import tests (packages/importer/test/postgres-driver.test.ts): Debian's
# `postgresql` package, run as a cluster of our own (never the Debian service) listening on
# 127.0.0.1 only, with password authentication (scram-sha-256) so the secret path is exercised.
# Everything (data, socket, log) lives in one directory, default /tmp/arc-pg.
#
#   postgres.sh install        apt-get postgresql if no server binaries are found (root or sudo)
#   postgres.sh start [DIR]    create the cluster on first use (user `arc`, database `arc_test`), start it
#                              if it does not run, wait until it accepts connections; exit 0 if already up
#   postgres.sh stop [DIR]     stop it (fast shutdown) and wait for it to exit (data kept)
#   postgres.sh env [DIR]      print `export ARC_TEST_PG_URL=... ARC_TEST_PG_PASSWORD=...` for the tests
#   postgres.sh status [DIR]   whether it runs and accepts connections (exit 1 if not)
#   postgres.sh destroy [DIR]  stop, then delete DIR
#
# Environment: ARC_PG_DIR (default directory), ARC_PG_PORT (listen port on 127.0.0.1, default 55432;
# 0 picks a free one; fixed when DIR is created), ARC_PG_READY_TIMEOUT_S (how long `start` waits,
# default 60).
#
# initdb and the server refuse to run as root: as root, the cluster belongs to the `postgres` system
# user the Debian package creates, and every server command runs as that user (runuser).
set -euo pipefail

readonly DEFAULT_PORT=55432
readonly DB_USER=arc
readonly DB_PASSWORD=arc-test-pg-password
readonly DB_NAME=arc_test
readonly MARKER=arc-pg-cluster     # a file in DIR: proves DIR is ours before `destroy` deletes it
readonly SERVICE_USER=postgres     # the owner of the cluster when this script runs as root

readonly SCRIPT_NAME=postgres
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- binaries ------------------------------------------------------------------------------------

# The newest installed server's bin directory (Debian keeps them in /usr/lib/postgresql/<major>/bin,
# off PATH), or nothing.
server_bin_dir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && dirname "$dir"
  return 0
}

install_packages() {
  if [ -n "$(server_bin_dir)" ]; then
    echo "postgresql present: $("$(server_bin_dir)/postgres" --version)"
    return 0
  fi
  # The package's own cluster (15/main on 5432) is not used: `start` runs a cluster of our own.
  apt_install postgresql || die "apt-get install postgresql failed"
  [ -n "$(server_bin_dir)" ] || die "postgresql installed but no initdb under /usr/lib/postgresql"
  echo "installed: postgresql ($("$(server_bin_dir)/postgres" --version))"
}

require_packages() {
  BIN="$(server_bin_dir)"
  [ -n "$BIN" ] || die "no PostgreSQL server found under /usr/lib/postgresql: run bash scripts/postgres.sh install"
}

# Runs a server command ($1 names it in BIN) as the cluster's owner: this user, or SERVICE_USER when root.
as_owner() {
  local binary="$BIN/$1"; shift
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$SERVICE_USER" -- "$binary" "$@"
  else
    "$binary" "$@"
  fi
}

# --- paths and ports -----------------------------------------------------------------------------

set_dir() {
  DIR="${1:-${ARC_PG_DIR:-/tmp/arc-pg}}"
  case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
  DIR="${DIR%/}"
  DATA="$DIR/data"
}

pg_port() { cat "$DIR/port" 2>/dev/null || die "no cluster in $DIR (run start)"; }

# Accepting connections on the TCP port (pg_isready needs no password: it only asks whether logins are taken).
accepting() { as_owner pg_isready -q -h 127.0.0.1 -p "$(pg_port)" -t 2; }

running() { [ -f "$DATA/postmaster.pid" ] && as_owner pg_ctl status -D "$DATA" >/dev/null 2>&1; }

# --- cluster creation ----------------------------------------------------------------------------

# Settings appended to the generated postgresql.conf: loopback TCP only, the socket inside DIR (not
# /var/run/postgresql, which may not exist or be writable), small memory for a shared machine.
write_conf() {
  local port="$1"
  cat >>"$DATA/postgresql.conf" <<EOF

# Written by scripts/postgres.sh: a test cluster on loopback, password authentication.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR/run'
max_connections = 40
shared_buffers = 16MB
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
timezone = 'UTC'
EOF
}

create_cluster() {
  local port
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    die "$DIR exists and is not a test cluster made by this script; choose another DIR"
  fi
  if [ "$(id -u)" -eq 0 ]; then
    getent passwd "$SERVICE_USER" >/dev/null || die "running as root needs the '$SERVICE_USER' user (the Debian package creates it)"
    # The server runs as that user: every directory above DIR must let it through (not so under /root).
    mkdir -p "$(dirname "$DIR")"
    runuser -u "$SERVICE_USER" -- test -x "$(dirname "$DIR")" ||
      die "user '$SERVICE_USER' cannot reach $(dirname "$DIR"); choose a DIR under /tmp or another directory it can enter"
  fi
  mkdir -p "$DIR"/{run,log}
  echo "$$" >"$DIR/$MARKER"
  port="$(choose_port "${ARC_PG_PORT:-$DEFAULT_PORT}" ARC_PG_PORT "$DEFAULT_PORT")"
  echo "$port" >"$DIR/port"
  printf '%s\n' "$DB_PASSWORD" >"$DIR/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R "$SERVICE_USER:" "$DIR"
  chmod 700 "$DIR"
  log "creating the cluster in $DATA (port $port)"
  # Every login, local socket included, needs the password (scram-sha-256): the tests' secrets are real.
  as_owner initdb -D "$DATA" --username="$DB_USER" --pwfile="$DIR/pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >>"$DIR/log/initdb.out" 2>&1 || die "initdb failed; see $DIR/log/initdb.out"
  write_conf "$port"
  start_server
  PGPASSWORD="$DB_PASSWORD" as_owner createdb -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" ||
    die "createdb $DB_NAME failed"
  touch "$DIR/created"
}

# pg_ctl forks the server with its output in DIR/log; fd 9 (the lock) is closed for it, or the server
# would hold the lock for its whole life.
start_server() {
  local port timeout_s="${ARC_PG_READY_TIMEOUT_S:-60}"
  port="$(pg_port)"
  if ! running; then
    port_in_use "$port" && die "port $port on 127.0.0.1 is taken by another process"
    as_owner pg_ctl start -D "$DATA" -l "$DIR/log/postgres.log" -w -t "$timeout_s" </dev/null >>"$DIR/log/pg_ctl.out" 2>&1 9>&- ||
      die "the server did not start; last lines of $DIR/log/postgres.log:
$(tail -n 5 "$DIR/log/postgres.log" 2>/dev/null)"
  fi
  local deadline=$((SECONDS + timeout_s))
  until accepting; do
    [ "$SECONDS" -lt "$deadline" ] || die "not accepting connections on 127.0.0.1:$port after ${timeout_s}s; see $DIR/log/postgres.log"
    sleep 0.2
  done
}

# --- subcommands ---------------------------------------------------------------------------------

# Serialises start/stop on one DIR (test files running in parallel may all call start).
take_lock() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock -w 120 9 || die "another postgres.sh holds $DIR.lock"
}

cmd_start() {
  require_packages
  take_lock
  if [ -f "$DIR/created" ] && running && accepting; then
    echo "already running: PostgreSQL at 127.0.0.1:$(pg_port), database $DB_NAME ($DIR)"
    return 0
  fi
  local began=$SECONDS
  if [ ! -f "$DIR/created" ]; then
    if [ -f "$DIR/$MARKER" ]; then
      log "removing the unfinished cluster in $DIR"
      [ -f "$DATA/postmaster.pid" ] && as_owner pg_ctl stop -D "$DATA" -m immediate -w >/dev/null 2>&1 9>&-
      rm -rf "$DIR"
    fi
    create_cluster
  else
    start_server
  fi
  echo "started in $((SECONDS - began))s: PostgreSQL at 127.0.0.1:$(pg_port), database $DB_NAME ($DIR; log in $DIR/log)"
}

cmd_stop_server() {
  if running; then
    as_owner pg_ctl stop -D "$DATA" -m fast -w -t 60 >/dev/null 9>&- || die "pg_ctl stop failed"
    log "stopped"
  fi
}

cmd_stop() {
  [ -d "$DIR" ] || { echo "nothing in $DIR"; return 0; }
  require_packages
  take_lock
  cmd_stop_server
  echo "stopped ($DIR)"
}

cmd_env() {
  [ -f "$DIR/created" ] || die "no cluster in $DIR (run start)"
  echo "export ARC_TEST_PG_URL=postgres://$DB_USER@127.0.0.1:$(pg_port)/$DB_NAME"
  echo "export ARC_TEST_PG_PASSWORD=$DB_PASSWORD"
}

cmd_status() {
  [ -f "$DIR/created" ] || { echo "no cluster in $DIR"; return 1; }
  require_packages
  if running; then
    echo "server: running, pid $(head -n 1 "$DATA/postmaster.pid")"
  else
    echo "server: stopped"
  fi
  if accepting; then echo "accepting connections at 127.0.0.1:$(pg_port)"; else echo "not accepting connections at 127.0.0.1:$(pg_port)"; return 1; fi
}

cmd_destroy() {
  [ -d "$DIR" ] || { echo "nothing in $DIR"; return 0; }
  [ -f "$DIR/$MARKER" ] || die "$DIR was not made by this script; not deleting it"
  require_packages
  take_lock
  cmd_stop_server
  rm -rf "$DIR"
  rm -f "$DIR.lock"
  echo "destroyed $DIR"
}

main() {
  local command="${1:-}"
  [ "$#" -gt 0 ] && shift
  [ "$#" -le 1 ] || usage
  set_dir "${1:-}"
  case "$command" in
    install) install_packages ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    *) usage ;;
  esac
}

main "$@"
