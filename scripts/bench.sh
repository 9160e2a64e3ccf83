#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md: release WASM size (raw, gzip, brotli), the
# runs list at 100k runs, Smithers-write → SSE latency, env parse+diff natively and per
# keystroke in the browser's WASM, and env save latency.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
cargo leptos build --release
node -e '
const fs = require("fs"), z = require("zlib");
const wasm = fs.readFileSync("target/site/pkg/fabrik.wasm");
const br = z.brotliCompressSync(wasm, { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } });
const gz = z.gzipSync(wasm, { level: 9 });
const kb = (n) => (n / 1024).toFixed(0) + " KiB";
console.log("## Release WASM (cargo leptos build --release, wasm-opt from npm binaryen)");
console.log("| raw | gzip -9 | brotli q11 | brotli / raw |\n|---|---|---|---|");
console.log(`| ${kb(wasm.length)} | ${kb(gz.length)} | ${kb(br.length)} | ${(br.length / wasm.length).toFixed(2)} |`);
'
cargo run --quiet --profile server-release -p fabrik-server --bin fabrik-bench
node end2end/bench/env_keystroke.mjs
