#!/usr/bin/env bash
# Runs a cargo command with clippy linting the workspace's own crates as they compile
# (clippy-driver stands in for rustc on them, as `cargo clippy` does, but the build still
# produces its binaries), warnings denied. The release build (scripts/build.sh) and the test
# build (scripts/test.sh) both go through here with the same settings, so the crates they
# share are compiled once, linted once, and reused by whichever runs second.
# Usage: scripts/with-clippy.sh cargo <args>
set -euo pipefail
export PATH="$HOME/.cargo/bin:$PATH"
RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
exec "$@"
