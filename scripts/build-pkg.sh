#!/usr/bin/env bash
# Build the npm package into pkg/ (browser ES module, Node CJS+ESM, bundler builds) from the
# release wasm, optimise it with wasm-opt (npm binaryen; never Debian's, which breaks the
# output), and copy the browser build to www/pkg for the demo page.
# Needs: scripts/setup.sh (wasm target, wasm-bindgen CLI, npm dev tools).
#   bash scripts/build-pkg.sh                                  # the package, into pkg/ (+ www/pkg)
#   PKG_OUT=dir bash scripts/build-pkg.sh --simd               # a SIMD128 build elsewhere (benchmark)
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=${PKG_OUT:-pkg}
# panic=unwind (nightly, std rebuilt with -Zbuild-std): a residual panic unwinds to the export's
# catch_unwind and becomes an INTERNAL error while the instance keeps serving (src/wasm.rs
# `guarded`); with stable's panic=abort it would trap and leave the instance unusable.
# Legacy wasm exceptions (try/catch): LLVM's default exnref form needs Node 22+/Chrome 137+, the
# legacy form runs on Node 20, Chrome 95+, Firefox 100+, Safari 15.2+.
# Costs ~10 KB gzip and ~45 s of std build on a cold target dir.
# --cfg wasm_size_build: the importers' functions carry #[optimize(size)] (a nightly attribute),
# so code that runs once per load is compiled for size while the crate stays at -O3 for the
# evaluation loops (-22 KB gzip; the importers whose per-node loops set load time are exempt).
export RUSTFLAGS="-C panic=unwind -C llvm-args=-wasm-use-legacy-eh --cfg wasm_size_build"
target_dir=target/wasm-unwind
if [ "${1:-}" = "--simd" ]; then
  RUSTFLAGS="$RUSTFLAGS -C target-feature=+simd128"
  target_dir=target/wasm-unwind-simd
fi
# WASM_FEATURES adds cargo features (e.g. "all-codecs" for bz2/lzma/xz/lz4 joblib files).
features=()
if [ -n "${WASM_FEATURES:-}" ]; then
  features=(--features "$WASM_FEATURES")
fi
cargo +nightly build --release --target wasm32-unknown-unknown --lib --target-dir "$target_dir" \
  -Zbuild-std=std,panic_unwind --config 'profile.release.panic="unwind"' "${features[@]}"
WASM=$target_dir/wasm32-unknown-unknown/release/wasm_predict.wasm
WASM_OPT=$PWD/node_modules/.bin/wasm-opt
VERSION=$(awk -F'"' '/^version = / {print $2; exit}' Cargo.toml)

rm -rf "$pkg"
mkdir -p "$pkg"
for target in web nodejs bundler; do
  dir=$target
  [ "$target" = nodejs ] && dir=node
  wasm-bindgen --target "$target" --out-dir "$pkg/$dir" "$WASM"
  "$WASM_OPT" -Oz "$pkg/$dir/wasm_predict_bg.wasm" -o "$pkg/$dir/wasm_predict_bg.wasm"
done

# Module kinds per folder, so Node never mistakes the CommonJS build for ESM or the reverse.
# The typed-array fast path (see the file) patches the Model class where each target defines it.
for glue in web/wasm_predict.js node/wasm_predict.js bundler/wasm_predict_bg.js; do
  grep -q '^\(export \)\?class Model ' "$pkg/$glue" || { echo "no Model class in $glue" >&2; exit 1; }
  cat pkg-config/typed-fast-path.js >> "$pkg/$glue"
done
echo '{ "type": "module" }' > "$pkg"/web/package.json
echo '{ "type": "module" }' > "$pkg"/bundler/package.json
echo '{ "type": "commonjs" }' > "$pkg"/node/package.json
cp pkg-config/bundler-index.js "$pkg"/bundler/index.js
cp pkg-config/node-index.cjs "$pkg"/node/index.cjs
# The ESM wrapper re-exports exactly what the CommonJS build exports (no hand-kept list).
EXPORTS=$(node -e 'console.log(Object.keys(require(require("path").resolve(process.argv[1], "node/wasm_predict.js"))).filter(k => k !== "__esModule").join(", "))' "$pkg")
cat > "$pkg"/node/index.mjs <<ESM
// Node entry (ES module): wraps the CommonJS build, which compiles the wasm on load.
import { createRequire } from "node:module";
const wasm = createRequire(import.meta.url)("./wasm_predict.js");
export const { ${EXPORTS} } = wasm;
export default async function init() {
  return wasm;
}
export function initSync() {
  return wasm;
}
ESM
# wasm-bindgen declares `[Symbol.dispose]`; referencing the lib lets consumers type-check
# without raising their own `lib` setting. The .d.cts copy types `require()` consumers.
{ echo '/// <reference lib="esnext.disposable" />'; cat "$pkg"/web/wasm_predict.d.ts; } > "$pkg"/index.d.ts
cp "$pkg"/index.d.ts "$pkg"/index.d.cts
cp pkg-config/README.md "$pkg"/README.md
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("pkg-config/package.json", "utf8"));
  p.version = process.argv[1];
  fs.writeFileSync(process.argv[2] + "/package.json", JSON.stringify(p, null, 2) + "\n");
' "$VERSION" "$pkg"

if [ "$pkg" = pkg ] && [ "${1:-}" != "--simd" ]; then
  rm -rf www/pkg
  cp -r pkg/web www/pkg
fi

raw=$(stat -c %s "$pkg"/web/wasm_predict_bg.wasm)
gz=$(gzip -9 -c "$pkg"/web/wasm_predict_bg.wasm | wc -c)
echo "pkg: wasm-predict $VERSION built; browser wasm $raw bytes raw, $gz bytes gzip -9"
