#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (SQLite always; PostgreSQL when one answers
# at $CAREKEY_TEST_PG), the reading level of every patient-facing message, then the Playwright
# suite in Debian's Chromium against a real server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh test
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

pg="${CAREKEY_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
export CAREKEY_TEST_PG="$pg"
if command -v pg_isready >/dev/null && pg_isready -q -d "$pg"; then
  echo "==> PostgreSQL at $pg: the database tests run on SQLite and PostgreSQL"
else
  echo "==> skipped: no PostgreSQL at $pg — database tests run on SQLite only"
fi

echo "==> Rust unit and integration tests"
cargo test --workspace --exclude carekey-client --exclude carekey-staff --exclude carekey-portal --exclude carekey-recovery --exclude carekey-landing --exclude carekey-ui

echo "==> Reading level of every patient-facing message"
python3 scripts/reading_level.py

echo "==> Building the browser apps and the server for the browser tests"
bash scripts/build-client.sh
cargo build --bin carekey
# The single-file deployment test (end2end/tests/single-binary.spec.ts) runs the release
# binary, which embeds the apps just built.
cargo build --release --bin carekey

echo "==> Playwright (Chromium)"
cd end2end
npx playwright test
