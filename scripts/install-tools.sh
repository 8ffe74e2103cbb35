#!/usr/bin/env bash
# Installs the build tools the project needs, from the package registries only.
# Idempotent: each tool is installed only when missing or at the wrong version.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen CLI must match the wasm-bindgen library in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: one of its locked dependencies is no longer in the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wasm-opt from the npm package binaryen (version 132): it installs in seconds, where building
# the wasm-opt crate takes a quarter of an hour on two cores. scripts/build.sh runs it with -Oz,
# bulk memory and non-trapping float-to-int. Debian's binaryen 108 produces wasm that loads but never hydrates.
BINARYEN_VERSION=132.0.0
BINARYEN_DIR="$HOME/.cache/playbook-tools/binaryen-$BINARYEN_VERSION"
if ! wasm-opt --version 2>/dev/null | grep -q "version 1[1-9][0-9]"; then
  if ! command -v npm >/dev/null; then
    say "npm is missing: it installs wasm-opt (the npm package binaryen); install Node.js and npm"
    exit 1
  fi
  say "installing wasm-opt (npm package binaryen $BINARYEN_VERSION)"
  mkdir -p "$BINARYEN_DIR" "$HOME/.cargo/bin"
  npm install --prefix "$BINARYEN_DIR" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
  ln -sf "$BINARYEN_DIR/node_modules/binaryen/bin/wasm-opt" "$HOME/.cargo/bin/wasm-opt"
  wasm-opt --version
fi
# terser (npm, plain JavaScript) minifies wasm-bindgen's JavaScript glue: the browser audit
# flagged it as unminified.
TERSER_VERSION=5.51.4
TERSER_DIR="$HOME/.cache/playbook-tools/terser-$TERSER_VERSION"
if [[ ! -x "$TERSER_DIR/node_modules/.bin/terser" ]]; then
  if command -v npm >/dev/null; then
    say "installing terser $TERSER_VERSION (npm)"
    mkdir -p "$TERSER_DIR"
    npm install --prefix "$TERSER_DIR" --no-audit --no-fund --loglevel=error "terser@$TERSER_VERSION"
  else
    say "npm is missing: the client's JavaScript glue will not be minified"
  fi
fi
# brotli (Debian's package) precompresses the client files at build time; without it they are
# precompressed with gzip only.
if ! command -v brotli >/dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  say "installing brotli (Debian's package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends brotli >/dev/null ||
    say "brotli could not be installed: client files will be precompressed with gzip only"
fi
# The browser tests' packages (Playwright), pinned by end2end/package-lock.json. Its browser
# download is skipped: the tests drive Debian's Chromium.
if [[ ! -d end2end/node_modules/@playwright/test ]]; then
  if command -v npm >/dev/null; then
    say "installing the browser-test packages (npm ci in end2end/)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  else
    say "npm is missing: the app builds and runs without it, but the browser tests need Node.js and npm"
  fi
fi
say "build tools ready"
