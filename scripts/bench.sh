#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md: release WASM size per page (brotli), the
# runs list at 100k runs, Smithers-write → SSE latency, env parse+diff natively and per
# keystroke in the browser's WASM, and env save latency.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
# The page-under-load bench drives the server with wrk.
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo leptos build --release --split --precompress
node scripts/wasm_lazy_data.mjs
node scripts/wasm_compact.mjs
node end2end/bench/wasm_size.mjs
# The flags cargo-leptos builds the release server with (always-erase-components), so the
# bench measures what ships and reuses that build.
RUSTFLAGS="--cfg erase_components" cargo run --quiet --profile server-release -p fabrik-server --bin fabrik-bench
node end2end/bench/env_keystroke.mjs
