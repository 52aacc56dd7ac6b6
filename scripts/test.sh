#!/usr/bin/env bash
# Runs every test: installs the pinned external tools, builds, and runs the unit and
# end-to-end tests (which start real `scion` nodes and drive them with forge and cast).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/install-tools.sh
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
