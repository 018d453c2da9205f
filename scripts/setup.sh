#!/usr/bin/env bash
# Install everything the project needs on a fresh machine; idempotent (seconds when done).
#   bash scripts/setup.sh          # everything: build + browser tests
#   bash scripts/setup.sh --demo   # only what the demo needs (no Chromium)
# Needs root for apt (CI and these machines run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# 1) Rust's wasm target.
rustup target add wasm32-unknown-unknown >/dev/null

# 1b) Nightly with the std sources: the shipped wasm rebuilds std with panic=unwind (so a
#     residual panic becomes an INTERNAL error instead of a trap), and cargo-fuzz needs nightly.
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal --component rust-src
elif ! rustup component list --toolchain nightly --installed | grep -q '^rust-src'; then
  rustup component add rust-src --toolchain nightly
fi

# 2) wasm-bindgen CLI (+ test runner) at exactly the version in Cargo.lock. No --locked: that
#    fails on this registry for 0.2.130 (a locked dependency version is missing). ~4 min once.
WB_VER=$(awk '$0=="name = \"wasm-bindgen\"" {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
[ -n "$WB_VER" ] || { echo "setup: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VER" ] \
   || [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$WB_VER" ]; then
  echo "setup: installing wasm-bindgen-cli $WB_VER (takes a few minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VER" --force
fi

# 3) npm dev tools from package-lock.json: binaryen (wasm-opt; never Debian's, it breaks
#    wasm-bindgen output), playwright-core (drives Debian's Chromium; downloads no browser),
#    typescript (checks the shipped declarations).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/tsc ] || [ ! -d node_modules/playwright-core ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--demo" ]; then
  exit 0
fi

# 4) Headless Chromium + ChromeDriver from Debian, for browser tests.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver
fi

echo "setup: ok ($(rustc --version | cut -d' ' -f1-2); wasm-bindgen $WB_VER; $(chromium --version 2>/dev/null | head -1))"
