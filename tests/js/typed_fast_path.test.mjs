// The typed-array fast path (pkg-config/typed-fast-path.js, appended to the JS glue): a small
// Float64Array goes to `__typedCall`, whose glue copies it into wasm memory; anything else goes
// through the general method. Both must give the same bits and the same errors, on every
// fixture model made by the real libraries, and the fast path must really be taken.
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
/** Inputs up to this many values take the fast path (TYPED_CALL_MAX_VALUES in the glue). */
const FAST_MAX = 4096;
const METHODS = ["predict", "predictProba", "decisionFunction", "scoreSamples", "transform", "apply"];

// Count the calls that reach the fast path's export.
let fastCalls = 0;
const typedCall = wp.Model.prototype.__typedCall;
wp.Model.prototype.__typedCall = function (...args) {
  fastCalls += 1;
  return typedCall.apply(this, args);
};

/** Every fixture whose X is all numbers (null = missing), with its first saved file. */
function numericFixtures() {
  const found = [];
  for (const dir of readdirSync(fixtures, { withFileTypes: true })) {
    if (!dir.isDirectory() || ["gen", "hostile"].includes(dir.name)) continue;
    for (const f of readdirSync(join(fixtures, dir.name)).filter((f) => f.endsWith(".json"))) {
      const c = readFixtureJson(join(fixtures, dir.name, f));
      if (!Array.isArray(c.X) || !Array.isArray(c.files)) continue;
      const rows = c.X.map((r) => (Array.isArray(r) ? r : [r]));
      if (!rows.every((r) => r.every((v) => v === null || typeof v === "number"))) continue;
      const base = f.slice(0, -".json".length);
      found.push({ name: `${dir.name}/${base}`, file: join(fixtures, dir.name, `${base}.${c.files[0]}`), rows });
    }
  }
  return found;
}

/** The result of a call, or its error's code and message. */
function outcome(f) {
  try {
    const out = f();
    return { out };
  } catch (e) {
    assert.ok(e instanceof Error, `a failure must be an Error, got ${e}`);
    return { code: e.code, message: e.message };
  }
}

/** Bits of a Float64Array (so -0, NaN payloads and the last ulp all count). */
const bits = (a) => Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length));

/**
 * The whole-batch result of `big` (the rows repeated `times` times) cut back to the first copy:
 * row-major outputs keep the first block; per-output blocks (multi-output predictProba) keep the
 * first rows of each output's block.
 */
function firstCopy(out, nRows, times, blockWidths) {
  if (!blockWidths) return out.slice(0, out.length / times);
  const first = out.slice(0, out.length / times); // same type as `out`, overwritten below
  let at = 0;
  let to = 0;
  for (const w of blockWidths) {
    for (let i = 0; i < nRows * w; i++) first[to++] = out[at + i];
    at += nRows * times * w;
  }
  return first;
}

test("a small Float64Array gives the general path's exact bits and errors on every fixture model", () => {
  let models = 0;
  let compared = 0;
  for (const fx of numericFixtures()) {
    const model = wp.load(new Uint8Array(readFileSync(fx.file)));
    models += 1;
    const nf = fx.rows[0].length;
    const rows = fx.rows.slice(0, Math.floor(FAST_MAX / nf));
    const small = Float64Array.from(rows.flat(), (v) => (v === null ? NaN : v));
    const times = Math.ceil((FAST_MAX + 1) / small.length);
    const big = new Float64Array(small.length * times);
    for (let k = 0; k < times; k++) big.set(small, k * small.length);
    const outputClasses = model.metadata.outputClasses;
    for (const method of METHODS) {
      const before = fastCalls;
      const fast = outcome(() => model[method](small));
      const general = outcome(() => model[method](big));
      // predict takes it when its output is numbers, which the general path must then agree with.
      const takesFastPath = method !== "predict" || model.__predictsNumbers();
      assert.equal(fastCalls - before, takesFastPath ? 1 : 0, `${fx.name} ${method}: fast path taken`);
      if (general.out !== undefined) {
        assert.equal(general.out instanceof Float64Array, takesFastPath, `${fx.name} ${method}: output type`);
      }
      const where = `${fx.name} ${method}`;
      if (general.code !== undefined) {
        assert.equal(fast.code, general.code, `${where}: same error code`);
        assert.equal(fast.message, general.message, `${where}: same error message`);
        continue;
      }
      assert.equal(fast.code, undefined, `${where}: fast path failed: ${fast.message}`);
      const blocks = method === "predictProba" && outputClasses ? outputClasses.map((c) => c.length) : null;
      const want = firstCopy(general.out, rows.length, times, blocks);
      if (fast.out instanceof Float64Array) {
        assert.ok(general.out instanceof Float64Array, `${where}: same output type`);
        assert.deepEqual(bits(fast.out), bits(want), `${where}: same bits`);
      } else {
        assert.deepEqual(Array.from(fast.out), want, `${where}: same labels`);
      }
      compared += 1;
    }
  }
  console.log(`models ${models}, comparisons ${compared}`);
  assert.ok(models > 1000, `only ${models} fixture models`);
  assert.ok(compared > 2000, `only ${compared} comparisons`);
});

test("bad typed input fails the same way on the fast and the general path", () => {
  const load = (name, file) => wp.load(new Uint8Array(readFileSync(join(fixtures, `${name}.${file}`))));
  const forest = load("sk19/tree_rf_classifier_breast_cancer", "p5.pkl"); // NaN allowed (missing values)
  const linear = load("sk13/logreg_binary_breast_cancer", "p2.pkl"); // NaN refused
  const nf = 30;
  const rowsOf = (n, fill) => Float64Array.from({ length: n * nf }, (_, i) => fill(i));
  const nSmall = 3;
  const nBig = nSmall * Math.ceil((FAST_MAX + 1) / nf / nSmall); // same divisibility as nSmall
  for (const [model, label] of [[forest, "forest"], [linear, "linear"]]) {
    const cases = [
      ["one value short", (n) => rowsOf(n, (i) => i % 7).subarray(1), undefined, false],
      ["nCols that does not divide the length", (n) => rowsOf(n, (i) => i % 5), nf + 1, false],
      ["nCols other than the model's", (n) => rowsOf(n, (i) => i % 5), nf * 3, false],
      ["infinity in row 1", (n) => rowsOf(n, (i) => (i === nf + 4 ? Infinity : i % 3)), undefined, true],
      ["NaN in row 2", (n) => rowsOf(n, (i) => (i === 2 * nf + 7 ? NaN : i % 3)), undefined, true],
      ["no rows", () => new Float64Array(0), undefined, true],
      ["nCols 0", (n) => rowsOf(n, (i) => i % 5), 0, true],
      ["nCols −1", (n) => rowsOf(n, (i) => i % 5), -1, false],
      ["nCols NaN", (n) => rowsOf(n, (i) => i % 5), NaN, false],
      ["nCols 2.5", (n) => rowsOf(n, (i) => i % 5), 2.5, false],
    ];
    for (const [what, make, nCols, sameMessage] of cases) {
      for (const method of ["predict", "predictProba", "decisionFunction"]) {
        const before = fastCalls;
        const fast = outcome(() => model[method](make(nSmall), nCols));
        assert.equal(fastCalls - before, 1, `${label} ${method} ${what}: fast path taken`);
        const general = outcome(() => model[method](make(nBig), nCols));
        assert.equal(fast.code, general.code, `${label} ${method} ${what}: same code`);
        if (sameMessage) assert.equal(fast.message, general.message, `${label} ${method} ${what}: same message`);
      }
    }
  }
  // The instance keeps working after every one of those errors.
  const ok = forest.predictProba(rowsOf(1, (i) => i % 3));
  assert.equal(ok.length, 2);
});

test("predict with string labels stays on the general path and returns the labels", () => {
  const dir = join(fixtures, "sk19");
  const name = readdirSync(dir).filter((f) => f.endsWith(".json")).find((f) => {
    const c = readFixtureJson(join(dir, f));
    return Array.isArray(c.classes) && typeof c.classes[0] === "string" && c.X.every((r) => Array.isArray(r) && r.every((v) => typeof v === "number"));
  });
  assert.ok(name, "a fixture classifier with string labels");
  const c = readFixtureJson(join(dir, name));
  const model = wp.load(new Uint8Array(readFileSync(join(dir, `${name.slice(0, -5)}.${c.files[0]}`))));
  const before = fastCalls;
  const labels = model.predict(Float64Array.from(c.X.flat()));
  assert.equal(fastCalls, before, "string labels cannot come back as a Float64Array");
  assert.deepEqual(Array.from(labels), c.predict);
});

test("an array whose length lies, or a subclass, takes the general path and cannot write past the copy", () => {
  const c = readFixtureJson(join(fixtures, "sk13/logreg_binary_breast_cancer.json"));
  const model = wp.load(new Uint8Array(readFileSync(join(fixtures, "sk13/logreg_binary_breast_cancer.p2.pkl"))));
  const X = Float64Array.from(c.X.flat());
  const want = bits(model.predictProba(X));
  class Rows64 extends Float64Array {}
  const lying = new Float64Array(4000);
  Object.defineProperty(lying, "length", { get: () => 30 });
  const subclassLying = new (class extends Float64Array {
    get length() {
      return 30;
    }
  })(4000);
  const before = fastCalls;
  for (const x of [lying, subclassLying]) {
    const result = outcome(() => model.predictProba(x));
    assert.ok(result.out !== undefined || result.message !== undefined);
  }
  // An honest subclass predicts like the plain array (through the general path).
  assert.deepEqual(bits(model.predictProba(Rows64.from(X))), want);
  assert.equal(fastCalls, before, "none of these took the fast path");
  // Nothing was overwritten: the model still predicts its fixture exactly, and loading works.
  assert.deepEqual(bits(model.predictProba(X)), want);
  assert.ok(wp.load(new Uint8Array(readFileSync(join(fixtures, "sk13/logreg_binary_breast_cancer.p2.pkl")))));
});

test("a frozen model still predicts through the fast path", () => {
  const c = readFixtureJson(join(fixtures, "sk19/tree_rf_classifier_breast_cancer.json"));
  const model = Object.freeze(wp.load(new Uint8Array(readFileSync(join(fixtures, "sk19/tree_rf_classifier_breast_cancer.p5.pkl")))));
  const X = Float64Array.from(c.X.flat(), (v) => (v === null ? NaN : v));
  const before = fastCalls;
  assert.deepEqual(Array.from(model.predict(X)), c.predict);
  assert.equal(fastCalls - before, 1);
});

test("__typedCall refuses more values than the glue sends it", () => {
  const model = wp.load(new Uint8Array(readFileSync(join(fixtures, "sk13/logreg_binary_breast_cancer.p2.pkl"))));
  const { code } = outcome(() => typedCall.call(model, 1, new Float64Array(30 * 200), undefined));
  assert.equal(code, "INTERNAL");
  assert.equal(model.predictProba(new Float64Array(30)).length, 2, "the model keeps working");
});
