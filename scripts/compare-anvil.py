#!/usr/bin/env python3
"""Calls the same JSON-RPC methods on a Scion dev node and on anvil (fresh, same dev keys) and
prints, for each method, whether the answers agree in shape (keys and value kinds) and where
they differ. Usage: scripts/compare-anvil.py SCION_URL ANVIL_URL
"""
import json
import sys
import urllib.request

ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ADDR1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def call(url, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if isinstance(v, str):
        return "hex" if v.startswith("0x") else "str"
    return type(v).__name__


def main():
    scion, anvil = sys.argv[1], sys.argv[2]
    # One transfer on each so that blocks, receipts and the pool have something in them.
    txs = {}
    for name, url in (("scion", scion), ("anvil", anvil)):
        txs[name] = call(url, "eth_sendTransaction", [{"from": ADDR0, "to": ADDR1, "value": "0x1"}])["result"]
    import time
    time.sleep(1)
    methods = [
        ("web3_clientVersion", []), ("net_version", []), ("net_listening", []), ("net_peerCount", []),
        ("eth_chainId", []), ("eth_blockNumber", []), ("eth_gasPrice", []), ("eth_maxPriorityFeePerGas", []),
        ("eth_accounts", []), ("eth_coinbase", []), ("eth_mining", []), ("eth_hashrate", []), ("eth_syncing", []),
        ("eth_getBalance", [ADDR1, "latest"]), ("eth_getTransactionCount", [ADDR0, "pending"]),
        ("eth_getCode", [ADDR1, "latest"]), ("eth_getStorageAt", [ADDR1, "0x0", "latest"]),
        ("eth_getBlockByNumber", ["latest", False]), ("eth_getBlockByNumber", ["0x0", False]),
        ("eth_getTransactionByHash", ["TX"]), ("eth_getTransactionReceipt", ["TX"]),
        ("eth_getBlockReceipts", ["latest"]), ("eth_feeHistory", ["0x2", "latest", [50.0]]),
        ("eth_estimateGas", [{"from": ADDR0, "to": ADDR1, "value": "0x1"}]),
        ("eth_call", [{"to": ADDR1}, "latest"]), ("eth_createAccessList", [{"from": ADDR0, "to": ADDR1}]),
        ("eth_getProof", [ADDR1, [], "latest"]), ("eth_getLogs", [{"fromBlock": "0x0"}]),
        ("eth_newBlockFilter", []), ("eth_fillTransaction", [{"from": ADDR0, "to": ADDR1}]),
        ("txpool_status", []), ("debug_traceTransaction", ["TX", {"tracer": "callTracer"}]),
        ("evm_snapshot", []), ("anvil_nodeInfo", []), ("eth_sendRawTransaction", ["0xdeadbeef"]),
    ]
    for method, params in methods:
        a_params = [txs["anvil"] if p == "TX" else p for p in params]
        s_params = [txs["scion"] if p == "TX" else p for p in params]
        s, a = call(scion, method, s_params), call(anvil, method, a_params)
        s_val = s.get("result", {"error": s.get("error")})
        a_val = a.get("result", {"error": a.get("error")})
        same = shape(s_val) == shape(a_val)
        print(f"{'same ' if same else 'DIFF '} {method}")
        if not same:
            print(f"       scion: {json.dumps(s_val)[:300]}")
            print(f"       anvil: {json.dumps(a_val)[:300]}")


if __name__ == "__main__":
    main()
