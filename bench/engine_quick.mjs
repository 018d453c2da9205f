// Tree-engine micro-benchmark on the full benchmark's models (run `bash bench/run.sh` first so
// bench/work exists): batch predictProba on its 10,000 rows (median of 7) and single-row latency,
// for one built package — compare two builds by passing their pkg folders:
//   node bench/engine_quick.mjs [PKG_DIR, default pkg]
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
const require = createRequire(import.meta.url);
const wp = require(resolve(process.argv[2] ?? "pkg") + "/node/wasm_predict.js");
const work = resolve(dirname(fileURLToPath(import.meta.url)), "work");
for (const name of ["hgb_200", "xgb_200_d6", "lgbm_200", "rf_100_full_20k", "gb_200_d3"]) {
  const meta = JSON.parse(readFileSync(`${work}/${name}/meta.json`, "utf8"));
  const xb = readFileSync(`${work}/${name}/X.f64`);
  const X = new Float64Array(xb.buffer, xb.byteOffset, xb.byteLength / 8);
  const m = wp.load(readFileSync(`${work}/${name}/model.pkl`));
  const n = meta.n_features;
  m.predictProba(X, n);
  const times = [];
  for (let i = 0; i < 7; i++) { const t = performance.now(); m.predictProba(X, n); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  const one = X.subarray(0, n);
  const t1 = performance.now(); for (let i = 0; i < 2000; i++) m.predictProba(one, n); const single = (performance.now() - t1) / 2000 * 1000;
  console.log(`${name.padEnd(16)} batch ${times[3].toFixed(1)} ms (${Math.round(X.length / n / times[3] * 1000)} rows/s), single ${single.toFixed(1)} µs`);
}
