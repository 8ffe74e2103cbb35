#!/usr/bin/env bash
# Serves the release build on the embedded default: an SQLite file under data/, migrated on
# start and seeded with the demo organisation the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-sqlite://data/playbook.db}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
addr="${PLAYBOOK_ADDR:-127.0.0.1:3000}"
echo "==> serving Playbook on http://$addr (database: $DATABASE_URL); Ctrl-C stops it"
echo "    Sign in to the demo organisation with the password 'playbook-demo' as:"
echo "      admin@demo.example         (Admin)"
echo "      manager@demo.example       (Manager)"
echo "      alex.morgan@demo.example   (Representative: no Customers page)"
exec target/release/server serve --demo --addr "$addr"
