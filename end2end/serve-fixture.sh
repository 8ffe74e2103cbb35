#!/usr/bin/env bash
# Starts the release server on a fresh SQLite database holding the browser tests' fixed dataset.
# Playwright runs this (see playwright.config.ts); `make test` builds the server and the tools
# binary (which loads the dataset) first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
server="$root/target/release/server"
tools="$root/target/release/tools"
if [[ ! -x "$server" || ! -x "$tools" || ! -f "$root/target/site/hash.txt" ]]; then
  echo "The release build is missing: run 'make build' (scripts/build.sh) first." >&2
  exit 1
fi
work="$root/end2end/.e2e"
mkdir -p "$work"
# The database and the sign-in file attached beside it (fixture.db-auth), with their logs.
rm -f "$work"/fixture.db "$work"/fixture.db-*
node "$root/end2end/fixtures/dataset.mjs" "$work/dataset.json"
export DATABASE_URL="sqlite://$work/fixture.db"
"$tools" load-fixture "$work/dataset.json"
export LEPTOS_SITE_ROOT="$root/target/site"
exec "$server" serve --addr "${E2E_ADDR:-127.0.0.1:3100}"
