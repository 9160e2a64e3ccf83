#!/usr/bin/env bash
# Installs everything fabrik needs that a fresh machine lacks. Idempotent: each step
# checks first, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v tmux >/dev/null 2>&1; then
  log "installing chromium + tmux (Debian)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium tmux >/dev/null
fi

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  log "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v cargo-leptos >/dev/null 2>&1; then
  log "installing cargo-leptos 0.3.10 (compiles ~20 min the first time)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q 0.2.130; then
  log "installing wasm-bindgen-cli 0.2.130 (must equal the wasm-bindgen crate)"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi

if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/smithers ] || [ ! -x node_modules/.bin/wasm-opt ]; then
  log "npm install (tailwind, binaryen, bun, smithers-orchestrator, playwright-core)"
  npm install --no-audit --no-fund --loglevel=error
fi
if ! .tools/py/bin/python -c 'import http_ece, aiosmtpd, cryptography, kmock' 2>/dev/null; then
  log "python test helpers (http-ece, aiosmtpd, cryptography, kmock) in .tools/py"
  python3 -m venv .tools/py
  .tools/py/bin/pip install --quiet --disable-pip-version-check http-ece aiosmtpd cryptography kmock==0.8
fi
log "tools ready"
