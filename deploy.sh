#!/usr/bin/env bash
# Deploys Arc from this checkout to a host over ssh, starts it there and waits until it is ready.
#
# Usage: ./deploy.sh -h <host> [-u <user>] [-m native|docker] [options]
#
#   -h <host>      the host to deploy to (required)
#   -u <user>      the ssh user (default: the current user); not root: sudo is used on the host
#   -m <mode>      native (default): the built tree to /opt/arc, run by systemd (deploy/arc.service)
#                  docker: the image (built here, sent with docker save | docker load) and
#                  docker-compose.yml to /opt/arc, run by docker compose (Arc + MinIO)
#   -p <port>      the ssh port (default 22)
#   -P <port>      Arc's HTTP port on the host, to wait for /ready (default 8000)
#   -t <seconds>   how long to wait for /ready (default 120)
#   -n, --dry-run  print every command (here and on the host) instead of running it
#   --help         show this text
#
# native needs Node.js 20 and npm on the host (production dependencies are installed there, so
# native modules match its system) and systemd; docker needs Docker with compose there.
# Exit codes: 0 deployed and ready; 1 a step failed (the failing command is named on stderr);
# 2 usage error; 3 deployed and started, but not ready within -t seconds.
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
}

fail_usage() {
  echo "deploy.sh: $1" >&2
  echo "Run './deploy.sh --help' for the options." >&2
  exit 2
}

host=''
user="$(id -un)"
mode='native'
ssh_port=22
http_port=8000
ready_timeout=120
dry_run=0

while [ $# -gt 0 ]; do
  case "$1" in
    -h | -u | -m | -p | -P | -t)
      if [ $# -lt 2 ] || [ -z "$2" ]; then fail_usage "option '$1' needs a value"; fi
      case "$1" in
        -h) host="$2" ;;
        -u) user="$2" ;;
        -m) mode="$2" ;;
        -p) ssh_port="$2" ;;
        -P) http_port="$2" ;;
        -t) ready_timeout="$2" ;;
      esac
      shift 2
      ;;
    -n | --dry-run) dry_run=1; shift ;;
    --help) usage; exit 0 ;;
    *) fail_usage "unknown argument '$1'" ;;
  esac
done

[ -n "$host" ] || fail_usage "option '-h <host>' is required"
case "$mode" in native | docker) ;; *) fail_usage "option '-m' must be native or docker, not '$mode'" ;; esac
for number in "$ssh_port" "$http_port" "$ready_timeout"; do
  [[ "$number" =~ ^[0-9]+$ ]] || fail_usage "'$number' is not a number (-p, -P, -t)"
done

remote_dir=/opt/arc
target="$user@$host"
ssh_cmd=(ssh -p "$ssh_port" -o BatchMode=yes)
sudo=''
[ "$user" = root ] || sudo='sudo'
version="$(node -p 'require("./package.json").version' 2>/dev/null || echo latest)"
image="arc:$version"

# Runs a command here, or prints it with --dry-run. A failure names the step and exits 1.
step() {
  local what="$1"
  shift
  echo "==> $what" >&2
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "$@"
    echo
    return 0
  fi
  "$@" || { echo "deploy.sh: failed: $what" >&2; exit 1; }
}

# Runs a shell script on the host, fed on stdin (as root through sudo when the ssh user is not
# root); with --dry-run prints the ssh command and the script as a here-document. Returns the
# script's exit code.
run_on_host() {
  local script="$1" remote_shell="${sudo:+sudo }bash -euo pipefail -s"
  if [ "$dry_run" = 1 ]; then
    printf '%q ' "${ssh_cmd[@]}" "$target"
    printf "'%s' <<'SCRIPT'\n%s\nSCRIPT\n" "$remote_shell" "$script"
    return 0
  fi
  "${ssh_cmd[@]}" "$target" "$remote_shell" <<<"$script"
}

on_host() {
  echo "==> $1" >&2
  run_on_host "$2" || { echo "deploy.sh: failed: $1 (on $host)" >&2; exit 1; }
}

# Polls /ready on the host with `probe` (`arc health --ready`: exit 0 ready, 1 not yet), once a second.
wait_ready() {
  local probe="$1" status=0
  echo "==> waiting up to ${ready_timeout}s for $host:$http_port/ready" >&2
  # </dev/null: the script itself is read from stdin, which the probe must not consume.
  run_on_host "for _ in \$(seq 1 $ready_timeout); do
  if $probe </dev/null >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
$probe </dev/null || exit 3" || status=$?
  if [ "$status" = 3 ]; then
    echo "deploy.sh: Arc started on $host but is not ready after ${ready_timeout}s (see its log)" >&2
    exit 3
  fi
  [ "$status" = 0 ] || { echo "deploy.sh: failed: waiting for /ready (exit $status)" >&2; exit 1; }
  [ "$dry_run" = 1 ] || echo "Arc $version is ready on $host:$http_port" >&2
}

deploy_native() {
  step "building" npx tsc -b packages/cli
  on_host "preparing $remote_dir" "mkdir -p $remote_dir && command -v node >/dev/null && command -v npm >/dev/null && command -v systemctl >/dev/null"
  local rsync_path=(--rsync-path "${sudo:+sudo }rsync")
  step "copying the build to $host:$remote_dir" rsync -az --delete -e "ssh -p $ssh_port -o BatchMode=yes" "${rsync_path[@]}" \
    --exclude .git --exclude node_modules --exclude /data --exclude '*.tsbuildinfo' --exclude /bench/results \
    ./ "$target:$remote_dir/"
  on_host "installing production dependencies and the service" "cd $remote_dir
npm ci --omit=dev --no-audit --no-fund </dev/null
chmod +x packages/cli/dist/main.js start.sh arc
id arc >/dev/null 2>&1 || useradd --system --home-dir /var/lib/arc --no-create-home --shell /usr/sbin/nologin arc
install -d -m 0750 -o root -g arc /etc/arc
[ -e /etc/arc/arc.conf ] || install -m 0640 -o root -g arc arc.conf /etc/arc/arc.conf
install -m 0644 deploy/arc.service /etc/systemd/system/arc.service
systemctl daemon-reload
systemctl enable arc
systemctl restart arc"
  wait_ready "$remote_dir/arc health --ready --url http://127.0.0.1:$http_port"
}

deploy_docker() {
  step "building the image $image" docker build --tag "$image" .
  on_host "preparing $remote_dir" "mkdir -p $remote_dir && docker version >/dev/null"
  if [ "$dry_run" = 1 ]; then
    echo "==> sending the image $image" >&2
    echo "docker save $image | gzip | $(printf '%q ' "${ssh_cmd[@]}" "$target")'gunzip | ${sudo:+sudo }docker load'"
  else
    echo "==> sending the image $image" >&2
    docker save "$image" | gzip | "${ssh_cmd[@]}" "$target" "gunzip | ${sudo:+sudo }docker load" || { echo "deploy.sh: failed: sending the image" >&2; exit 1; }
  fi
  step "copying docker-compose.yml to $host:$remote_dir" rsync -az -e "ssh -p $ssh_port -o BatchMode=yes" --rsync-path "${sudo:+sudo }rsync" docker-compose.yml "$target:$remote_dir/"
  # `docker compose` (v2) where it exists, else the older `docker-compose`.
  local compose="\$(docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)"
  on_host "starting Arc and MinIO" "cd $remote_dir && ARC_IMAGE=$image ARC_PORT=$http_port $compose up -d --no-build </dev/null"
  wait_ready "cd $remote_dir && ARC_IMAGE=$image $compose exec -T arc node /app/packages/cli/dist/main.js health --ready"
}

case "$mode" in
  native) deploy_native ;;
  docker) deploy_docker ;;
esac
