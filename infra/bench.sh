#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md: release bootstraps for both architectures (sizes),
# then CPU per request, login throughput and cold starts on this machine's
# architecture. Extra arguments go to the `bench` binary (`--help` lists them).
# The report is printed and kept in $LOG_DIR/bench-<time>.md. Then the load and
# the 10-minute soak through the local stack (infra/load.sh; BENCH_LOAD=0 skips it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

BUILD_EXTRA=floor "$ROOT/infra/build.sh" arm64 x86_64
case $(uname -m) in
  x86_64) host=x86_64 ;;
  aarch64 | arm64) host=arm64 ;;
  *) die "no release bootstraps for $(uname -m)" ;;
esac
say "cargo build --release -p benchmarks"
cargo build --release -p benchmarks
report="$LOG_DIR/bench-$(date +%Y%m%dT%H%M%S).md"
"$CARGO_TARGET_DIR/release/bench" --bootstraps "$CARGO_TARGET_DIR/lambda/$host" "$@" | tee "$report"
say "report: $report"
if [ "${BENCH_LOAD:-1}" != 0 ]; then
  "$ROOT/infra/load.sh"
fi
