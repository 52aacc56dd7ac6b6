#!/usr/bin/env bash
# Issue 7's write workloads, Scion (--dev, release, MDBX on disk) against anvil (npm), fresh
# nodes, alternating, on this machine: ETH and ERC-20 transfers from many senders.
# Usage: scripts/bench-compare.sh [COUNT] [SENDERS] [RUNS]
count=${1:-50000}; senders=${2:-1000}; runs=${3:-1}
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
(cd contracts && PATH="$here/tools/node_modules/.bin:$PATH" forge build -q)
erc20="$here/contracts/out/ScionToken.sol/ScionToken.json"
for run in $(seq 1 "$runs"); do
  for token in "" "$erc20"; do
    for node in scion anvil; do
      start_node $node
      url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
      target/release/scion-bench transfers --rpc "$url" --count "$count" --senders "$senders" \
        --concurrency 8 --batch 50 --label "$node run $run" ${token:+--erc20 "$token"} 2>/dev/null
      stop_node
    done
  done
done
