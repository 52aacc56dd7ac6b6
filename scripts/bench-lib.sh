# Shared by the bench-*.sh scripts (sourced): tools, a release build, a work directory, and
# starting fresh Scion and anvil nodes on fixed local ports.
set -euo pipefail
trap 'echo "${BASH_SOURCE[0]}: line $LINENO failed (exit $?)" >&2' ERR
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/install-tools.sh
cargo build --release -q --bin scion --bin scion-bench
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
SCION_URL=http://127.0.0.1:18645
ANVIL_URL=http://127.0.0.1:18646

wait_rpc() {
  for _ in $(seq 1 200); do
    curl -s -X POST -H 'content-type: application/json' \
      --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' "$1" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# Starts a fresh node ("scion" or "anvil") in the background; its pid is in $node_pid.
start_node() {
  if [[ $1 == scion ]]; then
    rm -rf "$work/scion"
    target/release/scion node --dev --datadir "$work/scion" --http.port 18645 >"$work/scion.log" 2>&1 &
    node_pid=$!; wait_rpc "$SCION_URL"
  else
    # anvil writes the states it pages out under $HOME/.foundry/anvil/tmp and leaves them
    # behind when killed (gigabytes per run); a home inside $work is removed with it.
    HOME="$work/anvil-home" tools/node_modules/.bin/anvil --port 18646 --silent \
      >"$work/anvil.log" 2>&1 &
    node_pid=$!; wait_rpc "$ANVIL_URL"
  fi
}

stop_node() {
  kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
  rm -rf "$work/anvil-home"
}
