// Deploys Counter to the configured network and calls it.
const hre = require("hardhat");

async function main() {
  const counter = await hre.ethers.deployContract("Counter");
  await counter.waitForDeployment();
  const tx = await counter.increment(3);
  await tx.wait();
  const count = await counter.count();
  if (count !== 3n) throw new Error(`count is ${count}`);
  console.log("hardhat ok", await counter.getAddress());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
