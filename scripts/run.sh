#!/usr/bin/env bash
# Runs CareKey locally: installs what is missing, builds both browser apps and the server,
# loads the demo data into a SQLite file under ./data, and serves on http://localhost:3000
# (a host name, not 127.0.0.1: passkeys are bound to a domain name and never work on an IP).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh run
bash scripts/build-client.sh
cargo build --bin carekey
export CAREKEY_DEV_MODE="${CAREKEY_DEV_MODE:-true}"
export CAREKEY_CLINIC_NAME="${CAREKEY_CLINIC_NAME:-Hillside Family Clinic}"
export CAREKEY_CLINIC_PHONE="${CAREKEY_CLINIC_PHONE:-(503) 555-0100}"
export CAREKEY_PUBLIC_URL="${CAREKEY_PUBLIC_URL:-http://localhost:3000}"
target/debug/carekey demo-data
url="$CAREKEY_PUBLIC_URL"
echo
if [ -z "${CAREKEY_SMTP_HOST:-}" ] || [ -z "${CAREKEY_TWILIO_ACCOUNT_SID:-}" ]; then
  echo "Development outbox: $url/dev/outbox"
  echo "  Emails (no smtp.host set) and texts and calls (no Twilio set) are not sent anywhere;"
  echo "  they are listed there, newest first, and printed in this log."
fi
echo
exec target/debug/carekey serve
