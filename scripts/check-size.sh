#!/usr/bin/env bash
# Fail when the gzipped browser wasm grows past the budget in wasm-size-budget.txt.
# Raising the budget is a deliberate commit. Run after scripts/build-pkg.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$(grep -v '^#' wasm-size-budget.txt | tr -d '[:space:]')
wasm=pkg/web/wasm_predict_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wasm size: $raw bytes raw, $gz bytes gzip -9 (budget $budget gzip)"
if [ "$gz" -gt "$budget" ]; then
  echo "size: 0 passed, 1 failed"
  echo "wasm grew past its budget: $gz > $budget bytes gzipped" >&2
  exit 1
fi
echo "size: 1 passed, 0 failed"
