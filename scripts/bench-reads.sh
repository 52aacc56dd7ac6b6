#!/usr/bin/env bash
# eth_call and eth_getBalance requests per second at N concurrent connections: Scion (--dev,
# release) and anvil (npm), fresh nodes, alternating runs on this machine.
# Usage: scripts/bench-reads.sh [SECONDS] [RUNS] [CONCURRENCY]
secs=${1:-10}; runs=${2:-2}; conc=${3:-16}
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
for run in $(seq 1 "$runs"); do
  for method in call balance; do
    for node in scion anvil; do
      start_node $node
      url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
      target/release/scion-bench read --rpc "$url" --seconds "$secs" --concurrency "$conc" --method "$method" --label "$node run $run"
      stop_node
    done
  done
done
