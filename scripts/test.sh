#!/usr/bin/env bash
# Run every test: lint, native unit/parity/hostile tests, the JS-API suite in Node and in
# headless Chromium, the npm-tarball install test, the TypeScript check, the Playwright demo
# test, brief fuzzing, a smoke run of the benchmark, and the wasm size budget. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { echo; echo "==> $*"; }

step "setup"
bash scripts/setup.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --features all-codecs -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings

step "native tests (unit, parity against scikit-learn, hostile input)"
cargo test
# The optional joblib codecs (bz2, lzma/xz, lz4 — cargo features, off in the shipped wasm):
# their fixture files decode to the same models, and damaged ones are typed errors.
cargo test --release --features all-codecs --test parity --test errors

step "wasm tests: JS API in Node and in headless Chromium"
# The runner finds chromedriver on PATH and adds --headless/--no-sandbox itself. The browser
# suite runs every fixture (~1,600 files, ~17 s here): the runner's 20 s default is raised so a
# slower machine does not time out.
WASM_BINDGEN_TEST_TIMEOUT=300 cargo test --target wasm32-unknown-unknown --profile wasm-test

step "npm package, TypeScript declarations, demo page in Chromium"
bash scripts/build-pkg.sh
node --test tests/js/

step "fuzzing: every target briefly (scripts/fuzz.sh runs them longer)"
if rustup toolchain list | grep -q '^nightly'; then
  bash scripts/fuzz.sh 15
else
  echo "fuzz: skipped — no nightly toolchain on this machine (cargo-fuzz needs it)"
fi

step "benchmark smoke run (tiny sizes: proves bench/run.sh works; never fails on speed)"
bash bench/run.sh --smoke

step "wasm size budget"
bash scripts/check-size.sh
