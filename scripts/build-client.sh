#!/usr/bin/env bash
# Builds the five wasm bundles with Trunk, each its own download so none weighs on another:
#   dist/patient  the first page (sign-in), what every visitor loads
#   dist/recovery forgot password and forgot username, served under /recovery/
#   dist/landing  the home page a sign-in lands on, served under /landing/
#   dist/portal   the other signed-in patient pages (Settings, the second step, the forced
#                 change), served under /portal/
#   dist/staff    the staff console, served under /staff/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
trunk build --release --offline --config Trunk.toml \
  --dist dist/patient --public-url / crates/client/index.html
trunk build --release --offline --config Trunk.toml \
  --dist dist/recovery --public-url /recovery/ crates/recovery/index.html
trunk build --release --offline --config Trunk.toml \
  --dist dist/landing --public-url /landing/ crates/landing/index.html
trunk build --release --offline --config Trunk.toml \
  --dist dist/portal --public-url /portal/ crates/portal/index.html
trunk build --release --offline --config Trunk.toml \
  --dist dist/staff --public-url /staff/ crates/staff/index.html
