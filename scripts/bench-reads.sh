#!/usr/bin/env bash
# eth_call (ERC-20 balanceOf) and eth_getBalance requests per second at N concurrent
# connections: Scion (--dev, release) and anvil (npm), fresh nodes, alternating runs on this
# machine.
# Usage: scripts/bench-reads.sh [SECONDS] [RUNS] [CONCURRENCY]
secs=${1:-10}; runs=${2:-2}; conc=${3:-16}
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
(cd contracts && PATH="$here/tools/node_modules/.bin:$PATH" forge build -q)
erc20="$here/contracts/out/ScionToken.sol/ScionToken.json"
for run in $(seq 1 "$runs"); do
  for method in call balance; do
    for node in scion anvil; do
      start_node $node
      url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
      # eth_call is balanceOf on the ERC-20 token.
      token=$([[ $method == call ]] && echo "$erc20" || true)
      target/release/scion-bench read --rpc "$url" --seconds "$secs" --concurrency "$conc" \
        --method "$method" --label "$node run $run" ${token:+--erc20 "$token"}
      stop_node
    done
  done
done
