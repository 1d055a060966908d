#!/usr/bin/env bash
# Installs and starts the local emulators the service runs on outside AWS:
#   DynamoDB Local (AWS's jar, shipped in the npm package amplify-dynamodb-simulator)
#   the SES v2 emulator (npm package aws-ses-v2-local)
#   KMS, from moto's server (PyPI package moto), for the KMS signer's tests
# Everything is installed into a cache outside the work tree
# ($ONBOARDING_CACHE, default ~/.cache/onboarding) and reused by later runs
# and by other clones on the same machine.
#
#   infra/scripts/emulators.sh install   install (idempotent)
#   infra/scripts/emulators.sh start     install, then start any that are not running
#   infra/scripts/emulators.sh stop      stop the ones this script started
#   infra/scripts/emulators.sh status
set -euo pipefail

DDB_SIM_VERSION=2.9.30     # amplify-dynamodb-simulator (DynamoDB Local jar inside)
SES_LOCAL_VERSION=2.10.2   # aws-ses-v2-local
MOTO_VERSION=5.2.5         # moto[server], for KMS

CACHE=${ONBOARDING_CACHE:-$HOME/.cache/onboarding}
DDB_PORT=${DYNAMODB_PORT:-8000}
SES_PORT=${SES_PORT:-8005}
KMS_PORT=${KMS_PORT:-8010}
STATE=${ONBOARDING_STATE:-$CACHE/state}
DDB_DIR=$CACHE/dynamodb-local-$DDB_SIM_VERSION
SES_DIR=$CACHE/ses-local-$SES_LOCAL_VERSION
MOTO_DIR=$CACHE/moto-$MOTO_VERSION

log() { printf 'emulators: %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { log "$1 is required ($2)"; exit 1; }
}

install() {
  need java "DynamoDB Local runs on Java 11 or later: apt-get install default-jre-headless"
  need npm "the emulators come from the npm registry: apt-get install nodejs npm"
  mkdir -p "$CACHE" "$STATE"
  if [ ! -f "$DDB_DIR/DynamoDBLocal.jar" ]; then
    log "installing DynamoDB Local (amplify-dynamodb-simulator@$DDB_SIM_VERSION) into $DDB_DIR"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$DDB_SIM_VERSION" >/dev/null)
    tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp"
    rm -rf "$DDB_DIR" && mkdir -p "$(dirname "$DDB_DIR")"
    mv "$tmp/package/emulator" "$DDB_DIR"
    rm -rf "$tmp"
  fi
  if [ ! -x "$SES_DIR/node_modules/.bin/aws-ses-v2-local" ]; then
    log "installing the SES v2 emulator (aws-ses-v2-local@$SES_LOCAL_VERSION) into $SES_DIR"
    mkdir -p "$SES_DIR"
    (cd "$SES_DIR" && [ -f package.json ] || echo '{"private":true}' > package.json)
    (cd "$SES_DIR" && npm install --silent --no-audit --no-fund "aws-ses-v2-local@$SES_LOCAL_VERSION" >/dev/null)
  fi
  if [ ! -x "$MOTO_DIR/bin/moto_server" ]; then
    need python3 "moto's KMS emulator runs on Python 3: apt-get install python3 python3-venv"
    log "installing moto's server (moto[server]==$MOTO_VERSION) into $MOTO_DIR"
    rm -rf "$MOTO_DIR"
    python3 -m venv "$MOTO_DIR"
    "$MOTO_DIR/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # port name
  for _ in $(seq 1 150); do
    listening "$1" && return 0
    sleep 0.2
  done
  log "$2 did not start on port $1; see $STATE/$2.log"
  tail -20 "$STATE/$2.log" >&2 || true
  exit 1
}

start() {
  install
  if listening "$DDB_PORT"; then
    log "DynamoDB Local already listening on 127.0.0.1:$DDB_PORT"
  else
    mode=(-inMemory)
    [ "${DYNAMODB_PERSIST:-0}" = 1 ] && mkdir -p "$STATE/dynamodb" && mode=(-sharedDb -dbPath "$STATE/dynamodb")
    log "starting DynamoDB Local on 127.0.0.1:$DDB_PORT (${mode[*]})"
    # Started from the state folder: DynamoDB Local writes a metadata file
    # into its working directory.
    (cd "$STATE" && exec nohup java -Xmx2g -Djava.library.path="$DDB_DIR/DynamoDBLocal_lib" -jar "$DDB_DIR/DynamoDBLocal.jar" \
      "${mode[@]}" -port "$DDB_PORT" -disableTelemetry >"$STATE/dynamodb.log" 2>&1) &
    echo $! >"$STATE/dynamodb.pid"
    wait_for "$DDB_PORT" dynamodb
  fi
  if listening "$SES_PORT"; then
    log "SES v2 emulator already listening on 127.0.0.1:$SES_PORT"
  else
    log "starting the SES v2 emulator on 127.0.0.1:$SES_PORT"
    nohup "$SES_DIR/node_modules/.bin/aws-ses-v2-local" --host 127.0.0.1 --port "$SES_PORT" >"$STATE/ses.log" 2>&1 &
    echo $! >"$STATE/ses.pid"
    wait_for "$SES_PORT" ses
  fi
  if listening "$KMS_PORT"; then
    log "KMS (moto) already listening on 127.0.0.1:$KMS_PORT"
  else
    log "starting KMS (moto) on 127.0.0.1:$KMS_PORT"
    nohup "$MOTO_DIR/bin/moto_server" -H 127.0.0.1 -p "$KMS_PORT" >"$STATE/kms.log" 2>&1 &
    echo $! >"$STATE/kms.pid"
    wait_for "$KMS_PORT" kms
  fi
}

stop() {
  for name in dynamodb ses kms; do
    if [ -f "$STATE/$name.pid" ]; then
      pid=$(cat "$STATE/$name.pid")
      kill "$pid" 2>/dev/null || true
      # Wait for it to go, so that a start right after does not find the port taken.
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$STATE/$name.pid"
      log "stopped $name"
    fi
  done
}

status() {
  listening "$DDB_PORT" && log "DynamoDB Local: up on $DDB_PORT" || log "DynamoDB Local: down"
  listening "$SES_PORT" && log "SES v2 emulator: up on $SES_PORT" || log "SES v2 emulator: down"
  listening "$KMS_PORT" && log "KMS (moto): up on $KMS_PORT" || log "KMS (moto): down"
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
