#!/usr/bin/env bash
# Installs the external tools the tests drive, from the npm registry, pinned by
# tools/package-lock.json: Foundry (forge, cast, anvil), solc (solcjs), OpenZeppelin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here/tools"
if [[ ! -x node_modules/.bin/forge || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
for t in forge cast anvil; do
  [[ -x "node_modules/.bin/$t" ]] || { echo "missing $t after npm ci" >&2; exit 1; }
done
