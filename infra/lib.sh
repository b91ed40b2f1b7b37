# Shared by the infra scripts: paths, logging, waiting for ports.
# Builds, emulators and logs live outside the clone, so a fresh clone reuses them.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${ACCOUNT_RECOVERY_CACHE:-$HOME/.cache/account-recovery}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
EMU_DIR="$CACHE/emulators"
RUN_DIR="$CACHE/run"
LOG_DIR="$CACHE/logs"
mkdir -p "$EMU_DIR" "$RUN_DIR" "$LOG_DIR"

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# port_open PORT: something listens on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS NAME [PID]: wait until the port answers; fail early if PID dies.
wait_port() {
  local port=$1 secs=$2 name=$3 pid=${4:-}
  for _ in $(seq 1 $((secs * 10))); do
    port_open "$port" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      die "$name exited before listening on 127.0.0.1:$port (see $LOG_DIR)"
    fi
    sleep 0.1
  done
  die "$name did not listen on 127.0.0.1:$port within ${secs}s (see $LOG_DIR)"
}

# load_env: export every KEY=VALUE of infra/local.env.
load_env() { set -a; . "$ROOT/infra/local.env"; set +a; }
