#!/usr/bin/env bash
# Every check CI runs: formatting, lints, unit + integration tests, the demo workflow
# smoke test, and end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The same flag cargo-leptos uses for debug builds, so tests reuse its artifacts.
export RUSTFLAGS="--cfg erase_components"

step() { printf '\n\033[1;34m== %s ==\033[0m\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "clippy (server side, and the wasm front end)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "build the site and the server (cargo leptos build)"
cargo leptos build

step "unit and integration tests"
cargo test --workspace --exclude frontend

step "demo workflow smoke test (genuine Smithers runs)"
bash workflows/demo/smoke.sh

step "end-to-end tests in headless Chromium"
node --test --test-concurrency=1 end2end/tests/
