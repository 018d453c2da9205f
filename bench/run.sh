#!/usr/bin/env bash
# The benchmark, one command: generate the models (Python venv pinned in bench/requirements.txt),
# build wasm-predict with SIMD, run every runtime in Node and in headless Chromium, and write
# bench/results/latest.md + ratios.svg.
#   bash bench/run.sh           # full run (10,000 rows, full-size models; ~15 minutes)
#   bash bench/run.sh --smoke   # tiny sizes, few iterations: proves it works (CI), writes target/bench-smoke/
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=""
[ "${1:-}" = "--smoke" ] && smoke=--smoke

bash scripts/setup.sh
# onnxruntime-node's install step would fetch GPU binaries; ONNXRUNTIME_NODE_INSTALL=skip is its documented off switch.
if [ ! -d bench/node_modules/onnxruntime-web ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi
venv=.venv-bench
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r bench/requirements.txt

if [ -n "$smoke" ]; then
  work=target/bench-smoke/work
  out=target/bench-smoke
else
  work=bench/work
  out=bench/results
fi
rm -rf "$work"
mkdir -p "$work" "$out"
"$venv/bin/python" bench/gen_models.py "$work" $smoke
PKG_OUT="$work/pkg-simd" bash scripts/build-pkg.sh --simd
node bench/run_node.mjs "$work" "$out/node.json" $smoke
node bench/run_browser.mjs "$work" "$out/browser.json" $smoke
node bench/report.mjs "$work" "$out" $smoke
