#!/usr/bin/env bash
# Makes sure the PostgreSQL the store tests use is up: starts the local cluster when it is down.
# TEST_POSTGRES_URL points the tests elsewhere; then this only checks that it answers.
set -euo pipefail
url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
answers() { psql "$url" -Atqc 'select 1' >/dev/null 2>&1; }
if answers; then exit 0; fi
if [[ -z "${TEST_POSTGRES_URL:-}" ]] && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  echo "==> starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do answers && exit 0; sleep 1; done
fi
echo "PostgreSQL does not answer at $url: start it, or set TEST_POSTGRES_URL to one that does." >&2
exit 1
