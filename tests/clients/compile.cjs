// Compiles Counter.sol with the solc npm package and writes {abi, bytecode} to argv[2].
const fs = require("fs");
const path = require("path");
const solc = require(path.join(__dirname, "..", "..", "tools", "node_modules", "solc"));
const source = fs.readFileSync(path.join(__dirname, "Counter.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "Counter.sol": { content: source } },
  settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  console.error(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const c = out.contracts["Counter.sol"].Counter;
fs.writeFileSync(process.argv[2], JSON.stringify({ abi: c.abi, bytecode: "0x" + c.evm.bytecode.object }));
