#!/usr/bin/env bash
# Issue 7's write workloads, Scion (--dev, release, MDBX on disk) against anvil (npm), fresh
# nodes, alternating, on this machine: ETH and ERC-20 transfers from many senders.
# Usage: scripts/bench-compare.sh [COUNT] [SENDERS] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
count=${1:-50000}; senders=${2:-1000}; runs=${3:-1}
scripts/install-tools.sh
cargo build --release -q --bin scion --bin scion-bench
(cd contracts && PATH="$here/tools/node_modules/.bin:$PATH" forge build -q)
erc20="$here/contracts/out/ScionToken.sol/ScionToken.json"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
wait_rpc() { for _ in $(seq 1 200); do curl -s -X POST -H 'content-type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
bench() { target/release/scion-bench transfers --rpc "$1" --count "$count" --senders "$senders" --concurrency 8 --batch 50 --label "$2" ${3:+--erc20 "$3"} 2>/dev/null; }
for run in $(seq 1 "$runs"); do
  for token in "" "$erc20"; do
    rm -rf "$work/scion"
    target/release/scion node --dev --datadir "$work/scion" --http.port 18645 >"$work/scion.log" 2>&1 &
    pid=$!; wait_rpc http://127.0.0.1:18645
    bench http://127.0.0.1:18645 "scion run $run" "$token"
    kill $pid; wait $pid 2>/dev/null || true
    tools/node_modules/.bin/anvil --port 18646 --silent >"$work/anvil.log" 2>&1 &
    pid=$!; wait_rpc http://127.0.0.1:18646
    bench http://127.0.0.1:18646 "anvil run $run" "$token"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
