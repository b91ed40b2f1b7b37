#!/usr/bin/env bash
# The local mailer, in the foreground: reads the outbox table's stream on
# DynamoDB Local and hands each batch to the `mailer` function's own handler,
# which sends through aws-ses-v2-local (what Lambda's stream trigger does in
# AWS). Configured by infra/local.env alone. Ctrl-C stops it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
load_env
cargo build -q -p outbox-relay
exec "$CARGO_TARGET_DIR/debug/outbox-relay"
