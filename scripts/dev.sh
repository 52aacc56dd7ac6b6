#!/usr/bin/env bash
# Builds and starts a dev node on http://127.0.0.1:8545 (HTTP and WebSocket).
# Extra arguments go to `scion node`, e.g. --block-time 2 or --datadir /tmp/scion.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
exec cargo run --release --bin scion -- node --dev "$@"
