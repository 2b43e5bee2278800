#!/usr/bin/env bash
# Where each wasm bundle's bytes go, by crate (issue 15 item 5), so we can decide what to cut.
# For each bundle: builds its wasm with cargo exactly as Trunk does (same bin, profile and
# features, read from the bundle's index.html, so cargo answers from the cache Trunk's build
# left), runs wasm-bindgen as Trunk does into a temporary directory (the name section stays:
# wasm-opt has not run), then prints with twiggy (scripts/bench/wasm_breakdown.py):
#   (a) the top items by retained size, (b) code + data by crate and group, std's parts,
#   the generic functions with the most copies, the compiled-in catalogue's share of the data,
#   and the brotli size of the final Trunk-built dist/<app>/*.wasm to scale by.
# The sizes are before wasm-opt, whose -Oz trims code + data by only ~8% here (patient bundle:
# 899,536 -> 828,041 B; AFTER_OPT=1 shows the table after it), so they are close to what ships.
#
# Usage: scripts/bench/wasm_breakdown.sh [patient|recovery|landing|portal|staff ...]   (default: all five)
#   CARGO_LOCK=/tmp/cargo.lock   run every cargo command under `flock $CARGO_LOCK`
#   TOP=15                       items in the retained-size list
#   AFTER_OPT=1                  also break down the module after Trunk's wasm-opt pass (run
#                                here with -g to keep the names; ~35 s a bundle), which is
#                                within ~0.5% of the shipped file's size
#   TSV_DIR=DIR                  also write DIR/<app>.tsv: every function, bytes, crate, group
# Installs twiggy (pinned, below) with `cargo install --locked` when it is missing.
# Exit status 3: twiggy is missing and could not be installed (scripts/bench.sh skips the block).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

# 0.8.0 (June 2025) builds on this rustc and reads current Rust wasm (reference types, bulk
# memory); 0.7.0's older wasmparser predates those defaults.
TWIGGY_VERSION=0.8.0
lock=()
if [ -n "${CARGO_LOCK:-}" ]; then lock=(flock "$CARGO_LOCK"); fi

apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(patient recovery landing portal staff)

if ! twiggy --version 2>/dev/null | grep -q " $TWIGGY_VERSION\$"; then
  echo "==> installing twiggy $TWIGGY_VERSION (once, a few minutes): cargo install --locked twiggy --version $TWIGGY_VERSION"
  ilog="$(mktemp -t twiggy-install-XXXXXX.log)"
  if ! "${lock[@]}" cargo install --locked twiggy --version "$TWIGGY_VERSION" >"$ilog" 2>&1; then
    tail -n 15 "$ilog" >&2
    echo "twiggy $TWIGGY_VERSION could not be installed (log: $ilog)" >&2
    exit 3
  fi
  rm -f "$ilog"
fi

# wasm-bindgen must be the version in Cargo.lock (scripts/setup.sh installs it), as for Trunk.
wbg="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
  echo "wasm-bindgen $wbg is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi

work="$(mktemp -d -t carekey-wasm-breakdown-XXXXXX)"
trap 'rm -rf "$work"' EXIT

# One attribute of the bundle's `<link data-trunk rel="rust" …>` (empty when absent).
link_attr() { # index.html attribute
  grep -oE '<link[^>]*data-trunk[^>]*rel="rust"[^>]*>' "$1" | grep -oE "[[:space:]]$2=\"[^\"]*\"" | head -n 1 \
    | sed -E "s/^[[:space:]]$2=\"//; s/\"\$//" || true
}
link_has() { grep -oE '<link[^>]*data-trunk[^>]*rel="rust"[^>]*>' "$1" | grep -qE "(^|[[:space:]])$2([[:space:]=/>]|\$)"; }

echo "twiggy $TWIGGY_VERSION on each bundle's wasm-bindgen output, before wasm-opt"
for app in "${apps[@]}"; do
  case "$app" in
    patient) crate=client ;;
    recovery) crate=recovery ;;
    landing) crate=landing ;;
    portal) crate=portal ;;
    staff) crate=staff ;;
    *) echo "unknown bundle '$app' (patient, recovery, landing, portal or staff)" >&2; exit 2 ;;
  esac
  html="crates/$crate/index.html"
  # The cargo command Trunk 0.21 runs for this link (src/pipelines/rust/mod.rs `cargo_build`):
  # `cargo build --target=wasm32-unknown-unknown --manifest-path … --profile … --offline --bin …`
  # (--offline: Trunk.toml). Any other flag would change cargo's fingerprints and rebuild.
  bin="$(link_attr "$html" data-bin)"
  profile="$(link_attr "$html" data-cargo-profile)"
  features="$(link_attr "$html" data-cargo-features)"
  args=(build --target=wasm32-unknown-unknown --manifest-path "crates/$crate/Cargo.toml")
  if [ -n "$profile" ]; then args+=(--profile "$profile"); else args+=(--release); fi
  if grep -qE '^[[:space:]]*offline[[:space:]]*=[[:space:]]*true' Trunk.toml; then args+=(--offline); fi
  [ -z "$bin" ] || args+=(--bin "$bin")
  if link_has "$html" data-cargo-all-features; then args+=(--all-features)
  else
    if link_has "$html" data-cargo-no-default-features; then args+=(--no-default-features); fi
    [ -z "$features" ] || args+=(--features "$features")
  fi
  name="${bin:-carekey-$crate}"

  echo
  echo "==> $app: cargo ${args[*]}"
  t0=$(date +%s)
  if ! "${lock[@]}" cargo "${args[@]}" --message-format=json-render-diagnostics \
      >"$work/$app.cargo.json" 2>"$work/$app.cargo.log"; then
    tail -n 30 "$work/$app.cargo.log" >&2
    echo "cargo build of $app failed" >&2
    exit 1
  fi
  wasm="$(python3 -c '
import json, sys
name = sys.argv[2]
for line in open(sys.argv[1]):
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == name:
        print(next(f for f in m["filenames"] if f.endswith(".wasm")))
' "$work/$app.cargo.json" "$name")"
  if [ -z "$wasm" ]; then echo "cargo reported no .wasm for $name" >&2; exit 1; fi
  echo "    $(grep -c '^ *Compiling' "$work/$app.cargo.log" || true) crates compiled (0 when Trunk's last build is current), $(( $(date +%s) - t0 )) s with any wait for the lock"

  # As Trunk calls it (src/pipelines/rust/mod.rs `wasm_bindgen_build`), into our own directory.
  bg=(--target=web --out-dir="$work/$app" --out-name="$name" --no-typescript)
  if link_has "$html" data-weak-refs; then bg+=(--weak-refs); fi
  if link_has "$html" data-reference-types; then bg+=(--reference-types); fi
  wasm-bindgen "${bg[@]}" "$wasm"

  final="$(ls dist/"$app"/*.wasm 2>/dev/null | head -n 1 || true)"
  if [ -n "$final" ] && [ "$wasm" -nt "$final" ]; then
    echo "    note: $final is older than this cargo build; its brotli figure may not match (scripts/build-client.sh)"
  fi
  py=(python3 scripts/bench/wasm_breakdown.py --catalogues crates/i18n/locales --top "${TOP:-15}")
  [ -z "$final" ] || py+=(--final "$final")
  [ -z "${TSV_DIR:-}" ] || { mkdir -p "$TSV_DIR"; py+=(--tsv "$TSV_DIR/$app.tsv"); }
  "${py[@]}" "$app" "$work/$app/${name}_bg.wasm"

  if [ "${AFTER_OPT:-0}" = 1 ]; then
    # Trunk's wasm-opt call (src/pipelines/rust/mod.rs `wasm_opt_build`) plus -g for the names.
    level="$(link_attr "$html" data-wasm-opt)"
    read -r -a params <<<"$(link_attr "$html" data-wasm-opt-params)"
    opt=(-g "--output=$work/$app/opt.wasm" "-O${level:-z}" "$work/$app/${name}_bg.wasm")
    if link_has "$html" data-reference-types; then opt+=(--enable-reference-types); fi
    if PATH="$root/end2end/node_modules/.bin:$PATH" wasm-opt "${opt[@]}" "${params[@]}"; then
      [ -z "${TSV_DIR:-}" ] || py+=(--tsv "$TSV_DIR/$app-opt.tsv")
      "${py[@]}" --stage "after wasm-opt -O${level:-z} ${params[*]} -g" "$app" "$work/$app/opt.wasm"
    else
      echo "    (wasm-opt failed or is missing: scripts/setup.sh installs binaryen in end2end/)"
    fi
  fi
done
