#!/usr/bin/env bash
# Load and soak through the local stack (not part of CI): starts the emulators,
# serves every function with `cargo lambda watch --concurrency $LOAD_CONCURRENCY`
# plus the outbox relay, runs `bench --load` at each level of callers in flight
# and then a soak sampling each instance's memory, and stops what it started.
#   LOAD_IN_FLIGHT   (default 16,64)  callers in flight, one level each
#   LOAD_SECONDS     (default 30)    seconds per level
#   SOAK_MINUTES     (default 10)    soak at the highest level; 0 skips it
#   LOAD_CONCURRENCY (default 8)     instances per function
# Debug builds on a laptop: the figures show the shape (no 5xx, flat memory),
# not AWS's latencies; BENCHMARKS.md says which is which.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT="${LOAD_PORT:-9200}"
WATCH_PID=
RELAY_PID=
cleanup() {
  for pid in $RELAY_PID $WATCH_PID; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  "$ROOT/infra/emulators.sh" stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/infra/install.sh"
"$ROOT/infra/emulators.sh" start
load_env
cargo build --workspace --bins --quiet
"$CARGO_TARGET_DIR/debug/accountctl" init
cargo build --release -p benchmarks --quiet

say "cargo lambda watch on 127.0.0.1:$PORT (log: $LOG_DIR/watch-load.log)"
cargo lambda watch -A 127.0.0.1 -P "$PORT" --concurrency "${LOAD_CONCURRENCY:-8}" --ignore-changes \
  --env-file infra/local.env >"$LOG_DIR/watch-load.log" 2>&1 &
WATCH_PID=$!
wait_port "$PORT" 120 "cargo lambda watch" "$WATCH_PID"
"$ROOT/infra/outbox-relay.sh" >"$LOG_DIR/outbox-relay-load.log" 2>&1 &
RELAY_PID=$!

report="$LOG_DIR/load-$(date +%Y%m%dT%H%M%S).md"
"$CARGO_TARGET_DIR/release/bench" --load "http://127.0.0.1:$PORT" \
  --in-flight "${LOAD_IN_FLIGHT:-16,64}" --load-seconds "${LOAD_SECONDS:-30}" \
  --soak-minutes "${SOAK_MINUTES:-10}" --watch-pid "$WATCH_PID" | tee "$report"
say "report: $report"
