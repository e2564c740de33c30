#!/usr/bin/env bash
# A real S3-compatible server for the object-storage tests: a single-node Ceph cluster (one monitor,
# one BlueStore OSD on a sparse file, no manager) with its RADOS Gateway answering S3 on 127.0.0.1.
# Everything (configuration, data, logs, pid files) lives in one directory, default /tmp/arc-s3.
#
#   s3-server.sh install            apt-get radosgw ceph-mon ceph-osd ceph-common if missing (root or sudo)
#   s3-server.sh start [DIR]        create the cluster on first use, start what is not running, create the
#                                   test user and bucket, wait until S3 answers; exit 0 if already up
#   s3-server.sh stop [DIR]         stop all three daemons and wait for them to exit (data kept)
#   s3-server.sh stop-gateway [DIR]     stop only radosgw: S3 then refuses connections (an outage)
#   s3-server.sh start-gateway [DIR]    start radosgw again over the same data and wait until it answers
#   s3-server.sh restart-gateway [DIR]  stop-gateway then start-gateway
#   s3-server.sh env [DIR]          print `export ARC_TEST_S3_...=` lines for the tests
#   s3-server.sh status [DIR]       which daemons run, and whether S3 answers (exit 1 if it does not)
#   s3-server.sh destroy [DIR]      stop, then delete DIR
#
# Environment: ARC_S3_DIR (default directory), ARC_S3_PORT (S3 port, default 7480; 0 picks a free
# port; fixed when DIR is created; a later `start` with ARC_S3_PORT=N moves a stopped gateway to N,
# with ARC_S3_PORT=0 to a free port only if its own was taken meanwhile; the monitor moves to a free
# port by itself when another process took its own while the cluster was stopped),
# ARC_S3_READY_TIMEOUT_S (how long `start` waits, default 120).
#
# Why these settings (ceph.conf below):
# - authentication is off (`auth ... required = none`); radosgw then needs `ms mon client mode = crc`,
#   or its monitor session fails with error -13 forever;
# - one OSD, so pools have size 1 and 8 placement groups (not 32: fewer PGs, less OSD memory and a
#   quicker start);
# - `bluestore block path` stays unset: BlueStore then creates `block` as a sparse file in the OSD's
#   directory (setting the path to that same place makes mkfs fail with ELOOP);
# - small caches and thread pools, so the three daemons stay a few hundred MB on a shared machine:
#   BlueStore's cache is a fixed 64 MiB (autotune off). `osd memory target` only steers autotune; it
#   is set to its minimum, 896 MiB, because a smaller value is silently dropped for the 4 GiB default.
#
# `start` rewrites ceph.conf from this script (keeping the cluster's fsid and monitor port), so a
# changed setting reaches an existing DIR at its daemons' next start.
set -euo pipefail

readonly ACCESS_KEY=arc-test-access
readonly SECRET_KEY=arc-test-secret-key-0123456789
readonly BUCKET=arc-test
readonly USER_ID=arc-test
readonly PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
readonly MARKER=arc-s3-cluster      # a file in DIR: proves DIR is ours before `destroy` deletes it
readonly STOP_TIMEOUT_S=30

readonly SCRIPT_NAME=s3-server
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  sed -n '2,/^# Why these settings/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- install -------------------------------------------------------------------------------------

install_packages() {
  local missing=() binary package
  for package in "${PACKAGES[@]}"; do
    case "$package" in
      radosgw) binary=radosgw ;; ceph-mon) binary=ceph-mon ;; ceph-osd) binary=ceph-osd ;; ceph-common) binary=ceph ;;
    esac
    command -v "$binary" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "ceph packages present: $(ceph --version 2>/dev/null | cut -d' ' -f1-3)"
    return 0
  fi
  # The packages' systemd units are not used (no systemd in CI containers): `start` runs the daemons.
  apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  echo "installed: ${missing[*]}"
}

require_packages() {
  local binary
  for binary in ceph ceph-mon ceph-osd monmaptool radosgw radosgw-admin; do
    command -v "$binary" >/dev/null 2>&1 || die "$binary not found: run bash scripts/s3-server.sh install"
  done
}

# --- paths and ports -----------------------------------------------------------------------------

set_dir() {
  DIR="${1:-${ARC_S3_DIR:-/tmp/arc-s3}}"
  case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
  DIR="${DIR%/}"
  CONF="$DIR/ceph.conf"
}

# Before a stopped gateway starts: ARC_S3_PORT=N moves it to N; ARC_S3_PORT=0 keeps its port unless
# another process took it meanwhile (then any free one), so an auto-port cluster always restarts.
choose_port_again() {
  case "${ARC_S3_PORT:-}" in
    '') ;;
    0) if port_in_use "$(rgw_port)"; then free_port_from 7480 >"$DIR/rgw-port"; fi ;;
    *) echo "$ARC_S3_PORT" >"$DIR/rgw-port" ;;
  esac
}

rgw_port() { cat "$DIR/rgw-port" 2>/dev/null || die "no cluster in $DIR (run start)"; }

# --- daemons -------------------------------------------------------------------------------------

# The pid of a daemon of this cluster ($1: mon, osd, rgw), or nothing when it does not run. The pid
# file is trusted only if that process's command line names this cluster's ceph.conf, so a reused
# pid is never signalled.
daemon_pid() {
  local pid
  pid="$(cat "$DIR/run/$1.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-c $CONF " && echo "$pid"
  return 0
}

# Starts a daemon in the foreground of its own session (no terminal, no inherited pipes: a caller
# capturing this script's output must not wait for the daemon), recording its pid.
launch() {
  local name="$1"; shift
  setsid "$@" -c "$CONF" -f </dev/null >>"$DIR/log/$name.out" 2>&1 9>&- &
  echo $! >"$DIR/run/$name.pid"
}

stop_daemon() {
  local name="$1" pid
  pid="$(daemon_pid "$name")"
  [ -n "$pid" ] || { rm -f "$DIR/run/$name.pid"; return 0; }
  stop_process "$pid" "$name" "$STOP_TIMEOUT_S"
  rm -f "$DIR/run/$name.pid"
  log "stopped $name (pid $pid)"
}

s3_url() { echo "http://127.0.0.1:$(rgw_port)"; }

# The gateway answers an anonymous list of buckets with 200.
s3_answers() { curl -sf -o /dev/null --max-time 2 "$(s3_url)/"; }

# Polls $1 (a command) until it succeeds or ARC_S3_READY_TIMEOUT_S passes; $2 names what is awaited.
wait_for() {
  local deadline=$((SECONDS + ${ARC_S3_READY_TIMEOUT_S:-120}))
  until "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$2 not ready after ${ARC_S3_READY_TIMEOUT_S:-120}s; logs in $DIR/log"
    sleep 0.2
  done
}

ceph_cmd() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }
mon_ready() { require_alive mon; ceph_cmd mon stat >/dev/null 2>&1; }

# --- cluster creation ----------------------------------------------------------------------------

write_conf() {
  local fsid="$1" mon_port="$2"
  cat >"$CONF" <<EOF
# Written by scripts/s3-server.sh: a single-node test cluster, authentication off.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $DIR/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000

[mon]
mon data = $DIR/mon/\$cluster-\$id
mon memory target = 256M

[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 100G
osd memory target = 896M
bluestore cache autotune = false
bluestore cache size = 64M
osd op num shards = 1
osd op num threads per shard = 2

[client.rgw.a]
rgw data = $DIR/rgw
rgw thread pool size = 32
rgw enable usage log = false
EOF
}

# ceph.conf as this script writes it today, for an existing cluster: same fsid and monitor port.
rewrite_conf() {
  local fsid mon_port
  fsid="$(sed -n 's/^fsid = //p' "$CONF")"
  mon_port="$(mon_port)"
  if [ -z "$fsid" ] || [ -z "$mon_port" ]; then die "cannot read fsid and monitor port from $CONF"; fi
  write_conf "$fsid" "$mon_port"
}

create_cluster() {
  local fsid mon_port rgw_port osd_uuid osd_id
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    die "$DIR exists and is not a test cluster made by this script; choose another DIR"
  fi
  mkdir -p "$DIR"/{run,log,mon/ceph-a,osd,rgw}
  echo "$$" >"$DIR/$MARKER"   # ours from here on (destroy may delete it), complete once `created`
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  mon_port="$(free_port_from 3300)"
  rgw_port="$(choose_port "${ARC_S3_PORT:-7480}" ARC_S3_PORT 7480)"
  echo "$rgw_port" >"$DIR/rgw-port"
  write_conf "$fsid" "$mon_port"

  log "creating the monitor (127.0.0.1:$mon_port)"
  monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1 ||
    die "ceph-mon --mkfs failed; see $DIR/log/mkfs.out"
  launch mon ceph-mon -i a
  wait_for mon_ready "the monitor"

  log "creating the OSD (BlueStore on a sparse file)"
  osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
  osd_id="$(ceph_cmd osd new "$osd_uuid")"
  [ "$osd_id" = 0 ] || die "expected OSD id 0, got '$osd_id'"
  mkdir -p "$DIR/osd/ceph-0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/mkfs.out" 2>&1 ||
    die "ceph-osd --mkfs failed; see $DIR/log/mkfs.out"
  touch "$DIR/created"
}

# Launches the monitor and the OSD if they do not run; the OSD retries its monitor until it answers,
# and the gateway waits for both, so readiness is awaited once, on S3 (each `ceph` CLI poll costs ~1 s).
start_mon_osd() {
  if [ -z "$(daemon_pid mon)" ]; then
    port_in_use "$(mon_port)" && move_monitor
    launch mon ceph-mon -i a
  fi
  [ -n "$(daemon_pid osd)" ] || launch osd ceph-osd -i 0
}

mon_port() { sed -n 's/^mon host = v2:127.0.0.1://p' "$CONF"; }

# A stopped cluster's monitor port can be taken meanwhile, typically by another test cluster created
# while this one was stopped (each picks the first free port from 3300 at creation). The monitor
# then cannot bind and every S3 request of the tests times out, so it moves to a free port: a new
# ceph.conf and the same change injected into the monitor's own map. The OSD and the gateway read
# the port at their start, so they are restarted with it.
move_monitor() {
  local old new fsid
  old="$(mon_port)"
  new="$(free_port_from 3300)"
  fsid="$(sed -n 's/^fsid = //p' "$CONF")"
  log "monitor port $old is taken by another process: moving this cluster's monitor to $new"
  stop_daemon rgw
  stop_daemon osd
  write_conf "$fsid" "$new"
  ceph-mon -c "$CONF" -i a --extract-monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1 ||
    die "ceph-mon --extract-monmap failed; see $DIR/log/mkfs.out"
  monmaptool --rm a "$DIR/monmap" >/dev/null
  monmaptool --addv a "[v2:127.0.0.1:$new]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --inject-monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1 ||
    die "ceph-mon --inject-monmap failed; see $DIR/log/mkfs.out"
}

# Fails at once, naming the daemon and its log, when one of the cluster's daemons has exited.
require_alive() {
  local name
  for name in "$@"; do
    [ -n "$(daemon_pid "$name")" ] ||
      die "$name exited while starting; last lines of $DIR/log/$name.out and the $name log in $DIR/log:
$(tail -n 5 "$DIR/log/$name.out" 2>/dev/null)"
  done
}

gateway_ready() { require_alive mon osd rgw; s3_answers; }

start_gateway() {
  local port
  port="$(rgw_port)"
  if [ -z "$(daemon_pid rgw)" ]; then
    port_in_use "$port" && die "port $port on 127.0.0.1 is taken by another process"
    launch rgw radosgw -n client.rgw.a --rgw-frontends "beast endpoint=127.0.0.1:$port"
  fi
  wait_for gateway_ready "the S3 gateway on 127.0.0.1:$port"
}

# The test user with its fixed keys, and the test bucket (made through S3 itself: radosgw-admin
# cannot create buckets).
ensure_user_and_bucket() {
  if ! radosgw-admin -c "$CONF" -n client.rgw.a user info --uid "$USER_ID" >/dev/null 2>&1; then
    radosgw-admin -c "$CONF" -n client.rgw.a user create --uid "$USER_ID" --display-name "Arc tests" \
      --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >>"$DIR/log/admin.out" 2>&1 ||
      die "radosgw-admin user create failed; see $DIR/log/admin.out"
  fi
  local status
  status="$(curl -s -o "$DIR/log/bucket.out" -w '%{http_code}' --max-time 10 -X PUT -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" "$(s3_url)/$BUCKET")"
  # 200: created; 409 BucketAlreadyOwnedByYou: made by an earlier start.
  case "$status" in
    200|409) ;;
    *) die "creating bucket $BUCKET answered HTTP $status: $(cat "$DIR/log/bucket.out")" ;;
  esac
}

# --- subcommands ---------------------------------------------------------------------------------

# Serialises start/stop on one DIR (test files running in parallel may all call start).
take_lock() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock -w 300 9 || die "another s3-server.sh holds $DIR.lock"
}

cmd_start() {
  require_packages
  take_lock
  if [ -f "$DIR/created" ] && [ -n "$(daemon_pid mon)" ] && [ -n "$(daemon_pid osd)" ] &&
     [ -n "$(daemon_pid rgw)" ] && s3_answers; then
    echo "already running: S3 at $(s3_url), bucket $BUCKET ($DIR)"
    return 0
  fi
  local began=$SECONDS
  if [ ! -f "$DIR/created" ]; then
    [ -f "$DIR/$MARKER" ] && { log "removing the unfinished cluster in $DIR"; cmd_stop_all; rm -rf "$DIR"; }
    create_cluster
  else
    rewrite_conf
    [ -n "$(daemon_pid rgw)" ] || choose_port_again
  fi
  start_mon_osd
  start_gateway
  ensure_user_and_bucket
  echo "started in $((SECONDS - began))s: S3 at $(s3_url), bucket $BUCKET ($DIR; logs in $DIR/log)"
}

cmd_stop_all() {
  stop_daemon rgw
  stop_daemon osd
  stop_daemon mon
}

cmd_stop() {
  [ -d "$DIR" ] || { echo "nothing in $DIR"; return 0; }
  take_lock
  cmd_stop_all
  echo "stopped ($DIR)"
}

cmd_stop_gateway() {
  [ -f "$DIR/created" ] || die "no cluster in $DIR (run start)"
  take_lock
  stop_daemon rgw
  ! s3_answers || die "S3 still answers at $(s3_url) after radosgw stopped"
  echo "gateway stopped: $(s3_url) refuses connections"
}

cmd_start_gateway() {
  [ -f "$DIR/created" ] || die "no cluster in $DIR (run start)"
  require_packages
  take_lock
  local began=$SECONDS
  start_mon_osd
  start_gateway
  echo "gateway answering at $(s3_url) after $((SECONDS - began))s"
}

cmd_env() {
  [ -f "$DIR/created" ] || die "no cluster in $DIR (run start)"
  echo "export ARC_TEST_S3_ENDPOINT=$(s3_url)"
  echo "export ARC_TEST_S3_ACCESS_KEY=$ACCESS_KEY"
  echo "export ARC_TEST_S3_SECRET_KEY=$SECRET_KEY"
  echo "export ARC_TEST_S3_BUCKET=$BUCKET"
  echo "export ARC_TEST_S3_REGION=us-east-1"
}

cmd_status() {
  [ -f "$DIR/created" ] || { echo "no cluster in $DIR"; return 1; }
  local name pid
  for name in mon osd rgw; do
    pid="$(daemon_pid "$name")"
    if [ -n "$pid" ]; then
      echo "$name: running, pid $pid, RSS $(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$pid/status")"
    else
      echo "$name: stopped"
    fi
  done
  if s3_answers; then echo "S3: answering at $(s3_url)"; else echo "S3: not answering at $(s3_url)"; return 1; fi
}

cmd_destroy() {
  [ -d "$DIR" ] || { echo "nothing in $DIR"; return 0; }
  [ -f "$DIR/$MARKER" ] || die "$DIR was not made by this script; not deleting it"
  take_lock
  cmd_stop_all
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
    stop-gateway) cmd_stop_gateway ;;
    start-gateway) cmd_start_gateway ;;
    restart-gateway) cmd_stop_gateway; cmd_start_gateway ;;
    env) cmd_env ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    *) usage ;;
  esac
}

main "$@"
