#!/usr/bin/env bash
# Fuzzes /api/v1 against its own OpenAPI document with schemathesis (every check): a server
# binary on a fresh SQLite database with a small demo dataset and a token made by its own
# commands. Any failure (a 5xx, an answer the document does not describe, valid data refused,
# invalid data accepted) fails the script.
# Usage: scripts/api-fuzz.sh [SERVER_BINARY]   (default: $API_FUZZ_SERVER or target/release/server)
# API_FUZZ_EXAMPLES (examples per operation, default 60) and API_FUZZ_SEEDS tune it: the seeds
# run one after another against the same server, by default the fixed "1 2 3" (what `make test`
# runs, the same requests every time); `random` draws a fresh one and prints it (`make fuzz`),
# so that a failure it finds can be run again with API_FUZZ_SEEDS=<that seed>. API_FUZZ_SEED
# (one seed) is read too, for older callers.
set -euo pipefail
# A binary named on the command line is found from where the script was called.
if [[ -n "${1:-}" && -e "$1" ]]; then set -- "$(realpath -- "$1")"; fi
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="$HOME/.cache/playbook-tools/schemathesis-$SCHEMATHESIS_VERSION"
server="${1:-${API_FUZZ_SERVER:-target/release/server}}"
examples="${API_FUZZ_EXAMPLES:-60}"
seeds="${API_FUZZ_SEEDS:-${API_FUZZ_SEED:-1 2 3}}"
port="${API_FUZZ_PORT:-3310}"
say() { printf '==> %s\n' "$*"; }

if [[ ! -x "$server" ]]; then
  echo "no server binary at $server: build it (scripts/build.sh) or pass its path" >&2
  exit 2
fi
if ! command -v python3 >/dev/null; then
  echo "python3 is missing: the API fuzzer (schemathesis) needs it" >&2
  exit 2
fi
if ! command -v curl >/dev/null; then
  echo "curl is missing: the API fuzzer uses it to wait for the server" >&2
  exit 2
fi
# A virtual environment needs Debian's python3-venv: installed here when running as root.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing python3-venv (Debian's package) for the API fuzzer"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null
  else
    echo "python3's venv module is missing: install python3-venv" >&2
    exit 2
  fi
fi
if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "something already answers on 127.0.0.1:$port: set API_FUZZ_PORT" >&2
  exit 2
fi
if [[ "$seeds" == random ]]; then
  seeds=$(python3 -c 'import secrets; print(secrets.randbelow(2**31 - 2) + 1)')
  say "a fresh random seed: $seeds (to run it again: API_FUZZ_SEEDS=$seeds scripts/api-fuzz.sh)"
fi
for seed in $seeds; do
  if [[ ! "$seed" =~ ^[0-9]+$ ]]; then
    echo "API_FUZZ_SEEDS holds \`$seed\`: give whole numbers separated by spaces, or random" >&2
    exit 2
  fi
done
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/api-fuzz.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export DATABASE_URL="sqlite://$work/fuzz.db"
# The server's own logs stay quiet unless something is wrong.
export RUST_LOG="${RUST_LOG:-warn}"

say "a small demo dataset and an API token"
# `server demo` makes the organisation `demo`.
"$server" demo --customers 200 --conversations 3000 >"$work/demo.log"
# An Admin token, so that the erasure calls are fuzzed past their 403. (Generated identifiers
# and external ids are random text: they name no demo customer, and the calls answer 404.)
token=$("$server" token create --org demo --name fuzz --admin 2>"$work/token.log" | grep -Eo '^pb_[0-9a-f]+$' | head -1 || true)
if [[ -z "$token" ]]; then
  cat "$work/token.log" >&2
  echo "could not create an API token" >&2
  exit 1
fi

say "serving $server on 127.0.0.1:$port"
# Schema-valid writes must be accepted (2xx), which a token's write rate limit (429) would stop
# short of a thousand calls: the fuzzer gets a rate it never reaches. The limit itself is
# tested over HTTP in server/src/http_tests.rs.
PLAYBOOK_API_WRITES_PER_MINUTE=1000000 "$server" serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
ready=0
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
if [[ "$ready" -ne 1 ]]; then
  cat "$work/server.log" >&2
  echo "the server did not start answering on 127.0.0.1:$port" >&2
  exit 1
fi

# A representative the organisation has, for the hooks (scripts/api-fuzz-hooks.py).
api() { curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/$1"; }
customer=$(api "customers?per_page=1" | "$venv/bin/python" -c 'import json, sys, urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["rows"][0]["identifier"], safe=""))')
API_FUZZ_REP=$(api "customers/$customer/interactions?per_page=1" | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["rows"][0]["representative"]["email"])')
export API_FUZZ_REP SCHEMATHESIS_HOOKS="$PWD/scripts/api-fuzz-hooks.py"

status=0
failed=()
config="$PWD/scripts/api-fuzz.toml"
for seed in $seeds; do
  say "schemathesis $SCHEMATHESIS_VERSION: every check, $examples examples per operation, seed $seed"
  seed_status=0
  # From the temporary directory: schemathesis and Hypothesis keep their files in the current one.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-examples "$examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 1 \
    --no-color \
    --warnings off) || seed_status=$?
  if [[ "$seed_status" -ne 0 ]]; then
    status=$seed_status
    failed+=("$seed")
  fi
done
if [[ "$status" -ne 0 ]]; then
  echo "schemathesis found failures with seed(s) ${failed[*]} (run one again: API_FUZZ_SEEDS=${failed[0]} scripts/api-fuzz.sh); server log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
