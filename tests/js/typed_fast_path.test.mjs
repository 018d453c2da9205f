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

/** A fixture's JSON, written by Python's json module: NaN and ±Infinity appear as bare tokens. */
function readFixtureJson(path) {
  const special = { "NaN!": NaN, "Infinity!": Infinity, "-Infinity!": -Infinity };
  const text = readFileSync(path, "utf8").replace(/(?<=[[,:]\s*)(-?Infinity|NaN)(?=\s*[\],}])/g, '"$1!"');
  return JSON.parse(text, (_, v) => (typeof v === "string" && v in special ? special[v] : v));
}

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

/** Bits of a numeric result (so -0, NaN payloads and the last ulp all count). */
const bits = (a) => Array.from(new BigUint64Array(Float64Array.from(a).buffer));

/**
 * The whole-batch result of `big` (the rows repeated `times` times) cut back to the first copy:
 * row-major outputs keep the first block; per-output blocks (multi-output predictProba) keep the
 * first rows of each output's block.
 */
function firstCopy(out, nRows, times, blockWidths) {
  if (!blockWidths) return out.slice(0, out.length / times);
  const parts = [];
  let at = 0;
  for (const w of blockWidths) {
    parts.push(...out.slice(at, at + nRows * w));
    at += nRows * times * w;
  }
  return parts;
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
        continue;
      }
      assert.equal(fast.code, undefined, `${where}: fast path failed: ${fast.message}`);
      const blocks = method === "predictProba" && outputClasses ? outputClasses.map((c) => c.length) : null;
      const want = firstCopy(Array.from(general.out), rows.length, times, blocks);
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
