#!/usr/bin/env bash
# eth_call and eth_getBalance requests per second at N concurrent connections: Scion (--dev,
# release) and anvil (npm), alternating runs on this machine.
# Usage: scripts/bench-reads.sh [SECONDS] [RUNS] [CONCURRENCY]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
secs=${1:-10}; runs=${2:-2}; conc=${3:-16}
scripts/install-tools.sh
cargo build --release -q --bin scion --bin scion-bench
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
wait_rpc() { for _ in $(seq 1 200); do curl -s -X POST -H 'content-type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
for run in $(seq 1 "$runs"); do
  for method in call balance; do
    rm -rf "$work/scion"
    target/release/scion node --dev --datadir "$work/scion" --http.port 18645 >"$work/scion.log" 2>&1 &
    pid=$!; wait_rpc http://127.0.0.1:18645
    target/release/scion-bench read --rpc http://127.0.0.1:18645 --seconds "$secs" --concurrency "$conc" --method "$method" --label "scion run $run"
    kill $pid; wait $pid 2>/dev/null || true
    tools/node_modules/.bin/anvil --port 18646 --silent >"$work/anvil.log" 2>&1 &
    pid=$!; wait_rpc http://127.0.0.1:18646
    target/release/scion-bench read --rpc http://127.0.0.1:18646 --seconds "$secs" --concurrency "$conc" --method "$method" --label "anvil run $run"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
