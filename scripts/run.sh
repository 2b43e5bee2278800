#!/usr/bin/env bash
# Runs CareKey locally: installs what is missing, builds both browser apps and the server,
# loads the demo data into a SQLite file under ./data, and serves on http://127.0.0.1:3000.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh run
bash scripts/build-client.sh
cargo build --bin carekey
export CAREKEY_DEV_MODE="${CAREKEY_DEV_MODE:-true}"
export CAREKEY_CLINIC_NAME="${CAREKEY_CLINIC_NAME:-Hillside Family Clinic}"
export CAREKEY_CLINIC_PHONE="${CAREKEY_CLINIC_PHONE:-(503) 555-0100}"
target/debug/carekey demo-data
echo
echo "Development messages: none yet. CareKey does not send email, texts or calls in this"
echo "version; recovery codes and notices, and the development outbox that shows them, are next."
echo
exec target/debug/carekey serve
