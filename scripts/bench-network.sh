#!/usr/bin/env bash
# The network's figures (docs/PERFORMANCE.md, "Network"): block propagation across 5 nodes,
# sync from a peer against `scion import`, reorg time by depth, memory per peer, and
# loopback bytes per block per node. Real nodes on 127.0.0.1 only; release build.
# Usage: scripts/bench-network.sh [--quick]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
cargo build --release --locked --bin scion --bin scion-netbench
bench="$here/target/release/scion-netbench"
scion="$here/target/release/scion"
export RUST_LOG="${RUST_LOG:-warn}"
if (( quick )); then
  "$bench" propagation 10 0
  "$bench" propagation 10 100
  "$bench" sync 500 50 100
  "$bench" reorg 10
  "$bench" memory "$scion" 2
  exit 0
fi
"$bench" propagation 200 0
"$bench" propagation 200 100
"$bench" sync 10000 1000 100
for d in 10 100 1000; do "$bench" reorg "$d"; done
for p in 1 8 16 32; do "$bench" memory "$scion" "$p"; done
