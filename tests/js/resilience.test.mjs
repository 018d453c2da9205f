// The built wasm (pkg/node, the same module the npm package ships) under abuse: a residual panic
// must surface as an `INTERNAL` error while every loaded model keeps serving, and thousands of
// random malformed calls against one instance must each end in a result or a coded `Error`,
// after which the models still reproduce scikit-learn's outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = join(root, "tests/fixtures");
const wp = createRequire(import.meta.url)(join(root, "pkg/node/wasm_predict.js"));

const CODES = new Set(["BAD_FORMAT", "UNSUPPORTED_CLASS", "UNSUPPORTED_VERSION", "LIMIT_EXCEEDED",
  "INVALID_MODEL", "SHAPE_MISMATCH", "BAD_INPUT", "UNSUPPORTED_OPERATION"]);

function fixture(name, file) {
  return {
    expected: JSON.parse(readFileSync(join(fixtures, `${name}.json`), "utf8")),
    bytes: new Uint8Array(readFileSync(join(fixtures, `${name}.${file}`))),
  };
}

/** Largest relative difference (absolute below 1e-15 ignored), as the Rust parity tests do. */
function worstDiff(got, want) {
  assert.equal(got.length, want.length, "output length");
  let worst = 0;
  want.forEach((w, i) => {
    const abs = Math.abs(got[i] - w);
    if (!(abs <= 1e-15)) worst = Math.max(worst, abs / Math.max(Math.abs(got[i]), Math.abs(w)));
  });
  return worst;
}

/** Trees are bit-exact (max difference 0); the linear model is within 1e-12 relative. */
function assertStillCorrect(forest, forestCase, linear, linearCase) {
  const proba = forest.predictProba(forestCase.X);
  assert.equal(worstDiff(proba, forestCase.predict_proba.flat()), 0, "forest probabilities changed");
  assert.deepEqual(Array.from(forest.predict(forestCase.X)), forestCase.predict);
  const p = linear.predictProba(linearCase.X);
  assert.ok(worstDiff(p, linearCase.predict_proba.flat()) <= 1e-12, "linear probabilities changed");
}

test("a residual panic becomes an INTERNAL error and every loaded model keeps serving", () => {
  const rf = fixture("sk19/tree_rf_classifier_breast_cancer", "p5.pkl");
  const lr = fixture("sk13/logreg_binary_breast_cancer", "p2.pkl");
  const forest = wp.load(rf.bytes);
  const linear = wp.load(lr.bytes);
  assertStillCorrect(forest, rf.expected, linear, lr.expected);
  // Many panics in a row: each unwinds fully (stack pointer, heap), so none accumulates.
  for (let i = 0; i < 50; i++) {
    let caught;
    try {
      wp.__panicProbe(3 + i);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof Error, "a panic must throw an Error");
    assert.equal(caught.code, "INTERNAL");
    assert.match(caught.message, /index out of bounds/);
  }
  assert.equal(wp.__panicProbe(2), 3, "the probe itself works after panicking");
  assertStillCorrect(forest, rf.expected, linear, lr.expected);
  // New loads still work too.
  const again = wp.load(rf.bytes);
  assert.deepEqual(Array.from(again.predict(rf.expected.X)), rf.expected.predict);
  for (const m of [forest, linear, again]) m.free();
});

/** Small deterministic PRNG (mulberry32), so a failure reproduces from its seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("thousands of random malformed calls on one instance, then the fixtures still match", (t) => {
  const seed = 20261125;
  const rand = rng(seed);
  const int = (n) => Math.floor(rand() * n);
  const pick = (xs) => xs[int(xs.length)];

  const rf = fixture("sk19/tree_rf_classifier_breast_cancer", "p5.pkl");
  const lr = fixture("sk13/logreg_binary_breast_cancer", "p2.pkl");
  const gb = fixture("sk19/tree_gb_regressor_huber", "p4.pkl");
  const joblib = fixture("sk19/linreg_diabetes", "joblib.gz");
  const forest = wp.load(rf.bytes);
  const linear = wp.load(lr.bytes);
  const boosted = wp.load(gb.bytes);
  const bundle = linear.toBundle();
  const hostileDir = join(fixtures, "hostile");
  const hostile = readdirSync(hostileDir).filter((f) => f !== "manifest.json")
    .map((f) => new Uint8Array(readFileSync(join(hostileDir, f))));
  const sources = [rf.bytes, lr.bytes, gb.bytes, joblib.bytes, bundle];

  const weird = [NaN, Infinity, -Infinity, -0, 1e308, -1e308, 5e-324, "3", "", null, undefined, true,
    {}, [], [1], 2 ** 53, Symbol.iterator, 1n];
  const randomValue = () => (rand() < 0.7 ? rand() * 20 - 10 : pick(weird));
  const numericWeird = [NaN, Infinity, -Infinity, -0, 1e308, 5e-324];
  const randomNumber = () => (rand() < 0.8 ? rand() * 20 - 10 : pick(numericWeird));

  function malformedBytes() {
    const src = pick(sources);
    switch (int(6)) {
      case 0: return src.slice(0, int(src.length)); // truncation
      case 1: { // bit flips
        const b = src.slice();
        for (let k = 0, n = 1 + int(8); k < n; k++) b[int(b.length)] ^= 1 << int(8);
        return b;
      }
      case 2: return Uint8Array.from({ length: int(300) }, () => int(256)); // noise
      case 3: return pick(hostile);
      case 4: { // a valid prefix then noise
        const b = src.slice();
        for (let k = int(b.length); k < b.length; k++) b[k] = int(256);
        return b;
      }
      default: return pick([new Uint8Array(0), "not bytes", 42, null, undefined, {}, [1, 2, 3], new Float64Array(4)]);
    }
  }

  function malformedInput(nFeatures) {
    switch (int(9)) {
      case 0: return [Float64Array.from({ length: int(4 * nFeatures + 3) }, randomNumber), int(2 * nFeatures + 2)];
      case 1: return [Float64Array.from({ length: nFeatures * (1 + int(5)) }, randomNumber), undefined];
      case 2: return [Array.from({ length: int(6) }, () => Array.from({ length: nFeatures + int(3) - 1 }, randomValue)), undefined];
      case 3: return [Array.from({ length: int(6) }, () => ({ [`x${int(40)}`]: randomValue(), worst: randomValue() })), undefined];
      case 4: return [Float32Array.from({ length: nFeatures * int(4) }, () => rand() * 8 - 4), pick([nFeatures, 0, -1, 2 ** 32 - 1, undefined])];
      case 5: return [pick(weird), pick([undefined, 0, 1, nFeatures])];
      case 6: return [Array.from({ length: int(5) }, () => pick([null, "row", 7, [], Array(nFeatures).fill(randomValue())])), undefined];
      case 7: return [new Float64Array(0), nFeatures];
      default: return [Array.from({ length: 2 }, () => Array.from({ length: nFeatures }, randomValue)), undefined];
    }
  }

  const models = [forest, linear, boosted];
  const counts = { ok: 0, coded: {} };
  const calls = 10000;
  for (let i = 0; i < calls; i++) {
    const what = int(10);
    try {
      if (what < 3) {
        const opts = rand() < 0.3 ? { limits: { maxAllocBytes: int(1 << 20), maxDepth: int(64), maxTrees: int(50) } } : undefined;
        const m = wp.load(malformedBytes(), opts);
        m.free();
      } else {
        const model = pick(models);
        const [x, nCols] = malformedInput(model.metadata.nFeatures);
        const method = pick(["predict", "predictProba", "decisionFunction", "predictRows"]);
        const out = model[method](x, nCols);
        if (method === "predictRows") {
          assert.ok(Array.isArray(out));
          for (const r of out) if (!r.ok) assert.ok(CODES.has(r.error.code), `row error code ${r.error.code}`);
        }
      }
      counts.ok += 1;
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof Error, `call ${i} (seed ${seed}) threw a non-Error: ${String(e)}`);
      assert.ok(CODES.has(e.code), `call ${i} (seed ${seed}) threw code ${e.code}: ${e.message}`);
      counts.coded[e.code] = (counts.coded[e.code] ?? 0) + 1;
    }
  }
  t.diagnostic(`seed ${seed}: ${counts.ok} calls succeeded, errors by code ${JSON.stringify(counts.coded)}`);
  const coded = Object.values(counts.coded).reduce((a, b) => a + b, 0);
  assert.equal(counts.ok + coded, calls);
  // The mix really exercised failures of several kinds.
  assert.ok(coded > calls / 4, `only ${coded} coded errors`);
  assert.ok(Object.keys(counts.coded).length >= 4, JSON.stringify(counts.coded));

  assertStillCorrect(forest, rf.expected, linear, lr.expected);
  const reg = boosted.predict(gb.expected.X);
  assert.equal(worstDiff(reg, gb.expected.predict.flat()), 0, "gradient boosting changed");
  for (const m of models) m.free();
});
