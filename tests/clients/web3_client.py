"""web3.py against a Scion node: deploy, transact (signed locally), get logs, fee history.

Usage: python web3_client.py URL ARTIFACT
"""
import json
import sys

from eth_account import Account
from web3 import Web3

url, artifact = sys.argv[1], sys.argv[2]
art = json.load(open(artifact))
w3 = Web3(Web3.HTTPProvider(url))
assert w3.is_connected()
assert w3.eth.chain_id == 7773, w3.eth.chain_id
acct = Account.from_key("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")


def send(tx):
    tx.setdefault("from", acct.address)
    tx.setdefault("nonce", w3.eth.get_transaction_count(acct.address, "pending"))
    tx.setdefault("chainId", 7773)
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas(tx)
    # web3.py's default EIP-1559 pricing uses eth_feeHistory and eth_maxPriorityFeePerGas.
    if "maxFeePerGas" not in tx and "gasPrice" not in tx:
        tx["maxPriorityFeePerGas"] = w3.eth.max_priority_fee
        tx["maxFeePerGas"] = w3.eth.get_block("latest")["baseFeePerGas"] * 2 + tx["maxPriorityFeePerGas"]
    signed = acct.sign_transaction(tx)
    h = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(h, timeout=60, poll_latency=0.05)


Counter = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
receipt = send(Counter.constructor().build_transaction({"from": acct.address, "nonce": w3.eth.get_transaction_count(acct.address)}))
assert receipt.status == 1
counter = w3.eth.contract(address=receipt.contractAddress, abi=art["abi"])
r = send(counter.functions.increment(9).build_transaction({"from": acct.address, "nonce": w3.eth.get_transaction_count(acct.address)}))
assert r.status == 1
assert counter.functions.count().call() == 9
logs = counter.events.Incremented().get_logs(from_block=0)
assert len(logs) == 1 and logs[0].args["count"] == 9 and logs[0].args["by"] == acct.address, logs
fh = w3.eth.fee_history(10, "pending", [5.0])
assert len(fh["baseFeePerGas"]) == len(fh["gasUsedRatio"]) + 1, fh
assert len(fh["reward"]) == len(fh["gasUsedRatio"])
block = w3.eth.get_block("latest", full_transactions=True)
assert len(block["extraData"]) <= 32 and block["transactions"], block
print("web3.py ok")
