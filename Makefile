# The two set-up commands the README promises, and the steps behind them.
# Every install step lives in scripts/; nothing here relies on what a machine happens to have.
SHELL := /usr/bin/env bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test tools build lint unit e2e fuzz bench watch clean help

help:
	@echo "make run    build and serve the app on SQLite with demo data (http://127.0.0.1:3000)"
	@echo "make test   fmt, clippy, unit + store tests (SQLite and PostgreSQL), browser tests in Chromium, API fuzzing"
	@echo "make lint | unit | e2e | build | tools   the parts of make test"
	@echo "make fuzz   the API against its OpenAPI document with a fresh random seed (printed), on the release build"
	@echo "make bench  build dataset L, measure store, server and client (tools bench), write docs/BENCHMARKS.md"

tools:
	@bash scripts/install-tools.sh

# One release build serves `make run`, the browser tests and the bench alike (scripts/build.sh:
# cargo, wasm-bindgen and wasm-opt; hashed, precompressed client files in target/site).
build: tools
	@bash scripts/build.sh

run: build
	@bash scripts/run.sh

lint: tools
	@bash scripts/test.sh lint

unit: tools
	@bash scripts/test.sh unit

e2e: tools
	@bash scripts/test.sh e2e

test: tools
	@bash scripts/test.sh all

# Not part of make test (which runs fixed seeds, the same requests every time): the API fuzzer
# with a fresh random seed, printed at the start and with any failure, to run it again with
# API_FUZZ_SEEDS=<seed> scripts/api-fuzz.sh.
fuzz: build
	@API_FUZZ_SEEDS=random bash scripts/api-fuzz.sh target/release/server

# The development loop, optional: rebuilds and reloads on every save. Needs cargo-leptos
# (`cargo install --locked cargo-leptos --version 0.3.10`, about 20 minutes on two cores).
watch:
	cargo leptos watch

# Not part of make test: it builds 2 million conversations and takes several minutes.
bench: tools
	@bash scripts/bench.sh

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/.e2e end2end/test-results end2end/playwright-report
