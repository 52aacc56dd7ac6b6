#!/usr/bin/env python3
"""Writes genesis/dev.json: the dev chain's allocations and parameters.

The 20 accounts are those of the standard test mnemonic ("test ... junk", the anvil/hardhat keys),
derived once with `cast wallet address --mnemonic-index N` and listed here. Multicall3's runtime
code is the one deployed at 0xcA11bde05977b3631167028862bE2a173976CA11 on Ethereum (3808 bytes,
the length its creation code copies out).
"""
import json, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEV_ACCOUNTS = """
0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x90F79bf6EB2c4f870365E785982E1f101E93b906
0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc
0x976EA74026E726554dB657fA54763abd0C3a0aa9 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720
""".split()
WEI = 10**18
CREATE2_DEPLOYER = "0x4e59b44847b379578588920ca78fbf26c0b4956c"
CREATE2_CODE = ("0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe036016000816020823780"
                "35828234f58015156039578182fd5b8082525050506014600cf3")
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
BRIDGE = "0x0000000000000000000000000000000001000006"
REGTEST_GENESIS_HEADER = ("0x0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
                          "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f2002000000")
# Compressed public keys of test-mnemonic accounts 17, 18 and 19.
DEV_FEDERATORS = [
    "0x02c216848622dfc38a2ad2a921f524103cf654a22b8679736ecedc4901453ea3f7",
    "0x02302a94bd084ff317493db7c2fe07e0935c0f6d3e6772d6af3c58e92abebfb402",
    "0x027bf824b28c4bf11ce553fa746a18754949ab4959e2ea73465778d14179211f8c",
]


def main():
    accounts = [a.strip() for a in (ROOT / "genesis/dev-accounts.txt").read_text().split()]
    assert len(accounts) == 20 and accounts[:10] == DEV_ACCOUNTS
    mc3 = (ROOT / "genesis/multicall3.runtime.hex").read_text().strip()
    assert len(mc3) // 2 == 0xEE0
    alloc = {a: {"balance": hex(10_000 * WEI)} for a in accounts}
    alloc[BRIDGE] = {"balance": hex(21_000_000 * WEI)}
    alloc[CREATE2_DEPLOYER] = {"balance": "0x0", "code": CREATE2_CODE}
    alloc[MULTICALL3] = {"balance": "0x0", "code": "0x" + mc3}
    genesis = {
        "config": {"chainId": 7773},
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x",
        "gasLimit": hex(30_000_000),
        "difficulty": "0x1",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": hex(1_000_000_000),
        "alloc": alloc,
        "scion": {
            "network": "dev",
            "dev": True,
            "bitcoinNetwork": "regtest",
            "blockSpacing": 14,
            "difficultyDivisor": 2048,
            "minimumDifficulty": "0x1",
            "bridge": {
                # Bitcoin regtest's genesis block: the dev header chain starts at height 0.
                "checkpoint": {"height": 0, "header": REGTEST_GENESIS_HEADER},
                # Test-mnemonic accounts 17, 18, 19 (docs/BRIDGE.md lists their private keys);
                # each uses one key as its btc, rsk and mst key. 2-of-3.
                "federation": [{"btc": k, "rsk": k, "mst": k} for k in DEV_FEDERATORS],
                "peginConfirmations": 3,
                "peginMinimum": 100_000,
                "pegoutMinimum": 50_000,
                "pegoutInterval": 5,
                "pegoutConfirmations": 3,
                "feePerKb": 10_000,
                "receiveHeaderInterval": 0,
                "lockingCap": 2_100_000_000_000_000,
            },
        },
    }
    (ROOT / "genesis/dev.json").write_text(json.dumps(genesis, indent=2) + "\n")


if __name__ == "__main__":
    main()
