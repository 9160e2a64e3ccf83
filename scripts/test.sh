#!/usr/bin/env bash
# Every check CI runs: formatting, lints, unit + integration tests, the demo workflow
# smoke test, and end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# cargo-leptos adds this flag to debug builds; clippy and tests use it too so they reuse
# its artifacts. (Not exported: cargo-leptos would add it a second time.)
FLAGS="--cfg erase_components"

step() { printf '\n\033[1;34m== %s ==\033[0m\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "clippy (server side, and the wasm front end)"
RUSTFLAGS=$FLAGS cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
RUSTFLAGS=$FLAGS cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "build the site (split into per-page WASM chunks) and the server"
cargo leptos build --split
# As the release build does (scripts/run.sh), so the browser tests run with it.
node scripts/wasm_lazy_data.mjs target/site/pkg target/front/wasm32-unknown-unknown/debug
node scripts/wasm_compact.mjs target/site/pkg

step "unit and integration tests"
RUSTFLAGS=$FLAGS cargo test --workspace --exclude frontend

step "demo workflow smoke test (genuine Smithers runs)"
bash workflows/demo/smoke.sh

step "end-to-end tests in headless Chromium"
node --test --test-concurrency=1 end2end/tests/
