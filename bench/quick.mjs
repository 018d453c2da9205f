// Quick figures for the README: load time and predict time of the demo models in Node, using
// the built package (run scripts/build-pkg.sh first). The full side-by-side benchmark against
// onnxruntime-web is a separate tool (see the README).
//   node bench/quick.mjs
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const require = createRequire(import.meta.url);
const wp = require("../pkg/node/wasm_predict.js");

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn, repeats) {
  const samples = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

const wasmPath = new URL("../pkg/web/wasm_predict_bg.wasm", import.meta.url);
const wasm = readFileSync(wasmPath);
console.log(`wasm (browser build): ${statSync(wasmPath).size} bytes raw, ${gzipSync(wasm, { level: 9 }).length} bytes zlib level 9`);
console.log(`node ${process.version}; medians of repeated runs`);
console.log("| model | file bytes | load (pickle) | load (bundle) | predict 1 row | predict 10,000 rows | rows/s |");
console.log("|---|---|---|---|---|---|---|");
for (const [name, file] of [
  ["LinearRegression (diabetes, 10 features)", "www/models/diabetes_linear_regression.pkl"],
  ["LogisticRegression (breast cancer, 30 features)", "www/models/breast_cancer_logistic_regression.pkl"],
  ["GradientBoostingClassifier (breast cancer, 60 trees × depth 3)", "www/models/breast_cancer_gradient_boosting.pkl"],
]) {
  const bytes = new Uint8Array(readFileSync(new URL(`../${file}`, import.meta.url)));
  const model = wp.load(bytes);
  const bundle = model.toBundle();
  const loadPickle = time(() => wp.load(bytes).free(), 200);
  const loadBundle = time(() => wp.load(bundle).free(), 200);
  const n = model.metadata.nFeatures;
  const one = new Float64Array(n).fill(0.01);
  const many = new Float64Array(n * 10000).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const predict = model.metadata.outputKind === "classification" ? (x) => model.predictProba(x, n) : (x) => model.predict(x, n);
  for (let i = 0; i < 2000; i++) predict(one);
  const single = time(() => predict(one), 5000);
  const batch = time(() => predict(many), 50);
  console.log(`| ${name} | ${bytes.length} (bundle ${bundle.length}) | ${(loadPickle * 1000).toFixed(0)} µs | ${(loadBundle * 1000).toFixed(0)} µs | ${(single * 1000).toFixed(1)} µs | ${batch.toFixed(2)} ms | ${Math.round(10000 / (batch / 1000)).toLocaleString("en-US")} |`);
  model.free();
}
