#!/usr/bin/env bash
# Starts the whole service locally: installs what is missing, starts the
# emulators, creates the tables, seeds tenant carbon.super with an admin and a
# demo user, and serves every function on http://127.0.0.1:9000, the
# reset-password page at /recovery/reset-password among them.
# Ctrl-C stops everything it started. The demo passwords go through the tenant's
# password policy like any other, so they may not contain the username.
#   ADMIN_PASSWORD (default: Orchid-Lantern-42) password of user `admin` (admin@localhost)
#   KIM_PASSWORD   (default: Velvet-Harbor-17)  password of user `kim` (kim@localhost)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/infra/install.sh"
RELAY_PID=
cleanup() {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null || true
  "$ROOT/infra/emulators.sh" stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$ROOT/infra/emulators.sh" start
load_env

say "building (the first build takes a few minutes)"
cargo build --workspace --bins

say "tables and demo data"
accountctl() { "$CARGO_TARGET_DIR/debug/accountctl" "$@"; }
accountctl init
printf '%s\n' "${ADMIN_PASSWORD:-Orchid-Lantern-42}" | accountctl user add --tenant carbon.super \
  --username admin --email admin@localhost --admin --password-stdin --exists-ok
printf '%s\n' "${KIM_PASSWORD:-Velvet-Harbor-17}" | accountctl user add --tenant carbon.super \
  --username kim --email kim@localhost --password-stdin --exists-ok

# Reset links in the demo tenant's mails open the page this stack serves.
accountctl tenant set --tenant carbon.super \
  'recovery.callback_regex=^(https://localhost:9443/|http://127\.0\.0\.1:9000/).*' \
  recovery.default_callback=http://127.0.0.1:9000/recovery/reset-password

# Mail leaves through the outbox; the relay delivers it to the inbox within a second.
"$ROOT/infra/outbox-relay.sh" >"$LOG_DIR/outbox-relay.log" 2>&1 &
RELAY_PID=$!
say "outbox relay delivering mail (pid $RELAY_PID, log: $LOG_DIR/outbox-relay.log)"

say "serving http://127.0.0.1:9000 (mail inbox: http://127.0.0.1:8005/); Ctrl-C stops"
cargo lambda watch -A 127.0.0.1 -P 9000 --env-file infra/local.env
