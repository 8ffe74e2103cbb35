#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own download cannot reach its servers).
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$chromium" ]]; then exit 0; fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "==> installing Chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
  [[ -x "$chromium" ]] && exit 0
fi
echo "Chromium is missing at $chromium: install Debian's package 'chromium' (as root: apt-get install -y chromium)," >&2
echo "or set CHROMIUM_PATH to a Chromium or Chrome binary." >&2
exit 1
