#!/usr/bin/env bash
# Everything `make test` runs: formatting, clippy (server and wasm builds), unit and store
# tests on SQLite and PostgreSQL, the browser tests in Chromium against the release build, and
# the API fuzzed against its OpenAPI document (schemathesis) on that same build.
# Usage: scripts/test.sh [lint|unit|e2e|all]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
phase="${1:-all}"
logs="target/test-logs"
mkdir -p "$logs"
summary=()
say() { printf '\n==> %s\n' "$*"; }
elapsed() { local start=$1; echo "$(( $(date +%s) - start ))s"; }

lint() {
  local start; start=$(date +%s)
  say "cargo fmt --check"
  cargo fmt --all -- --check
  # The browser build is linted as it compiles (scripts/with-clippy.sh): the same build the
  # browser tests and `make run` use, so after `make run` this costs nothing.
  say "the client's release build (scripts/build.sh client), clippy warnings denied"
  bash scripts/build.sh client
  summary+=("lint: rustfmt clean, clippy clean on the browser build ($(elapsed "$start"))")
}

unit() {
  local start; start=$(date +%s)
  say "PostgreSQL for the store tests"
  bash scripts/ensure-postgres.sh
  # Linted as it compiles (scripts/with-clippy.sh), in the debug profile: the release profile
  # would share the dependencies with `make run`'s build, but compiling the test targets at
  # opt-level 3 took longer than the debug dependencies save (measured, see docs/performance.md).
  say "clippy (warnings denied) while building; unit and store tests (SQLite and PostgreSQL)"
  bash scripts/with-clippy.sh cargo test -p app -p server -p tools --features app/ssr --locked 2>&1 | tee "$logs/cargo-test.log"
  local passed sqlite postgres
  passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s+=$4} END {print s+0}')
  sqlite=$(grep -Ec '^test sqlite::.* \.\.\. ok$' "$logs/cargo-test.log" || true)
  postgres=$(grep -Ec '^test postgres::.* \.\.\. ok$' "$logs/cargo-test.log" || true)
  if [[ "$sqlite" -eq 0 || "$postgres" -eq 0 || "$sqlite" -ne "$postgres" ]]; then
    echo "store tests must run on both backends alike: $sqlite on SQLite, $postgres on PostgreSQL" >&2
    exit 1
  fi
  summary+=("rust: $passed tests passed, of which store tests: $sqlite on SQLite and $postgres on PostgreSQL ($(elapsed "$start"))")
}

e2e() {
  local start; start=$(date +%s)
  say "Chromium and the browser-test packages"
  bash scripts/ensure-chromium.sh
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  say "release build (scripts/build.sh), then the browser tests against it"
  # The same build `make run` serves; Playwright starts it on its own port with the fixed
  # dataset (end2end/serve-fixture.sh), so a `make run` on port 3000 does not get in the way.
  bash scripts/build.sh
  (cd end2end && npx playwright test) 2>&1 | tee "$logs/e2e.log"
  local passed failed
  passed=$( (grep -Eo '^ +[0-9]+ passed' "$logs/e2e.log" || true) | tail -1 | tr -dc '0-9')
  failed=$( (grep -Eo '^ +[0-9]+ (failed|flaky)' "$logs/e2e.log" || true) | tail -1 | tr -dc '0-9')
  if [[ -z "$passed" || -n "$failed" ]]; then
    echo "browser tests did not all pass (passed: ${passed:-0}, failed: ${failed:-0})" >&2
    exit 1
  fi
  summary+=("browser: $passed Playwright tests passed in $($(command -v chromium || echo /usr/bin/chromium) --version 2>/dev/null | head -1) ($(elapsed "$start"))")
}

api_fuzz() {
  local start; start=$(date +%s)
  say "the API against its OpenAPI document: schemathesis, every check (scripts/api-fuzz.sh)"
  # The release build the browser tests just used.
  bash scripts/api-fuzz.sh target/release/server 2>&1 | tee "$logs/api-fuzz.log"
  # One count per seed (scripts/api-fuzz.sh runs several fixed ones).
  local generated seeds
  generated=$( (grep -Eo '[0-9]+ generated' "$logs/api-fuzz.log" || true) | awk '{s+=$1} END {print s+0}')
  seeds=$(grep -c '^==> schemathesis .* seed ' "$logs/api-fuzz.log" || true)
  summary+=("api: schemathesis ${generated:-?} requests against /api/v1/openapi.json over ${seeds:-?} fixed seeds, 0 failures ($(elapsed "$start"))")
}

case "$phase" in
  lint) lint ;;
  unit) unit ;;
  e2e) e2e; api_fuzz ;;
  all) lint; unit; e2e; api_fuzz ;;
  *) echo "usage: $0 [lint|unit|e2e|all]" >&2; exit 2 ;;
esac
say "summary"
printf '  %s\n' "${summary[@]}"
