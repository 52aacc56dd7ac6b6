#!/usr/bin/env bash
# ETH transfers per second from eth_sendRawTransaction to mined receipt: Scion (--dev, release
# build, MDBX on disk) and anvil (from npm), fresh nodes, alternating runs on this machine.
# Usage: scripts/bench-transfers.sh [COUNT] [RUNS] [CONCURRENCY]
count=${1:-1000}; runs=${2:-3}; conc=${3:-1}
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
for run in $(seq 1 "$runs"); do
  for node in scion anvil; do
    start_node $node
    url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
    target/release/scion-bench transfers --rpc "$url" --count "$count" --concurrency "$conc" --label "$node run $run"
    stop_node
  done
done
