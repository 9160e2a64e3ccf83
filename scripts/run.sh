#!/usr/bin/env bash
# Installs what is missing, builds the release, and starts fabrik-server on the embedded
# default (local processes + SQLite). Extra arguments go to fabrik-server, e.g. --listen.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo leptos build --release --split --precompress
node scripts/wasm_lazy_data.mjs
node scripts/wasm_compact.mjs
exec target/server-release/fabrik-server "$@"
