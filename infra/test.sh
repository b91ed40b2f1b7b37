#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, the SAM template (cfn-lint,
# sam validate --lint), unit tests, API tests against the emulators,
# end-to-end tests over HTTP through `cargo lambda watch`, schemathesis against
# openapi.yaml, and the reset-password page in headless Chromium.
# Installs what is missing, starts what it needs, stops what it started.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

E2E_PORT="${E2E_PORT:-9100}"
WATCH_PID=
RELAY_PID=
ONE_PIDS=
cleanup() {
  for pid in $ONE_PIDS; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  if [ -n "$RELAY_PID" ] && kill -0 "$RELAY_PID" 2>/dev/null; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
    say "stopped the outbox relay (pid $RELAY_PID)"
  fi
  if [ -n "$WATCH_PID" ] && kill -0 "$WATCH_PID" 2>/dev/null; then
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    say "stopped cargo lambda watch (pid $WATCH_PID)"
  fi
  "$ROOT/infra/emulators.sh" stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/infra/install.sh" --test
"$ROOT/infra/emulators.sh" start
load_env

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "template.yaml: cfn-lint, sam validate --lint"
cfn-lint template.yaml
if command -v sam >/dev/null; then
  AWS_DEFAULT_REGION="$AWS_REGION" SAM_CLI_TELEMETRY=0 sam validate --lint --template-file template.yaml
fi

# libFuzzer on the request parsers and the policy engine: a short run from the
# corpus in fuzz/corpus (new finds go to a scratch directory, not the clone).
# RUSTC_BOOTSTRAP lets the stable toolchain take cargo-fuzz's flags; no
# sanitizer is needed for code that forbids `unsafe`.
FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
for target in request_parsing password_policy callback_link; do
  say "fuzz $target for ${FUZZ_SECONDS}s"
  scratch="$CACHE/fuzz-corpus/$target"
  mkdir -p "$scratch"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer none --target-dir "$CACHE/fuzz-target" \
    "$target" "$scratch" "fuzz/corpus/$target" -- -max_total_time="$FUZZ_SECONDS" -timeout=5 \
    >"$LOG_DIR/fuzz-$target.log" 2>&1 || { tail -40 "$LOG_DIR/fuzz-$target.log"; die "fuzzing $target found a crash"; }
  grep -E "^Done [0-9]+ runs" "$LOG_DIR/fuzz-$target.log" || true
done

say "build"
cargo build --workspace --all-targets --quiet
"$CARGO_TARGET_DIR/debug/accountctl" init >/dev/null

port_open "$E2E_PORT" && die "127.0.0.1:$E2E_PORT is in use; set E2E_PORT to a free port"
say "cargo lambda watch on 127.0.0.1:$E2E_PORT (log: $LOG_DIR/watch-test.log)"
# The response floor is lowered for the HTTP tests: timing has its own in-process test.
cargo lambda watch -A 127.0.0.1 -P "$E2E_PORT" --concurrency 4 --ignore-changes \
  --env-file infra/local.env --env-var RESPONSE_FLOOR_MS=20 >"$LOG_DIR/watch-test.log" 2>&1 &
WATCH_PID=$!
wait_port "$E2E_PORT" 120 "cargo lambda watch" "$WATCH_PID"

say "outbox relay (log: $LOG_DIR/outbox-relay-test.log)"
"$ROOT/infra/outbox-relay.sh" >"$LOG_DIR/outbox-relay-test.log" 2>&1 &
RELAY_PID=$!

say "cargo test"
# The outbox's fault test freezes the mail emulator it started (SIGSTOP/SIGCONT).
SES_PID="$(cat "$RUN_DIR/ses.pid" 2>/dev/null || true)" \
E2E_BASE_URL="http://127.0.0.1:$E2E_PORT" cargo test --workspace

say "fault tests: DynamoDB Local frozen during requests (alone, one at a time)"
DDB_PID="$(cat "$RUN_DIR/dynamodb.pid")" E2E_BASE_URL="http://127.0.0.1:$E2E_PORT" \
  cargo test -q -p api-tests -- --ignored --test-threads=1 --nocapture >"$LOG_DIR/faults.log" 2>&1 \
  || { tail -60 "$LOG_DIR/faults.log"; die "fault tests failed"; }
grep -E "frozen|freeze|test result" "$LOG_DIR/faults.log" || true

say "benchmarks with tiny counts on debug builds (they must keep running; figures: infra/bench.sh)"
"$CARGO_TARGET_DIR/debug/bench" --quick --bootstraps "$CARGO_TARGET_DIR/debug" --flat \
  >"$LOG_DIR/bench-quick.md" 2>&1 || { tail -30 "$LOG_DIR/bench-quick.md"; die "benchmarks failed"; }
say "benchmarks ran: $(grep -c '^| ' "$LOG_DIR/bench-quick.md") table rows in $LOG_DIR/bench-quick.md"

say "schemathesis: every response matches openapi.yaml, no 5xx"
# One worker: CPython 3.11's ast.parse is not thread-safe ("AST constructor recursion
# depth mismatch" inside hypothesis when two workers describe strategies at once).
schemathesis() {
  SCHEMATHESIS_HOOKS=tests.schemathesis.hooks PYTHONPATH="$ROOT" SCHEMATHESIS_TELEMETRY=false \
    st run openapi.yaml --url "http://127.0.0.1:$E2E_PORT" --generation-codec utf-8 --seed 1 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples 25 --workers 1 --request-timeout 30 >"$LOG_DIR/schemathesis.log" 2>&1
}
if ! schemathesis; then
  # An error inside the tool (not a failed check) gets one more run; a failure never does.
  if grep -q "Runtime Error" "$LOG_DIR/schemathesis.log" && ! grep -q "^Failures:" "$LOG_DIR/schemathesis.log"; then
    say "schemathesis had an internal error; running it once more"
    schemathesis || { tail -80 "$LOG_DIR/schemathesis.log"; die "schemathesis found failures"; }
  else
    tail -80 "$LOG_DIR/schemathesis.log"; die "schemathesis found failures"
  fi
fi
grep -E "generated, " "$LOG_DIR/schemathesis.log" | tail -1

# WSO2's own descriptions (tests/wso2), limited to the operations we serve, with
# the one check that holds whatever WSO2 and we answer: nothing it lets a client
# send gets a 5xx. Its basePath is /t/{tenant-domain}/...: the default tenant.
wso2() {
  local name=$1 spec=$2 base=$3; shift 3
  SCHEMATHESIS_HOOKS=tests.schemathesis.hooks PYTHONPATH="$ROOT" SCHEMATHESIS_TELEMETRY=false \
    st run "$spec" --url "http://127.0.0.1:$E2E_PORT/t/carbon.super$base" --generation-codec utf-8 \
    --seed 1 --checks not_a_server_error --max-examples 25 --workers 1 --request-timeout 30 "$@" \
    >"$LOG_DIR/schemathesis-wso2-$name.log" 2>&1 \
    || { tail -60 "$LOG_DIR/schemathesis-wso2-$name.log"; die "schemathesis ($name) found a 5xx"; }
  say "  WSO2 $name: $(grep -E "generated, " "$LOG_DIR/schemathesis-wso2-$name.log" | tail -1)"
}
say "schemathesis against WSO2's API descriptions: no 5xx"
wso2 recovery tests/wso2/api.identity.recovery.v0.9.yaml /api/identity/recovery/v0.9 \
  --include-path-regex '^/(recover-password|set-password|validate-code)$'
wso2 captcha tests/wso2/api.identity.recovery.v0.9.yaml /api/identity/recovery/v0.9 \
  --include-operation-id getCaptcha
wso2 resend tests/wso2/api.identity.user.v1.0.yaml /api/identity/user/v1.0 \
  --include-path /resend-code

say "browser tests (headless Chromium, JavaScript on and off)"
E2E_BASE_URL="http://127.0.0.1:$E2E_PORT" node --test tests/browser/

# One endpoint for every service, the way LocalStack is used: moto's server (a
# second, independent emulator) on one loopback port, the same build configured
# by AWS_ENDPOINT_URL alone (no per-service endpoint in the environment), and
# the end-to-end suite over HTTP against it.
MOTO_PORT="${MOTO_PORT:-5055}"
ONE_PORT="${ONE_PORT:-9102}"
port_open "$MOTO_PORT" && die "127.0.0.1:$MOTO_PORT is in use; set MOTO_PORT to a free port"
port_open "$ONE_PORT" && die "127.0.0.1:$ONE_PORT is in use; set ONE_PORT to a free port"
say "one-endpoint mode: moto's server on 127.0.0.1:$MOTO_PORT (log: $LOG_DIR/moto.log)"
# One request at a time (infra/moto-serial.py says why): moto's threaded server
# can lose a conditional write under a burst, which DynamoDB never does.
python3 "$ROOT/infra/moto-serial.py" 127.0.0.1 "$MOTO_PORT" >"$LOG_DIR/moto.log" 2>&1 &
ONE_PIDS="$!"
wait_port "$MOTO_PORT" 60 "moto_server" "$ONE_PIDS"
one_env="$RUN_DIR/one-endpoint.env"
{ grep -v '^AWS_ENDPOINT_URL_' infra/local.env; echo "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT"; } >"$one_env"
one_vars=(-u AWS_ENDPOINT_URL_DYNAMODB -u AWS_ENDPOINT_URL_SESV2 AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  LOCAL_ENV="$one_env" MAIL_STORE=moto)
one() { env "${one_vars[@]}" "$@"; }
exec_one() { exec env "${one_vars[@]}" "$@"; }
# SES (moto's as AWS's) sends only from a verified identity.
one python3 -c 'import boto3, os; boto3.client("ses", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]).verify_email_identity(EmailAddress=os.environ["MAIL_FROM"])'
one "$CARGO_TARGET_DIR/debug/accountctl" init >/dev/null
# `exec` in a subshell: $! is then the server itself, which the cleanup stops.
(exec_one cargo lambda watch -A 127.0.0.1 -P "$ONE_PORT" --concurrency 4 --ignore-changes \
  --env-file "$one_env" --env-var RESPONSE_FLOOR_MS=20) >"$LOG_DIR/watch-one-endpoint.log" 2>&1 &
ONE_PIDS="$ONE_PIDS $!"
wait_port "$ONE_PORT" 120 "cargo lambda watch (one endpoint)" "$!"
(exec_one "$CARGO_TARGET_DIR/debug/outbox-relay") >"$LOG_DIR/outbox-relay-one-endpoint.log" 2>&1 &
ONE_PIDS="$ONE_PIDS $!"
say "end-to-end tests against moto (log: $LOG_DIR/e2e-one-endpoint.log)"
one E2E_BASE_URL="http://127.0.0.1:$ONE_PORT" cargo test -q -p api-tests e2e -- --nocapture \
  >"$LOG_DIR/e2e-one-endpoint.log" 2>&1 \
  || { tail -60 "$LOG_DIR/e2e-one-endpoint.log"; die "the end-to-end tests failed against moto (one endpoint)"; }
grep -E "test result" "$LOG_DIR/e2e-one-endpoint.log" || true

# The deploy build: `sam build` runs cargo lambda build --release --arm64 per
# function (samconfig.toml turns on SAM's cargo-lambda beta). Artifacts go to
# the cache, not the clone; `sam deploy` cannot run here.
if ! rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
  rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
fi
if ! rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
  say "WARNING: sam build skipped: the aarch64-unknown-linux-gnu Rust target is missing and could not be added"
elif command -v sam >/dev/null; then
  say "sam build (release, arm64; log: $LOG_DIR/sam-build.log)"
  AWS_DEFAULT_REGION="$AWS_REGION" SAM_CLI_TELEMETRY=0 \
    sam build --beta-features --build-dir "$CACHE/sam-build" >"$LOG_DIR/sam-build.log" 2>&1 \
    || { tail -40 "$LOG_DIR/sam-build.log"; die "sam build failed"; }
  for b in "$CACHE"/sam-build/*/bootstrap; do
    printf '  %-26s %s bytes\n' "$(basename "$(dirname "$b")")" "$(stat -c %s "$b")"
  done
fi
