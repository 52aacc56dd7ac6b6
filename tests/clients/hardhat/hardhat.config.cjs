// A Hardhat project whose network points at Scion. The compiler is solcjs from npm (no
// download): Hardhat's solc-build subtask is pointed at the installed soljson.
const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-ethers");

const SOLC_VERSION = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion === SOLC_VERSION) {
    const compilerPath = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");
    return { compilerPath, isSolcJs: true, version: args.solcVersion, longVersion: args.solcVersion };
  }
  return runSuper();
});

module.exports = {
  solidity: SOLC_VERSION,
  // contracts/Counter.sol is copied from tests/clients/Counter.sol by the test.
  paths: { sources: "./contracts" },
  networks: {
    scion: {
      url: process.env.SCION_RPC || "http://127.0.0.1:8545",
      chainId: 7773,
      accounts: ["0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"],
    },
  },
};
