#!/usr/bin/env bash
# Installs the external tools the tests drive, from the npm registry, pinned by
# tools/package-lock.json: Foundry (forge, cast, anvil), solc (solcjs), OpenZeppelin.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here/tools"
if ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  else
    echo "Node.js and npm are required (Debian: sudo apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
if [[ ! -x node_modules/.bin/forge || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
for t in forge cast anvil; do
  [[ -x "node_modules/.bin/$t" ]] || { echo "missing $t after npm ci" >&2; exit 1; }
done
# Python clients (web3.py, eth-account) in a virtualenv, pinned by tools/requirements.txt.
if [[ ! -x .venv/bin/python || requirements.txt -nt .venv/.installed ]]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
      python3 -m venv .venv
    else
      echo "python3 with venv is required (Debian: sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
# The Hardhat test project resolves its packages from tools/node_modules.
ln -sfn ../../../tools/node_modules "$here/tests/clients/hardhat/node_modules"
