#!/usr/bin/env bash
# CareKey benchmark: prints figures, compares them with the budgets below, never fails a build.
#   - every dist/ asset raw / gzip / brotli; the patient's first page (sign-in), the recovery
#     pages, the home page a sign-in lands on, the other signed-in pages, the staff console
#   - where each bundle's wasm bytes go, by crate (twiggy; scripts/bench/wasm_breakdown.sh)
#   - sign-in throughput and p50/p95/p99 at 1, 8 and 64 concurrent clients (SQLite, release),
#     and passkey sign-ins at 8 clients beside it
#   - argon2id hashes/s on one core and on all (`carekey bench-hashing`)
#   - the full reset flow at 8 patients with password.history 5 and 0
#   - forgot-password: the request path, and a flood with limits raised (drain time, a real
#     patient's code latency during it), on SQLite and, when one answers, PostgreSQL
#   - the first page in Lighthouse (LCP, FCP, TBT, CLS), when Lighthouse is installed
#   - the server's peak resident memory
# Usage: scripts/bench.sh [seconds-per-level]   (default 10)
set -euo pipefail

# Budgets (bytes, requests/s, ms, MiB). Over budget prints OVER; it does not exit non-zero.
# Patient first page (sign-in), brotli, all requests: issue 15's target. The recovery pages
# are their own bundle (dist/recovery) again since issue 15 item 5: they had joined the first
# page so that a patient who forgot their password would load nothing more at the worst
# moment; now the first page fetches the recovery bundle into the cache when a sign-in fails
# or the "forgot" link is pointed at, focused or touched, so that patient waits no longer.
BUDGET_PATIENT_CRITICAL_BR=150000
BUDGET_RECOVERY_BR=290000           # the recovery pages, fetched on intent (see above)
# What a sign-in lands on: the home page, a bundle of its own (dist/landing) since issue 15
# item 5, whose target for the signed-in portal is 170,000. The other signed-in pages
# (Settings, the second step, the forced change) are dist/portal, loaded when opened.
BUDGET_LANDING_BR=170000
BUDGET_PORTAL_BR=290000
BUDGET_SIGNIN_RPS_8=20              # argon2id m=19 MiB t=2 on 2 cores: ~30-60 hashes/s
BUDGET_SIGNIN_P99_MS_1=250
BUDGET_PEAK_RSS_MIB=128             # 2 hashing threads x 19 MiB + SQLite + runtime
BUDGET_RECOVERY_P99_MS_8=50         # forgot-password request: one INSERT, no hashing
BUDGET_FLOOD_PATIENT_P99_MS=250     # a patient's sign-in while another address floods (issue 14)
BUDGET_PATIENT_CODE_P99_MS=1000     # a patient's code reaching the transport during a flood (issue 15)
BUDGET_DRAIN_S=2                    # the flooded recovery queue empty after the flood ends (issue 15)

secs="${1:-10}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh run
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "install wrk (apt-get install wrk)"; exit 1; fi
fi
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"

echo "== building release client and server"
bash scripts/build-client.sh >/dev/null 2>&1 || bash scripts/build-client.sh
cargo build --release --bin carekey 2>&1 | tail -1

verdict() { # value budget higher-is-better
  if [ "$3" = up ]; then awk -v v="$1" -v b="$2" 'BEGIN { print (v >= b) ? "ok" : "OVER" }'
  else awk -v v="$1" -v b="$2" 'BEGIN { print (v <= b) ? "ok" : "OVER" }'; fi
}

echo
echo "== dist/ assets (bytes)"
printf '%-52s %10s %10s %10s\n' asset raw gzip brotli
for f in $(cd dist && find . -type f ! -name '*.gz' ! -name '*.br' | sort); do
  raw=$(stat -c %s "dist/$f")
  gz=$( [ -f "dist/$f.gz" ] && stat -c %s "dist/$f.gz" || echo -)
  br=$( [ -f "dist/$f.br" ] && stat -c %s "dist/$f.br" || echo -)
  printf '%-52s %10s %10s %10s\n' "${f#./}" "$raw" "$gz" "$br"
done

# A page's critical path: its index.html and every file it references (loader, JS glue,
# wasm, CSS). Sets crit_raw, crit_gz, crit_br and crit_list.
critical() { # dist-dir url-prefix
  crit_raw=0; crit_br=0; crit_gz=0; crit_list=""
  add() { crit_raw=$((crit_raw + $(stat -c %s "$1"))); crit_gz=$((crit_gz + $(stat -c %s "$1.gz"))); crit_br=$((crit_br + $(stat -c %s "$1.br"))); crit_list="$crit_list $(basename "$1")"; }
  # The page itself: the server writes the clinic into it and compresses it as it sends it
  # (crates/server/src/http/pages.rs, mod.rs `page_route`); its .br/.gz copies from the build
  # differ from what is sent only by the clinic's name.
  add "$1/index.html"
  # Release pages are minified (Trunk.toml): attribute values may have no quotes.
  for ref in $(grep -oE "(href|src)=\"?$2[^\" >]+\.(js|css|wasm)" "$1/index.html" | sed -E "s|^[a-z]+=\"?$2||" | sort -u); do
    add "$1/$ref"
  done
  local wasm; wasm=$(ls "$1"/*_bg.wasm)
  if ! echo "$crit_list" | grep -q "$(basename "$wasm")"; then add "$wasm"; fi
}
critical dist/patient /
echo
echo "== patient first page (sign-in):$crit_list"
echo "   raw $crit_raw  gzip $crit_gz  brotli $crit_br  (budget brotli $BUDGET_PATIENT_CRITICAL_BR: $(verdict $crit_br $BUDGET_PATIENT_CRITICAL_BR down))"
es_br=$(stat -c %s dist/patient/locales/es.ftl.br)
echo "   Spanish page words (locales/es.ftl), fetched only when a page is in Spanish: brotli $es_br"
critical dist/recovery /recovery/
echo "== recovery pages (forgot password, forgot username, reset link), fetched on intent:$crit_list"
echo "   raw $crit_raw  gzip $crit_gz  brotli $crit_br  (budget brotli $BUDGET_RECOVERY_BR: $(verdict $crit_br $BUDGET_RECOVERY_BR down))"
critical dist/landing /landing/
echo "== home page, what a sign-in lands on:$crit_list"
echo "   raw $crit_raw  gzip $crit_gz  brotli $crit_br  (budget brotli $BUDGET_LANDING_BR: $(verdict $crit_br $BUDGET_LANDING_BR down))"
critical dist/portal /portal/
echo "== the other signed-in pages (Settings, second step, forced change), loaded when opened:$crit_list"
echo "   raw $crit_raw  gzip $crit_gz  brotli $crit_br  (budget brotli $BUDGET_PORTAL_BR: $(verdict $crit_br $BUDGET_PORTAL_BR down))"
common_br=$(stat -c %s dist/patient/common-passwords.txt.br)
echo "   common-password list, fetched when a new-password field is first focused: brotli $common_br"
critical dist/staff /staff/
echo "== staff console (its own bundle, none of it on a patient's path):$crit_list"
echo "   raw $crit_raw  gzip $crit_gz  brotli $crit_br"

echo
echo "== Where each bundle's bytes go (twiggy, before wasm-opt): by crate, top items by retained size"
# Same cargo build as Trunk's above (answered from its cache); installs twiggy once if missing
# (exit 3 when it cannot). Never fails the benchmark.
wb_rc=0
bash scripts/bench/wasm_breakdown.sh patient recovery landing portal staff 2>&1 | sed 's/^/   /' || wb_rc=$?
case "$wb_rc" in
  0) ;;
  3) echo "   (skipped: twiggy is not installed and could not be installed)" ;;
  *) echo "   (the breakdown failed, exit $wb_rc; the benchmark goes on)" ;;
esac

echo
echo "== one file to deploy (target/release/carekey, the apps built in)"
alone="$(mktemp -d -t carekey-alone-XXXXXX)"
cp target/release/carekey "$alone/carekey"
bin_raw=$(stat -c %s "$alone/carekey")
if command -v strip >/dev/null; then
  strip -o "$alone/carekey-stripped" "$alone/carekey"
  bin_stripped=$(stat -c %s "$alone/carekey-stripped"); rm "$alone/carekey-stripped"
else
  bin_stripped="? (install binutils for strip)"
fi
echo "   binary: raw $bin_raw bytes, stripped $bin_stripped bytes"
# Start-up on a new SQLite database in an empty directory (migrations, key creation), to the
# first 200 from /readyz; then resident memory after 2 idle seconds.
aport=3290
t0=$(date +%s.%N)
(cd "$alone" && env -i PATH="$PATH" CAREKEY_BIND="127.0.0.1:$aport" CAREKEY_PUBLIC_URL="http://127.0.0.1:$aport" RUST_LOG=warn ./carekey serve >"$alone/serve.log" 2>&1) &
apid=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$aport/readyz" >/dev/null && break; sleep 0.01; done
t1=$(date +%s.%N)
sleep 2
# The subshell's child is the server.
spid=$(pgrep -P "$apid" -x carekey || echo "$apid")
idle_kib=$(awk '/VmRSS/ { print $2 }' "/proc/$spid/status" 2>/dev/null || echo 0)
echo "   start-up to /readyz (new SQLite database, empty directory): $(echo "($t1 - $t0) * 1000 / 1" | bc) ms"
echo "   idle resident memory after start-up: $((idle_kib / 1024)) MiB ($idle_kib KiB)"
kill "$spid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true
rm -rf "$alone"

echo
echo "== password hashing (carekey bench-hashing: argon2id m=19456 KiB t=2 p=1, 3 s each)"
target/release/carekey bench-hashing --seconds 3 >"$alone.hashing" 2>&1 || true
grep -v '^RESULT' "$alone.hashing" | sed 's/^/   /'
eval "$(grep '^RESULT' "$alone.hashing" | sed -E 's/^RESULT //; s/ /;/g')"
HASH_ALL_PER_S=$all_cores_per_s
rm -f "$alone.hashing"
echo
echo "== sign-in load (release server, SQLite, ${secs}s per level)"
data="$(mktemp -d -t carekey-bench-XXXXXX)"
port=3200
# `localhost`, not 127.0.0.1: WebAuthn binds a passkey to a host name, and the passkey load
# below needs one. The load clients stand in for the clinic's proxy (X-Forwarded-For).
export CAREKEY_DATA_DIR="$data" CAREKEY_BIND="127.0.0.1:$port" CAREKEY_PUBLIC_URL="http://localhost:$port"
export CAREKEY_HTTP_TRUSTED_PROXIES="127.0.0.1"
export CAREKEY_DEV_MODE=true RUST_LOG=warn
unset DATABASE_URL
target/release/carekey demo-data >/dev/null
target/release/carekey serve >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
printf '%-8s %10s %9s %9s %9s %9s %8s\n' clients req/s p50_ms p95_ms p99_ms requests non2xx
declare -A RPS P99
for c in 1 8 64; do
  threads=$(( c < 2 ? 1 : 2 ))
  line=$(wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s -s scripts/bench/signin.lua "http://127.0.0.1:$port/api/sign_in" | grep '^RESULT')
  eval "$(echo "$line" | sed -E 's/^RESULT //; s/ /;/g')"
  printf '%-8s %10s %9s %9s %9s %9s %8s\n' "$c" "$rps" "$p50_ms" "$p95_ms" "$p99_ms" "$requests" "$non2xx"
  RPS[$c]=$rps; P99[$c]=$p99_ms
done
echo
echo "== one address floods sign-in at full speed (32 connections, wrong passwords) while one"
echo "   patient elsewhere signs in: the flood waits behind its own share of the argon2 slots,"
echo "   and past 20 failures is paced (one a second, the rest told \"busy\" at once)"
# A name that matches nobody (the work is the same, E2): a real account would be locked by the
# flood and the passkey block below signs in as one.
BENCH_FROM=198.51.100.7 BENCH_USER=nobody-flooding BENCH_PASSWORD=not-anyones-password-at-all \
  wrk -t1 -c32 -d"${secs}s" --timeout 10s -s scripts/bench/signin.lua "http://127.0.0.1:$port/api/sign_in" \
  | grep '^RESULT' >"$data/flood.txt" &
flood=$!
sleep 0.5
line=$(wrk -t1 -c1 -d"$(( secs > 1 ? secs - 1 : 1 ))s" --timeout 10s -s scripts/bench/signin.lua "http://127.0.0.1:$port/api/sign_in" | grep '^RESULT')
wait $flood
eval "$(echo "$line" | sed -E 's/^RESULT //; s/ /;/g')"
printf '   the patient: %s sign-ins/s, p50 %s ms, p99 %s ms, %s not 2xx (1 client alone, above: p99 %s ms)\n' \
  "$rps" "$p50_ms" "$p99_ms" "$non2xx" "${P99[1]}"
FLOOD_PATIENT_P99=$p99_ms
eval "$(sed -E 's/^RESULT //; s/ /;/g' "$data/flood.txt")"
printf '   the flood: %s answers/s, %s of %s answered "busy" or refused (not 2xx)\n' "$rps" "$non2xx" "$requests"

echo
echo "== passkey sign-in at 8 clients (issue 12): the ceremony and the signed answer, no argon2;"
echo "   counted per sign-in (two requests each), the Node load client on the same 2 cores"
printf '%-8s %10s %9s %9s %9s %9s %8s\n' clients sign-ins/s p50_ms p95_ms p99_ms sign-ins non2xx
line=$(node scripts/bench/passkey-signin.mjs "http://localhost:$port" 8 "$secs" | grep '^RESULT')
eval "$(echo "$line" | sed -E 's/^RESULT //; s/ /;/g')"
printf '%-8s %10s %9s %9s %9s %9s %8s\n' 8 "$rps" "$p50_ms" "$p95_ms" "$p99_ms" "$requests" "$non2xx"
echo "   password sign-in at 8 clients, above: ${RPS[8]} sign-ins/s"

echo
echo "== the patient's first page in Lighthouse (mobile, slow 4G), when it is installed"
echo "   simulated: Lighthouse's default, which replays this machine's own (fast) load under a"
echo "   model; devtools: the network and CPU really throttled, so the wasm really arrives late"
if command -v lighthouse >/dev/null; then
  for method in simulate devtools; do
    CHROME_PATH="${CHROME_PATH:-$(command -v chromium || true)}" lighthouse "http://localhost:$port/" \
      --quiet --only-categories=performance --form-factor=mobile --throttling-method=$method \
      --chrome-flags="--headless=new --no-sandbox" --output=json --output-path="$data/lighthouse-$method.json" \
      >/dev/null 2>&1 || true
    python3 - "$data/lighthouse-$method.json" "$method" <<'PY' || echo "   ($method: Lighthouse did not finish)"
import json, sys
r = json.load(open(sys.argv[1]))
a = r["audits"]
ms = lambda k: a[k]["numericValue"]
print(f"   {sys.argv[2]:<9} performance {round(r['categories']['performance']['score'] * 100)}, "
      f"FCP {ms('first-contentful-paint') / 1000:.2f} s, LCP {ms('largest-contentful-paint') / 1000:.2f} s, "
      f"TBT {ms('total-blocking-time'):.0f} ms, CLS {a['cumulative-layout-shift']['numericValue']:.3f}, "
      f"{a['total-byte-weight']['numericValue']:.0f} B transferred")
PY
  done
else
  echo "   (not installed: npm install -g lighthouse@12; it drives Debian's chromium through CHROME_PATH)"
fi

echo
echo "== forgot-password requests at 8 clients, one address, default limits (30 an hour per"
echo "   address: nearly all are counted and dropped before anything is stored)"
printf '%-8s %10s %9s %9s %9s %9s %8s\n' clients req/s p50_ms p95_ms p99_ms requests non2xx
line=$(wrk -t2 -c8 -d"${secs}s" --timeout 10s -s scripts/bench/recovery.lua "http://127.0.0.1:$port/api/request_reset" | grep '^RESULT')
eval "$(echo "$line" | sed -E 's/^RESULT //; s/ /;/g')"
printf '%-8s %10s %9s %9s %9s %9s %8s\n' 8 "$rps" "$p50_ms" "$p95_ms" "$p99_ms" "$requests" "$non2xx"
rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
rss_mib=$((rss_kib / 1024))
echo

# The flood (issue 15 items 3 and 6), on a server of its own with every send limit raised, so
# that each request is stored and queued as a flood from many addresses would be. One address
# floods for FLOOD_SECS; meanwhile a real patient asks for an emailed code every 0.4 s (each a
# different demo patient, from an address of their own) and waits for it in the outbox.
FLOOD_SECS=10
flood() { # label database-url (empty: SQLite in the data dir)
  fdata="$(mktemp -d -t carekey-flood-XXXXXX)"
  fport=3211
  (
    if [ -n "$2" ]; then export DATABASE_URL="$2"; fi
    export CAREKEY_DATA_DIR="$fdata" CAREKEY_BIND="127.0.0.1:$fport" CAREKEY_PUBLIC_URL="http://127.0.0.1:$fport"
    export CAREKEY_METRICS_BIND="127.0.0.1:9472"
    for k in ACCOUNT_PER_HOUR ACCOUNT_PER_DAY IDENTIFIER_PER_HOUR IDENTIFIER_PER_DAY DESTINATION_PER_HOUR \
             DESTINATION_PER_DAY IP_PER_HOUR TEXTS_AND_CALLS_PER_HOUR; do export "CAREKEY_LIMITS_$k=100000"; done
    target/release/carekey demo-data >/dev/null
    exec target/release/carekey serve >"$fdata/server.log" 2>&1
  ) &
  fpid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$fport/readyz" >/dev/null && break; sleep 0.2; done
  echo
  echo "== forgot-password flood on $1: limits RAISED to 100000 (limits.*), one address, 8 connections,"
  echo "   ${FLOOD_SECS}s, for a name that matches nobody; a real patient asks every 0.4 s meanwhile"
  PATIENTS=maria,jchen,rosa,omar,hana,ivan,nora,paul,tom,uma,vic,wes,yara,zeke,lucia,nico,pilar,elena,tomas,iris,jade,ezra,quinn,reza,sol,tess
  python3 scripts/bench/patient_during_flood.py "http://127.0.0.1:$fport" "$FLOOD_SECS" "$PATIENTS" 0.4 >"$fdata/patients.txt" &
  patients=$!
  BENCH_USER=nobody-flooding wrk -t2 -c8 -d"${FLOOD_SECS}s" --timeout 10s -s scripts/bench/recovery.lua \
    -H "X-Forwarded-For: 198.51.100.9" "http://127.0.0.1:$fport/api/request_reset" | grep '^RESULT' >"$fdata/flood.txt"
  flood_end=$(date +%s.%N)
  eval "$(sed -E 's/^RESULT //; s/ /;/g' "$fdata/flood.txt")"
  REC_P99=$p99_ms
  printf '   accepted: %s requests/s (%s in %ss), p50 %s ms, p99 %s ms, %s not 2xx\n' "$rps" "$requests" "$FLOOD_SECS" "$p50_ms" "$p99_ms" "$non2xx"
  # The queue's depth from the server's own gauge (a count at scrape time): the sqlite3 CLI
  # needs seconds to open a database with a large write-ahead log, which became the measurement.
  waiting() { curl -fs "http://127.0.0.1:9472/metrics" | awk '/^carekey_recovery_requests_waiting /{ print $2 }'; }
  left_at_end=$(waiting || echo "?")
  left="$left_at_end"
  for _ in $(seq 1 3000); do
    [ "$left" = 0 ] && break
    sleep 0.05
    left=$(waiting || echo "?")
  done
  DRAIN=$(echo "$(date +%s.%N) - $flood_end" | bc)
  echo "   waiting when the flood ended: $left_at_end; queue empty $DRAIN s after it (left: $left)"
  wait $patients
  eval "$(sed -E 's/^RESULT //; s/ /;/g' "$fdata/patients.txt")"
  PATIENT_CODE_P99=$p99_ms
  echo "   a real patient's code in the outbox: p50 $p50_ms ms, p99 $p99_ms ms, max $max_ms ms ($n asked, $missing never came)"
  kill "$fpid" 2>/dev/null || true; wait "$fpid" 2>/dev/null || true
  rm -rf "$fdata"
}
flood SQLite ""
S_REC_P99=$REC_P99; S_PATIENT_CODE_P99=$PATIENT_CODE_P99; S_DRAIN=$DRAIN
# The same on PostgreSQL (two recovery workers per instance there: app::spawn_workers), in a
# database of its own, when one answers at $CAREKEY_TEST_PG.
pg="${CAREKEY_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
PG_FLOOD="not run: no PostgreSQL at $pg"
if command -v psql >/dev/null && psql "$pg" -qc 'DROP DATABASE IF EXISTS carekey_bench_flood' >/dev/null 2>&1 \
   && psql "$pg" -qc 'CREATE DATABASE carekey_bench_flood' >/dev/null 2>&1; then
  flood "PostgreSQL (two workers)" "${pg%/*}/carekey_bench_flood"
  PG_FLOOD="request p99 $REC_P99 ms, a patient's code p99 $PATIENT_CODE_P99 ms, drained $DRAIN s after"
  psql "$pg" -qc 'DROP DATABASE IF EXISTS carekey_bench_flood' >/dev/null 2>&1 || true
fi
REC_P99=$S_REC_P99; PATIENT_CODE_P99=$S_PATIENT_CODE_P99; DRAIN=$S_DRAIN

# The whole reset flow (issue 15 items 2 and 6): request, the code from the development
# outbox, verify, new password, sign in; 8 patients at once, each on an account of their own,
# on a server of its own (limits raised: an account resets every second or two here), once
# with password.history 5 (the default) and once with 0.
declare -A FLOWS
for history in 5 0; do
  rdata="$(mktemp -d -t carekey-reset-XXXXXX)"
  rport=3212
  (
    export CAREKEY_DATA_DIR="$rdata" CAREKEY_BIND="127.0.0.1:$rport" CAREKEY_PUBLIC_URL="http://127.0.0.1:$rport"
    export CAREKEY_METRICS_BIND="127.0.0.1:9473" CAREKEY_PASSWORD_HISTORY=$history
    for k in ACCOUNT_PER_HOUR ACCOUNT_PER_DAY IDENTIFIER_PER_HOUR IDENTIFIER_PER_DAY DESTINATION_PER_HOUR \
             DESTINATION_PER_DAY IP_PER_HOUR; do export "CAREKEY_LIMITS_$k=100000"; done
    target/release/carekey demo-data >/dev/null
    exec target/release/carekey serve >"$rdata/server.log" 2>&1
  ) &
  rpid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$rport/readyz" >/dev/null && break; sleep 0.2; done
  echo
  echo "== reset flow at 8 patients, password.history = $history (request, code, verify, new password, sign in)"
  python3 scripts/bench/reset_flow.py "http://127.0.0.1:$rport" 8 "$(( secs * 2 ))" \
    --metrics "http://127.0.0.1:9473/metrics" >"$rdata/flow.txt" 2>&1 || true
  grep -v '^RESULT' "$rdata/flow.txt" | sed 's/^/   /'
  line=$(grep '^RESULT' "$rdata/flow.txt" || echo "RESULT flows_per_s=0 argon2_asked_per_flow=0")
  eval "$(echo "$line" | sed -E 's/^RESULT //; s/ /;/g')"
  share=$(awk -v f="$flows_per_s" -v o="$argon2_asked_per_flow" -v l="$HASH_ALL_PER_S" \
    'BEGIN { if (l > 0 && o != "NA") printf "%.0f", 100 * f * o / l; else print "?" }')
  echo "   => $flows_per_s flows/s, $argon2_asked_per_flow argon2 runs per flow: ${share}% of the measured argon2 limit ($HASH_ALL_PER_S/s)"
  FLOWS[$history]="$flows_per_s flows/s, set-new-password p50 $set_p50_ms ms p99 $set_p99_ms ms"
  kill "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true
  rm -rf "$rdata"
done

echo "== server peak RSS: ${rss_mib} MiB (budget $BUDGET_PEAK_RSS_MIB: $(verdict $rss_mib $BUDGET_PEAK_RSS_MIB down))"
echo "== budgets: sign-in req/s at 8 clients ${RPS[8]} (>= $BUDGET_SIGNIN_RPS_8: $(verdict "${RPS[8]}" $BUDGET_SIGNIN_RPS_8 up));" \
     "p99 at 1 client ${P99[1]} ms (<= $BUDGET_SIGNIN_P99_MS_1: $(verdict "${P99[1]}" $BUDGET_SIGNIN_P99_MS_1 down))"
echo "   (non2xx at 64 clients are 503 'busy' answers: the argon2 queue refuses waits over 2 s by design)"
echo "== budget: a patient's sign-in p99 while one address floods $FLOOD_PATIENT_P99 ms (<= $BUDGET_FLOOD_PATIENT_P99_MS: $(verdict "$FLOOD_PATIENT_P99" $BUDGET_FLOOD_PATIENT_P99_MS down))"
echo "== reset flow at 8 patients: history 5: ${FLOWS[5]}; history 0: ${FLOWS[0]}"
echo "== budget: forgot-password request p99 during the flood $REC_P99 ms (<= $BUDGET_RECOVERY_P99_MS_8: $(verdict "$REC_P99" $BUDGET_RECOVERY_P99_MS_8 down))"
echo "== the flood on PostgreSQL: $PG_FLOOD"
echo "== budget: a patient's code during the flood, p99 $PATIENT_CODE_P99 ms (<= $BUDGET_PATIENT_CODE_P99_MS: $(verdict "$PATIENT_CODE_P99" $BUDGET_PATIENT_CODE_P99_MS down));" \
     "queue drained $DRAIN s after it (<= $BUDGET_DRAIN_S: $(verdict "$DRAIN" $BUDGET_DRAIN_S down))"
