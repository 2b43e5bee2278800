#!/usr/bin/env bash
# Starts a real CareKey for the browser tests: a fresh SQLite database with the demo data.
set -euo pipefail
cd "$(dirname "$0")"
data="$(mktemp -d -t carekey-e2e-XXXXXX)"
unset DATABASE_URL
export CAREKEY_DATA_DIR="$data"
export CAREKEY_BIND="127.0.0.1:${E2E_PORT:-3100}"
export CAREKEY_PUBLIC_URL="http://127.0.0.1:${E2E_PORT:-3100}"
export CAREKEY_DEV_MODE=true
export CAREKEY_DIST_DIR="$(pwd)/../dist"
export CAREKEY_CLINIC_NAME="Hillside Family Clinic"
export CAREKEY_CLINIC_PHONE="(503) 555-0100"
../target/debug/carekey demo-data >/dev/null
exec ../target/debug/carekey serve
