#!/usr/bin/env bash
# Starts a real CareKey for the browser tests: a fresh SQLite database with the demo data.
set -euo pipefail
cd "$(dirname "$0")"
data="$(mktemp -d -t carekey-e2e-XXXXXX)"
unset DATABASE_URL
export CAREKEY_DATA_DIR="$data"
export CAREKEY_BIND="127.0.0.1:${E2E_PORT:-3100}"
# E2E_PUBLIC_URL: a host name instead (passkeys need one: WebAuthn never binds to an IP).
export CAREKEY_PUBLIC_URL="${E2E_PUBLIC_URL:-http://127.0.0.1:${E2E_PORT:-3100}}"
export CAREKEY_DEV_MODE=true
# No dist_dir: the apps come the built-in way (a debug build reads ../dist through the same
# code a release binary serves its embedded copy with).
unset CAREKEY_DIST_DIR
export CAREKEY_CLINIC_NAME="Hillside Family Clinic"
export CAREKEY_CLINIC_PHONE="(503) 555-0100"
# Email through the tests' SMTP server; texts and calls to the development outbox.
export CAREKEY_SMTP_HOST=127.0.0.1
export CAREKEY_SMTP_PORT="${E2E_SMTP_PORT:-3125}"
export CAREKEY_SMTP_TLS=none
export CAREKEY_SMTP_FROM="Hillside Family Clinic <portal@hillside.example>"
# The staff console's tests here sign staff in with a password alone; the second CareKey in
# playwright.config.ts keeps the default (a second step required of staff) for two-step.spec.ts.
export CAREKEY_MFA_STAFF="${CAREKEY_MFA_STAFF:-optional}"
../target/debug/carekey demo-data >/dev/null
exec ../target/debug/carekey serve
