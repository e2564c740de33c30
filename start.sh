#!/usr/bin/env bash
# Starts Arc in the foreground, sized to the CPUs it may really use.
#
#   ./start.sh native [--no-build] [--dry-run]   on this host (what `make run` does)
#   ./start.sh docker [--no-build] [--dry-run]   in a container of the image built from ./Dockerfile
#
# native installs dependencies if needed, builds, and runs `arc serve` on local disk (./data unless
# ARC_DATA_DIR says otherwise); --no-build runs what is built (the systemd unit and the image do).
# docker builds the image (unless --no-build) and runs it with a named volume for the data; the
# container sizes its threads itself, from its own CPU limit.
# --dry-run prints the CPUs found, the environment passed and the command, and starts nothing.
#
# Every setting comes from arc.conf and ARC_* environment variables (see README). CPUs are the
# smaller of `nproc` (CPU affinity) and the cgroup CPU quota (a container's --cpus, systemd's
# CPUQuota=), which Node's availableParallelism() does not see. From them this script sets the
# thread counts that neither the environment nor the configuration file sets (docs/deployment.md).
# Exit codes: 0 clean stop, 1 failure, 2 usage error; otherwise the server's own (3: rows unflushed).
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

mode=''
build=1
dry_run=0
for arg in "$@"; do
  case "$arg" in
    native | docker) [ -z "$mode" ] || { echo "start.sh: one mode only" >&2; exit 2; }; mode="$arg" ;;
    --no-build) build=0 ;;
    --dry-run) dry_run=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "start.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done
mode="${mode:-native}"

# --- CPUs ---------------------------------------------------------------------------------------

cgroup_root="${ARC_CGROUP_ROOT:-/sys/fs/cgroup}" # tests point it at a fake hierarchy

# Prints the CPU quota of a cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us` file set, rounded up, or
# nothing when there is no limit.
quota_cpus() {
  local dir="$1" quota period
  if [ -r "$dir/cpu.max" ]; then
    read -r quota period <"$dir/cpu.max"
  elif [ -r "$dir/cpu.cfs_quota_us" ] && [ -r "$dir/cpu.cfs_period_us" ]; then
    quota="$(cat "$dir/cpu.cfs_quota_us")"
    period="$(cat "$dir/cpu.cfs_period_us")"
  else
    return 0
  fi
  case "$quota" in max | -1 | '') return 0 ;; esac
  [ "${period:-0}" -gt 0 ] || return 0
  echo $(((quota + period - 1) / period))
}

# This process's own cgroup (systemd puts a service in system.slice/arc.service), then the root
# of the hierarchy it sees (a container's limit, namespaced to "/").
detect_cpus() {
  local cpus own limit dir
  cpus="$(nproc 2>/dev/null || echo 1)"
  own="$(sed -n 's/^0:://p' /proc/self/cgroup 2>/dev/null || true)"
  for dir in "$cgroup_root$own" "$cgroup_root" "$cgroup_root/cpu"; do
    limit="$(quota_cpus "$dir")"
    if [ -n "$limit" ] && [ "$limit" -lt "$cpus" ]; then cpus="$limit"; fi
  done
  [ "$cpus" -ge 1 ] || cpus=1
  echo "$cpus"
}

# --- Thread counts --------------------------------------------------------------------------------

config_file="${ARC_CONFIG:-arc.conf}"
sized=() # NAME=value of each variable size_threads set

# The value of `key` in `[section]` of the configuration file, or nothing (a small TOML reader:
# section headers and `key = value` lines, comments ignored; enough for arc.conf's flat layout).
config_value() {
  [ -r "$config_file" ] || return 0
  awk -v want="$1" -v key="$2" '
    /^[[:space:]]*\[/ { section = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*(#.*)?$/, "", section); next }
    section == want && $0 ~ ("^[[:space:]]*" key "[[:space:]]*=") {
      value = $0; sub(/^[^=]*=[[:space:]]*/, "", value); sub(/[[:space:]]*(#.*)?$/, "", value); print value; exit
    }' "$config_file"
}

# Sets variable `name` to `value` unless the environment or the configuration file decides: an
# explicit choice of the operator always wins over a size derived from the CPUs.
size() {
  local name="$1" value="$2" section="$3" key="$4" generic="ARC_${3^^}_${4^^}"
  if [ -n "${!name:-}" ] || [ -n "${!generic:-}" ]; then return 0; fi
  if [ -n "$section" ] && [ -n "$(config_value "$section" "$key")" ]; then
    # decoders = 0 means "3 per CPU": sized here with the CPUs the quota allows.
    [ "$(config_value "$section" "$key")" = 0 ] || return 0
  fi
  export "$name=$value"
  sized+=("$name=$value")
}

# Decoders: 3 per CPU, as arc.conf's `decoders = 0` means; writers: 2 (1 on one CPU), a quarter of
# the CPUs from 8 on; query threads x DuckDB threads = CPUs, 2 DuckDB threads each from 4 CPUs on.
size_threads() {
  local cpus query_duckdb_threads
  cpus="$(detect_cpus)"
  query_duckdb_threads=$((cpus >= 4 ? 2 : 1))
  # At most 256 decoders: ingest.decoders' limit (DECODERS_MAX in packages/config/src/limits.ts).
  size ARC_WORKERS $((cpus * 3 < 256 ? cpus * 3 : 256)) ingest decoders
  size ARC_WRITER_THREADS $((cpus >= 8 ? cpus / 4 : (cpus >= 2 ? 2 : 1))) writer threads
  size ARC_QUERY_DUCKDB_THREADS "$query_duckdb_threads" query duckdb_threads
  size ARC_QUERY_THREADS $((cpus / query_duckdb_threads > 1 ? cpus / query_duckdb_threads : 1)) query threads
  # libuv's pool runs every DuckDB call (packages/cli/src/threadpool-size.ts sizes it from all CPUs).
  size UV_THREADPOOL_SIZE $((cpus * 4 > 16 ? cpus * 4 : 16)) '' ''
  echo "start.sh: $cpus CPUs usable; sized: ${sized[*]:-nothing (all set by the environment or $config_file)}" >&2
}

# --- Start --------------------------------------------------------------------------------------

run() {
  if [ "$dry_run" = 1 ]; then
    printf '%q ' ${sized[@]+"${sized[@]}"} "$@"
    echo
    exit 0
  fi
  exec "$@"
}

start_native() {
  node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$node_major" -lt 20 ]; then
    echo "Arc needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  fi
  if [ "$build" = 1 ] && [ "$dry_run" = 0 ]; then
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "Installing dependencies (native modules build from source; takes a few minutes the first time)..." >&2
      npm ci --no-audit --no-fund
    fi
    npx tsc -b packages/cli bench
    chmod +x packages/cli/dist/main.js # the CLI package's bin entry runs it directly
  elif [ ! -f packages/cli/dist/main.js ] && [ "$dry_run" = 0 ]; then
    echo "start.sh: packages/cli/dist/main.js is missing: build first (make build)" >&2
    exit 1
  fi
  size_threads
  run node packages/cli/dist/main.js serve
}

# Settings a container must not take from this host: paths and the listening address are the
# image's own (Dockerfile), and the thread counts are sized inside from the container's limit.
docker_env_args() {
  local name
  while IFS= read -r name; do
    case "$name" in
      ARC_DATA_DIR | ARC_STORAGE_DATA_DIR | ARC_HOST | ARC_SERVER_HOST | ARC_PORT | ARC_SERVER_PORT | ARC_CONFIG) ;;
      ARC_CGROUP_ROOT | ARC_IMAGE | ARC_CONTAINER | ARC_VOLUME | ARC_CPUS) ;;
      ARC_*) printf '%s\n' --env "$name" ;;
    esac
  done < <(compgen -e | sort)
}

start_docker() {
  local image="${ARC_IMAGE:-arc:latest}" args=()
  if ! command -v docker >/dev/null; then
    echo "start.sh: docker is not installed" >&2
    [ "$dry_run" = 1 ] || exit 1
  fi
  if [ "$build" = 1 ]; then
    if [ "$dry_run" = 1 ]; then
      printf '%q ' docker build --tag "$image" .
      echo
    else
      docker build --tag "$image" .
    fi
  fi
  mapfile -t args < <(docker_env_args)
  [ -z "${ARC_CPUS:-}" ] || args+=(--cpus "$ARC_CPUS")
  run docker run --rm --name "${ARC_CONTAINER:-arc}" \
    --publish "${ARC_PORT:-8000}:8000" \
    --volume "${ARC_VOLUME:-arc-data}:/var/lib/arc" \
    --stop-timeout 90 \
    "${args[@]}" "$image"
}

case "$mode" in
  native) start_native ;;
  docker) start_docker ;;
esac
