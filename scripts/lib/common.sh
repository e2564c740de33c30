# shellcheck shell=bash
# What the project's scripts share (sourced by s3-server.sh, prometheus.sh, chromium.sh and
# lint-packaging.sh): messages under the script's name, root through sudo, Debian packages, and
# free local ports. The caller sets SCRIPT_NAME first.

die() { echo "${SCRIPT_NAME}: $*" >&2; exit 1; }
log() { echo "${SCRIPT_NAME}: $*" >&2; }

# Runs a command as root: directly when root, else through sudo (none: the script stops, naming it).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; return; fi
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo; run as root: $*"
  sudo "$@"
}

# apt-get installs the Debian packages named, quietly, without recommends, never upgrading one that
# is installed; waits up to 5 min for another apt run's lock (parallel test runs install at once).
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends --no-upgrade "$@" >/dev/null
}

# Stops process $1 (named $2 in messages): SIGTERM, then SIGKILL each time $3 seconds pass with
# it still running; returns once it is gone.
stop_process() {
  local pid="$1" name="$2" timeout_s="$3" deadline
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name (pid $pid) still running after ${timeout_s}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + timeout_s))
    fi
    sleep 0.1
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The port to listen on: $1 as asked ($2 names its variable in the message), refused when taken; or,
# when $1 is 0, the first free one at or above $3.
choose_port() {
  local requested="$1" variable="$2" first_free="$3"
  if [ "$requested" = 0 ]; then
    free_port_from "$first_free"
  elif port_in_use "$requested"; then
    die "port $requested on 127.0.0.1 is taken; set $variable to a free port (or 0 for any)"
  else
    echo "$requested"
  fi
}

# A free TCP port at or above $1 on 127.0.0.1 (checked by connecting: nothing may answer there).
free_port_from() {
  local port="$1"
  while port_in_use "$port"; do
    port=$((port + 1))
    [ "$port" -lt 65000 ] || die "no free port found from $1"
  done
  echo "$port"
}
