// The shipped package predicts what the training libraries predicted, on every fixture file.
// The Rust suites check the same fixtures natively and in wasm, but built with the test
// profile; the package is built differently (-O3, wasm-opt, and its importers compiled for
// size: scripts/build-pkg.sh), and that build is what users load. Tolerances are the wasm
// suite's (tests/common/mod.rs): 1e-12 relative or 1e-15 absolute; XGBoost 4e-6 relative
// (float32 exp/log from Rust's libm); kernel SVMs 1e-13 absolute; trees without a link
// function bit-exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { readFixtureJson } from "./fixture_json.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = join(root, "tests/fixtures");
const wp = createRequire(import.meta.url)(join(root, "pkg/node/wasm_predict.js"));

/** Numbers of a (nested) JSON output, row-major; null (a NaN passed through) is NaN. */
const flatNumbers = (v) => (Array.isArray(v) ? v.flatMap(flatNumbers) : [v === null ? NaN : v]);
/** Labels of a (nested) output, row by row. */
const flatLabels = (v) => (Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v).flatMap(flatLabels) : [v]);

function tolerance(id) {
  const exact = id.includes("/tree_") && !/_(gb|hgb|lgbm|xgb|iforest)_|_adaboost_classifier/.test(id);
  return {
    exact,
    rel: id.includes("_xgb_") ? 4e-6 : 1e-12,
    abs: id.includes("/svm_") ? 1e-13 : 1e-15,
  };
}

/** The largest relative difference above the absolute floor; throws on a miss. */
function check(where, got, want, tol) {
  assert.equal(got.length, want.length, `${where}: ${got.length} values, expected ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    assert.equal(Number.isNaN(g), Number.isNaN(w), `${where}[${i}]: got ${g}, expected ${w}`);
    if (Number.isNaN(g)) continue;
    const abs = Math.abs(g - w);
    if (tol.exact) {
      assert.ok(Object.is(g, w) || (g === 0 && w === 0), `${where}[${i}]: got ${g}, expected ${w} exactly`);
      continue;
    }
    const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(g), Math.abs(w));
    assert.ok(abs <= tol.abs || rel <= tol.rel, `${where}[${i}]: got ${g}, expected ${w} (rel ${rel})`);
    if (abs > tol.abs) worst = Math.max(worst, rel);
  }
  return worst;
}

/** Every fixture case with its saved files (codecs the package leaves out are skipped). */
function cases() {
  const found = [];
  for (const dir of readdirSync(fixtures, { withFileTypes: true })) {
    if (!dir.isDirectory() || ["gen", "hostile", "bundles_v5"].includes(dir.name)) continue;
    for (const f of readdirSync(join(fixtures, dir.name)).filter((f) => f.endsWith(".json"))) {
      const expected = readFixtureJson(join(fixtures, dir.name, f));
      if (!Array.isArray(expected.X) || !Array.isArray(expected.files)) continue;
      const base = f.slice(0, -".json".length);
      const files = expected.files.filter((kind) => !/\.(bz2|lzma|xz|lz4)$/.test(kind));
      found.push({ id: `${dir.name}/${base}`, expected, files: files.map((kind) => join(fixtures, dir.name, `${base}.${kind}`)) });
    }
  }
  return found;
}

/** The case's X as the JS API takes it: a flat Float64Array and its width, or rows of cells. */
function input(expected) {
  const rows = expected.X.map((r) => (Array.isArray(r) ? r : [r]));
  if (expected.mixed) return [rows, undefined];
  // null is a missing value (JSON has no NaN); infinities are written "inf" / "-inf".
  const number = (v) => (v === null ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v);
  return [Float64Array.from(rows.flat(), number), rows[0].length];
}

test("the npm package predicts like the training library on every fixture file", () => {
  let files = 0;
  let worst = 0;
  for (const c of cases()) {
    const tol = tolerance(c.id);
    const e = c.expected;
    const [x, nCols] = input(e);
    for (const file of c.files) {
      const model = wp.load(new Uint8Array(readFileSync(file)));
      const where = file.slice(fixtures.length + 1);
      if (e.transform !== undefined) worst = Math.max(worst, check(`${where} transform`, model.transform(x, nCols), flatNumbers(e.transform), tol));
      if (e.predict !== undefined) {
        const predicted = model.predict(x, nCols);
        if (e.classes !== undefined) {
          const got = flatLabels(predicted);
          const want = flatLabels(e.predict);
          assert.equal(got.length, want.length, `${where}: label count`);
          // Integer labels may be recorded as 3 or 3.0 (the same JS number either way).
          got.forEach((g, i) => assert.ok(g === want[i], `${where} predict row ${i}: got ${g}, expected ${want[i]}`));
        } else {
          worst = Math.max(worst, check(`${where} predict`, predicted, flatNumbers(e.predict), tol));
        }
      }
      // As the wasm suite: classifiers' probabilities and scores; a regressor's decision
      // function only beside score_samples (outlier detectors; a ranker's scores are predict).
      const methods = e.classes !== undefined
        ? [["predict_proba", "predictProba"], ["decision_function", "decisionFunction"]]
        : e.score_samples !== undefined
          ? [["score_samples", "scoreSamples"], ["decision_function", "decisionFunction"]]
          : [];
      for (const [key, method] of methods) {
        if (e[key] === undefined) continue;
        worst = Math.max(worst, check(`${where} ${method}`, model[method](x, nCols), flatNumbers(e[key]), tol));
      }
      if (e.apply !== undefined) check(`${where} apply`, model.apply(x, nCols), flatNumbers(e.apply), { exact: true });
      model.free();
      files += 1;
    }
  }
  console.log(`package parity: ${files} files, worst relative difference ${worst.toExponential(2)}`);
  assert.ok(files > 2000, `only ${files} fixture files`);
});
