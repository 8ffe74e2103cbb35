#!/usr/bin/env bash
# The release build that `make run`, `make test` and `make bench` serve: the server binary, the
# developer tools binary (the benchmark and the browser tests' fixture loader) and the hydrating
# client in target/site. These are the steps cargo-leptos performs, without
# cargo-leptos (a 20-minute install): cargo for both, wasm-bindgen, then wasm-opt.
#
# The client's files get content hashes in their names (playbook.<hash>.js, .wasm, .css), listed
# in target/site/hash.txt, so the server can let browsers keep them for a year; each is also
# written precompressed (.br, .gz) for the server to hand out by content negotiation.
# Usage: scripts/build.sh [server|client|all]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
part="${1:-all}"
name=playbook
site=target/site
say() { printf '==> %s\n' "$*"; }

build_server() {
  # One cargo invocation for both binaries, so the app crate they share is compiled once;
  # linted as it compiles, with the settings the test build uses (the app crate is shared).
  say "server and tools (release, clippy warnings denied)"
  bash scripts/with-clippy.sh cargo build --release --locked -p server -p tools
}

build_client() {
  # Linted as it compiles: this is the check of the browser build's code.
  say "client (wasm32, profile wasm-release, clippy warnings denied)"
  bash scripts/with-clippy.sh cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  # wasm-opt and brotli take most of a minute: skip them when nothing they read has changed.
  local input=target/wasm32-unknown-unknown/wasm-release/frontend.wasm sources
  sources=$(cat "$input" style/main.css scripts/build.sh <(find public -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-64)
  if [[ -f "$site/hash.txt" && "$(cat "$site/.sources" 2>/dev/null)" == "$sources" ]]; then
    say "client unchanged since the last build (target/site)"
    return
  fi
  # Built beside the live site and swapped in at the end, so a running server never sees half a build.
  local stage=target/site.next
  rm -rf "$stage"
  mkdir -p "$stage/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$stage/pkg" --out-name "$name" \
    "$input"
  # The version scripts/install-tools.sh installed.
  local terser
  terser=$(compgen -G "$HOME/.cache/playbook-tools/terser-*/node_modules/.bin/terser" | tail -1 || true)
  if [[ -n "$terser" && -x "$terser" ]]; then
    say "terser: the JavaScript glue, minified"
    "$terser" "$stage/pkg/$name.js" --module --compress --mangle --output "$stage/pkg/$name.min.js"
    mv "$stage/pkg/$name.min.js" "$stage/pkg/$name.js"
  fi
  say "wasm-opt -Oz"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$stage/pkg/${name}_bg.wasm" -o "$stage/pkg/${name}_bg.opt.wasm"
  mv "$stage/pkg/${name}_bg.opt.wasm" "$stage/pkg/${name}_bg.wasm"
  cp style/main.css "$stage/pkg/$name.css"
  cp -R public/. "$stage/"

  # The names Leptos's hydration script asks for: <name>.<hash>.js and <name>.<hash>.wasm.
  local js_hash wasm_hash css_hash
  js_hash=$(content_hash "$stage/pkg/$name.js")
  wasm_hash=$(content_hash "$stage/pkg/${name}_bg.wasm")
  css_hash=$(content_hash "$stage/pkg/$name.css")
  mv "$stage/pkg/$name.js" "$stage/pkg/$name.$js_hash.js"
  mv "$stage/pkg/${name}_bg.wasm" "$stage/pkg/$name.$wasm_hash.wasm"
  mv "$stage/pkg/$name.css" "$stage/pkg/$name.$css_hash.css"
  printf 'js: %s\nwasm: %s\ncss: %s\n' "$js_hash" "$wasm_hash" "$css_hash" >"$stage/hash.txt"
  printf '%s\n' "$sources" >"$stage/.sources"

  say "precompressing (brotli and gzip)"
  local file
  while IFS= read -r -d '' file; do
    gzip -9 -n -k -f "$file"
    if command -v brotli >/dev/null; then
      brotli -q 11 -k -f "$file"
    fi
  done < <(find "$stage" -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' -o -name '*.svg' \) -print0)
  if ! command -v brotli >/dev/null; then
    say "brotli is missing (scripts/install-tools.sh installs it): files are precompressed with gzip only"
  fi

  # The previous build's client files stay one generation: a page a browser opened before this
  # build (or a server still running since) can load the files it names.
  if [[ -f "$site/hash.txt" ]]; then
    local kind hash
    while IFS=': ' read -r kind hash; do
      for file in "$site/pkg/$name.$hash.$kind" "$site/pkg/$name.$hash.$kind".{br,gz}; do
        if [[ -f "$file" && ! -e "$stage/pkg/$(basename "$file")" ]]; then cp -p "$file" "$stage/pkg/"; fi
      done
    done <"$site/hash.txt"
  fi

  rm -rf "$site.old"
  if [[ -d "$site" ]]; then mv "$site" "$site.old"; fi
  mv "$stage" "$site"
  rm -rf "$site.old"
  say "client in $site: $(wc -c <"$site/pkg/$name.$wasm_hash.wasm") bytes of wasm, $(wc -c <"$site/pkg/$name.$wasm_hash.wasm.gz") gzip"
}

# The first 16 hex digits of the file's SHA-256: names change exactly when contents do.
content_hash() { sha256sum "$1" | cut -c1-16; }

case "$part" in
  server) build_server ;;
  client) build_client ;;
  all) build_client; build_server ;;
  *) echo "usage: $0 [server|client|all]" >&2; exit 2 ;;
esac
