#!/usr/bin/env bash
# Builds both browser apps with Trunk: the patient portal into dist/patient and the staff
# console, a separate wasm bundle, into dist/staff (so it adds nothing to a patient's page).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
trunk build --release --offline --config Trunk.toml \
  --dist dist/patient --public-url / crates/client/index.html
trunk build --release --offline --config Trunk.toml \
  --dist dist/staff --public-url /staff/ crates/staff/index.html
