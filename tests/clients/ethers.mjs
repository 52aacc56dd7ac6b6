// ethers v6 against a Scion node: deploy, a batch of calls, an event filter, a custom-error
// revert decoded from error.data, and a MetaMask-style transfer priced only by eth_gasPrice.
// Usage: node ethers.mjs URL ARTIFACT
import fs from "fs";
import { createRequire } from "module";
// Resolve packages from tools/node_modules, where scripts/install-tools.sh puts them.
const require = createRequire(new URL("../../tools/package.json", import.meta.url));
const { ethers } = require("ethers");

const [url, artifactPath] = process.argv.slice(2);
const { abi, bytecode } = JSON.parse(fs.readFileSync(artifactPath, "utf8"));
const KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const check = (cond, msg) => { if (!cond) { console.error("FAIL:", msg); process.exit(1); } };

// cacheTimeout -1: ethers otherwise reuses an identical request (the pending nonce) for 250 ms,
// which instant mining outruns.
const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
const wallet = new ethers.Wallet(KEY, provider);
const network = await provider.getNetwork();
check(network.chainId === 7773n, `chain id ${network.chainId}`);

const factory = new ethers.ContractFactory(abi, bytecode, wallet);
const counter = await factory.deploy();
await counter.waitForDeployment();
const address = await counter.getAddress();
console.log("deployed", address);

// ethers batches these into one JSON-RPC batch (getBlockNumber is cached by ethers, so the
// raw call is used for a fresh number).
const [block, balance, count, code] = await Promise.all([
  provider.send("eth_blockNumber", []).then(Number), provider.getBalance(wallet.address), counter.count(), provider.getCode(address),
]);
check(block >= 1 && balance > 0n && count === 0n && code.length > 2, `batched reads: ${block} ${balance} ${count} ${code.length}`);

// An event filter (eth_newFilter + eth_getFilterChanges underneath).
const seen = new Promise((resolve) => counter.once("Incremented", (by, total) => resolve([by, total])));
const tx = await counter.increment(5);
const receipt = await tx.wait();
check(receipt.status === 1, "increment mined");
const [by, total] = await seen;
check(by === wallet.address && total === 5n, `event ${by} ${total}`);
const past = await counter.queryFilter(counter.filters.Incremented(), 0);
check(past.length === 1, `queryFilter found ${past.length}`);

// A custom error, decoded from the revert data the node returns.
try {
  await counter.increment.staticCall(1000);
  check(false, "increment(1000) should revert");
} catch (e) {
  check(e.revert && e.revert.name === "TooBig", `decoded ${e.revert && e.revert.name}`);
  check(e.revert.args[0] === 1000n && e.revert.args[1] === 100n, "error arguments");
}
// Sent anyway (a gas limit skips estimation): mined with status 0, and wait() says so.
const failing = await counter.increment(1000, { gasLimit: 100000 });
try {
  await failing.wait();
  check(false, "the failed transaction's wait() should throw");
} catch (e) {
  check(e.code === "CALL_EXCEPTION" && e.receipt && e.receipt.status === 0, `code ${e.code}`);
}

// MetaMask on a custom chain: eth_gasPrice as both max fee and tip.
const gasPrice = BigInt(await provider.send("eth_gasPrice", []));
const mm = await wallet.sendTransaction({
  to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value: 1n, maxFeePerGas: gasPrice, maxPriorityFeePerGas: gasPrice,
});
check((await mm.wait()).status === 1, "gasPrice-priced transfer");
console.log("ethers ok");
process.exit(0);
