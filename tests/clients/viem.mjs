// viem 2 against a Scion node: the public and wallet clients' deploy / write /
// waitForTransactionReceipt / watchContractEvent flow, and the test client on the dev methods.
// Usage: node viem.mjs URL ARTIFACT
import fs from "fs";
import { createRequire } from "module";
const require = createRequire(new URL("../../tools/package.json", import.meta.url));
const viem = require("viem");
const { privateKeyToAccount } = require("viem/accounts");

const [url, artifactPath] = process.argv.slice(2);
const { abi, bytecode } = JSON.parse(fs.readFileSync(artifactPath, "utf8"));
const check = (cond, msg) => { if (!cond) { console.error("FAIL:", msg); process.exit(1); } };

const scion = viem.defineChain({
  id: 7773,
  name: "Scion dev",
  nativeCurrency: { name: "scBTC", symbol: "scBTC", decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const account = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const transport = viem.http(url);
const publicClient = viem.createPublicClient({ chain: scion, transport, pollingInterval: 100 });
const wallet = viem.createWalletClient({ chain: scion, transport, account });
const test = viem.createTestClient({ chain: scion, transport, mode: "anvil" });

const hash = await wallet.deployContract({ abi, bytecode });
const deployed = await publicClient.waitForTransactionReceipt({ hash });
check(deployed.status === "success" && deployed.contractAddress, "deploy");
const address = deployed.contractAddress;
console.log("deployed", address);

const events = [];
const unwatch = publicClient.watchContractEvent({ address, abi, eventName: "Incremented", onLogs: (logs) => events.push(...logs) });
const write = await wallet.writeContract({ address, abi, functionName: "increment", args: [7n] });
const r = await publicClient.waitForTransactionReceipt({ hash: write });
check(r.status === "success", "write");
check((await publicClient.readContract({ address, abi, functionName: "count" })) === 7n, "read");
for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((ok) => setTimeout(ok, 100));
unwatch();
check(events.length === 1 && events[0].args.count === 7n, `watched ${events.length} events`);

// The custom error is decoded by name.
try {
  await publicClient.simulateContract({ address, abi, functionName: "increment", args: [500n], account });
  check(false, "simulate should revert");
} catch (e) {
  const err = e.walk((x) => x instanceof viem.ContractFunctionRevertedError);
  check(err && err.data && err.data.errorName === "TooBig", `decoded ${err && err.data && err.data.errorName}`);
}

// The test client on the dev methods.
const who = "0x4242424242424242424242424242424242424242";
await test.setBalance({ address: who, value: 10n ** 18n });
check((await publicClient.getBalance({ address: who })) === 10n ** 18n, "setBalance");
const snap = await test.snapshot();
const before = await publicClient.getBlockNumber({ cacheTime: 0 });
await test.mine({ blocks: 3 });
check((await publicClient.getBlockNumber({ cacheTime: 0 })) === before + 3n, "mine 3");
await test.revert({ id: snap });
check((await publicClient.getBlockNumber({ cacheTime: 0 })) === before, "revert");
await test.impersonateAccount({ address: who });
const sent = await test.request({ method: "eth_sendTransaction", params: [{ from: who, to: account.address, value: "0x1" }] });
check((await publicClient.waitForTransactionReceipt({ hash: sent })).from === who, "impersonated send");
await test.stopImpersonatingAccount({ address: who });
console.log("viem ok");
process.exit(0);
