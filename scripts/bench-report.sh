#!/usr/bin/env bash
# Issue 7's whole comparison in one run, written to docs/PERFORMANCE.md (the generated section)
# and docs/performance.png: Scion (release --dev, MDBX on disk, durable commits) against anvil
# (npm), fresh nodes, alternating runs, same machine, same workloads; then import against the
# in-memory revm ceiling, commit cost at 10k and 1M accounts, and memory with 1M accounts.
# Usage: scripts/bench-report.sh [RUNS] [--quick]
#   --quick: 5,000 transfers, 3 s reads, and no 1M-account runs (checks that the script works).
runs=${1:-2}; quick=0
[[ ${2:-} == --quick || ${1:-} == --quick ]] && quick=1
[[ $runs == --quick ]] && runs=1
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
tools/.venv/bin/pip install -q --disable-pip-version-check -r tools/requirements-bench.txt
(cd contracts && PATH="$here/tools/node_modules/.bin:$PATH" forge build -q)
erc20="$here/contracts/out/ScionToken.sol/ScionToken.json"
count=50000; secs=8; memory_count=1000000
if (( quick )); then count=5000; secs=3; fi
results="$work/results.txt"
: >"$results"
# One result line: workload, node, run, then the tool's own output line.
record() { echo "$1|$2|$3|$4" | tee -a "$results"; }
# Runs scion-bench and prints the last line of its output (the result). Its progress bar goes
# to a file; when it fails, its last message is shown instead of being lost with the bar.
tool() {
  local out
  if ! out=$(target/release/scion-bench "$@" 2>"$work/tool.err" | tail -1); then
    tr '\r' '\n' <"$work/tool.err" | grep -v '^$' | tail -3 >&2
    return 1
  fi
  echo "$out"
}

for run in $(seq 1 "$runs"); do
  for workload in eth erc20; do
    for node in scion anvil; do
      start_node $node
      url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
      token=$([[ $workload == erc20 ]] && echo "$erc20" || true)
      out=$(tool transfers --rpc "$url" --count "$count" --senders 1000 \
        --concurrency 8 --batch 50 --label "$node" ${token:+--erc20 "$token"})
      record "$workload" "$node" "$run" "$out"
      stop_node
      if [[ $node == scion && $workload == eth ]]; then
        # The chain those transfers made, exported and imported into a fresh directory.
        target/release/scion export --dev --datadir "$work/scion" "$work/chain.rlp" >/dev/null
        rm -rf "$work/imported"
        out=$(target/release/scion import --dev --datadir "$work/imported" "$work/chain.rlp" | tail -1)
        record import scion "$run" "$out"
      fi
    done
  done
  for method in call balance; do
    for node in scion anvil; do
      start_node $node
      url=$([[ $node == scion ]] && echo "$SCION_URL" || echo "$ANVIL_URL")
      # eth_call is balanceOf on the ERC-20 (issue 7's read workload).
      token=$([[ $method == call ]] && echo "$erc20" || true)
      out=$(tool read --rpc "$url" --seconds "$secs" --concurrency 16 \
        --method "$method" --label "$node" ${token:+--erc20 "$token"})
      record "$method" "$node" "$run" "$out"
      stop_node
    done
  done
done

# Criterion: the in-memory revm ceiling, and state root + commit at 10k and 1M accounts.
rm -rf target/criterion/execute_block target/criterion/state
cargo bench -q -p scion-executor --bench block -- --noplot >/dev/null
if (( quick )); then
  SCION_BENCH_ACCOUNTS=10000 cargo bench -q -p scion-storage --bench commit -- --noplot >/dev/null
else
  cargo bench -q -p scion-storage --bench commit -- --noplot >/dev/null
fi

# Memory with 1,000,000 accounts: every transfer goes to a new address.
if (( ! quick )); then
  start_node scion
  out=$(tool transfers --rpc "$SCION_URL" --count "$memory_count" \
    --senders 1000 --concurrency 8 --batch 50 --fresh-recipients --label scion)
  status=$(grep -E '^(VmRSS|VmHWM|RssAnon|RssFile)' "/proc/$node_pid/status" | tr -s ' \t' ' ' | paste -sd ';')
  record memory scion 1 "$out;$status"
  stop_node
fi

tools/.venv/bin/python scripts/bench-report.py "$results" "$here/target/criterion" \
  "$here/docs/PERFORMANCE.md" "$here/docs/performance.png" "$runs" "$quick"
