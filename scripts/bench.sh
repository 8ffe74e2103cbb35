#!/usr/bin/env bash
# `make bench`: the release build, the load generator, then `tools bench`, which builds
# dataset L through the release server's import command, measures (the store, the server under
# load, the client bundle and the page's first seconds in Chromium), and writes docs/BENCHMARKS.md.
# BENCH_ARGS passes options through (for example BENCH_ARGS="--customers 10000
# --conversations 200000 --label S" for a quick run); BENCH_POSTGRES=1 also measures
# PostgreSQL on the local server (or on the one TEST_POSTGRES_URL names). The run also adds
# 1,000 small organisations to the SQLite database for the many-organisation figures and
# imports 300,000 more conversations at the end (BENCH_ARGS="--tenants 0 --big-import 0" skips
# both); `tools bench --postgres URL --postgres-reuse` measures a database that already holds
# the dataset instead of importing it (docs/performance.md, "Loading an organisation").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '==> %s\n' "$*"; }

OHA_VERSION=1.16.0
if ! oha --version 2>/dev/null | grep -q "$OHA_VERSION"; then
  say "installing the load generator oha $OHA_VERSION (cargo, a few minutes the first time)"
  cargo install --locked oha --version "$OHA_VERSION"
fi

say "building the release server, tools and client"
bash scripts/build.sh
# The first seconds of the Customers page are timed in Chromium (end2end/bench/first-seconds.mjs).
bash scripts/ensure-chromium.sh

args=()
if [[ "${BENCH_POSTGRES:-0}" == 1 ]]; then
  bash scripts/ensure-postgres.sh
  args+=(--postgres "${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}")
fi
# shellcheck disable=SC2086
exec target/release/tools bench --server target/release/server "${args[@]}" ${BENCH_ARGS:-}
