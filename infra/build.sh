#!/usr/bin/env bash
# Release bootstraps of every function, for arm64 and x86_64 (or the one named):
#   infra/build.sh [arm64|x86_64]...
# Output: $CARGO_TARGET_DIR/lambda/<arch>/<function>/bootstrap, and a size table.
# (`sam build` builds the same crates itself, with the same release profile.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
cargo lambda --version >/dev/null 2>&1 || "$ROOT/infra/install.sh"

# Position-dependent x86_64 bootstraps too, like arm64 in .cargo/config.toml (only
# for --target builds: the host's own builds keep their flags and their cache).
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C relocation-model=static"

FUNCTIONS=(recover-password set-password resend-code lock-user login reset-page mailer)
# Extra packages (the benchmark's floor function) built with the same profile.
EXTRA=(${BUILD_EXTRA:-})
ARCHES=("$@")
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(arm64 x86_64)

packages=()
for p in "${FUNCTIONS[@]}" "${EXTRA[@]}"; do packages+=(-p "$p"); done

for arch in "${ARCHES[@]}"; do
  case $arch in
    arm64) flag=--arm64 ;;
    x86_64) flag=--x86-64 ;;
    *) die "unknown architecture $arch (arm64 or x86_64)" ;;
  esac
  say "cargo lambda build --release $flag"
  start=$SECONDS
  cargo lambda build --release "$flag" --lambda-dir "$CARGO_TARGET_DIR/lambda/$arch" "${packages[@]}"
  say "$arch built in $((SECONDS - start)) s"
  printf '%-18s %10s\n' "$arch" "bytes" >&2
  for p in "${FUNCTIONS[@]}" "${EXTRA[@]}"; do
    printf '%-18s %10s\n' "$p" "$(stat -c %s "$CARGO_TARGET_DIR/lambda/$arch/$p/bootstrap")" >&2
  done
done
