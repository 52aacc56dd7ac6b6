#!/usr/bin/env bash
# Starts an N-node Scion network on 127.0.0.1 from the dev genesis (default 5 nodes):
#  - node 1 listens for peers; nodes 2..N dial it and find each other through it;
#  - no node seals by itself (--no-automine): `scion miner` merge-mines through node 1's mnr_;
#  - two `scion federator`s run against nodes 2 and 3, on a Bitcoin regtest stand-in
#    (scion-regtest; pass --btc-rpc URL to use a real regtest bitcoind with -txindex instead);
#  - every node serves JSON-RPC on its own port (8545, 8546, ...), with the admin namespace.
# It prints each node's URL and peer id, and stops everything on Ctrl-C.
# Usage: scripts/localnet.sh [N] [--btc-rpc URL] [--dir DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
n=5
btc_rpc=""
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --btc-rpc) btc_rpc="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    [0-9]*) n="$1"; shift ;;
    *) echo "usage: scripts/localnet.sh [N] [--btc-rpc URL] [--dir DIR]" >&2; exit 2 ;;
  esac
done
if (( n < 1 || n > 32 )); then echo "N must be 1..32" >&2; exit 2; fi
dir="${dir:-$(mktemp -d /tmp/scion-localnet.XXXXXX)}"
mkdir -p "$dir"
cargo build --release --locked --bin scion --bin scion-regtest
bin="$here/target/release"
pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped; logs and data in $dir"
}
trap cleanup INT TERM EXIT

# The node's first line that says where it listens for peers.
p2p_addr() {
  local log="$1"
  for _ in $(seq 1 200); do
    local a
    a=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | sed -n 's/.*p2p listening address=\(\/ip4\/[^ ]*\).*/\1/p' | head -n1)
    if [[ -n "$a" ]]; then echo "$a"; return 0; fi
    sleep 0.1
  done
  echo "no p2p address in $log" >&2; return 1
}
# Waits for the node's "JSON-RPC listening" line.
wait_rpc() {
  for _ in $(seq 1 200); do
    if grep -q "JSON-RPC listening" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "the node logging to $1 did not start serving" >&2; return 1
}

boot=""
for i in $(seq 1 "$n"); do
  port=$((8544 + i))
  args=(node --dev --datadir "$dir/node$i" --http.port "$port" --rpc.admin --no-automine)
  if [[ -z "$boot" ]]; then args+=(--p2p.port 0); else args+=(--p2p.port 0 --bootnodes "$boot"); fi
  RUST_LOG="${RUST_LOG:-info}" "$bin/scion" "${args[@]}" >"$dir/node$i.log" 2>&1 &
  pids+=($!)
  addr=$(p2p_addr "$dir/node$i.log")
  [[ -z "$boot" ]] && boot="$addr"
  wait_rpc "$dir/node$i.log"
  echo "node $i: http://127.0.0.1:$port  peer ${addr##*/p2p/}  $addr"
done

"$bin/scion" miner --rpc http://127.0.0.1:8545 >"$dir/miner.log" 2>&1 &
pids+=($!)
echo "miner: merge-mining through node 1 (log $dir/miner.log)"

if [[ -z "$btc_rpc" ]]; then
  "$bin/scion-regtest" --block-secs 5 >"$dir/regtest.url" 2>"$dir/regtest.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s "$dir/regtest.url" ]] && break; sleep 0.1; done
  btc_rpc=$(head -n1 "$dir/regtest.url")
  echo "bitcoin: regtest stand-in at ${btc_rpc#*@}"
fi
# The dev federation's keys (test-mnemonic accounts 17 and 18); two of three sign.
keys=(689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd
      de9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0)
for f in 0 1; do
  node=$(( f + 2 > n ? 1 : f + 2 ))
  key="$dir/fed$f.key"
  ( umask 077; echo "0x${keys[$f]}" >"$key" )
  "$bin/scion" federator --rpc "http://127.0.0.1:$((8544 + node))" --btc-rpc "$btc_rpc" \
    --key-file "$key" --datadir "$dir/fed$f" >"$dir/fed$f.log" 2>&1 &
  pids+=($!)
  echo "federator $f: against node $node (log $dir/fed$f.log)"
done
echo "running; Ctrl-C stops everything"
wait
