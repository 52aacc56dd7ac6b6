// Standard-JSON compilation through the solc npm package's API (stdin → stdout), without the
// notices that the solcjs CLI prints on stdout. Imports that forge did not inline are read
// from disk relative to the working directory (forge runs the compiler in the project root).
const fs = require("fs");
const path = require("path");
const solc = require(path.join(__dirname, "..", "tools", "node_modules", "solc"));

function findImports(p) {
  try {
    return { contents: fs.readFileSync(path.resolve(process.cwd(), p), "utf8") };
  } catch (e) {
    return { error: `File not found: ${p}` };
  }
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => process.stdout.write(solc.compile(input, { import: findImports })));
