// The npm package as a user gets it: `npm pack` the built pkg/, install the tarball into a fresh
// project, then import it from ESM and CommonJS, predict from real pickles, and type-check a
// TypeScript consumer against the shipped declarations.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = join(root, "tests/fixtures");
let project;

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

before(() => {
  project = mkdtempSync(join(tmpdir(), "wasm-predict-consumer-"));
  const packed = run("npm", ["pack", "--silent", "--pack-destination", project], join(root, "pkg")).trim().split("\n").pop();
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, version: "1.0.0" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--offline", join(project, packed)], project);
});

after(() => rmSync(project, { recursive: true, force: true }));

test("the tarball ships only the package files", () => {
  const installed = join(project, "node_modules/wasm-predict");
  assert.deepEqual(readdirSync(installed).sort(), ["README.md", "bundler", "index.d.cts", "index.d.ts", "node", "package.json", "web"]);
  const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  assert.equal(pkg.version, readFileSync(join(root, "Cargo.toml"), "utf8").match(/^version = "(.*)"/m)[1]);
});

const consumerCheck = (fixtureCase, protocol) => `
  const expected = JSON.parse(fs.readFileSync(${JSON.stringify(join(fixtures, fixtureCase + ".json"))}, "utf8"));
  const bytes = fs.readFileSync(${JSON.stringify(join(fixtures, `${fixtureCase}.p${protocol}.pkl`))});
  const model = wp.load(new Uint8Array(bytes));
  const proba = model.predictProba(expected.X);
  // Same tolerance as the Rust parity tests: 1e-12 relative, or 1e-15 absolute near zero.
  let worst = 0;
  expected.predict_proba.flat().forEach((p, i) => {
    const abs = Math.abs(proba[i] - p);
    const rel = abs / Math.max(Math.abs(proba[i]), Math.abs(p));
    if (abs > 1e-15) worst = Math.max(worst, rel);
  });
  const labels = Array.from(model.predict(expected.X));
  let caught;
  try { model.predict([[1, 2]]); } catch (e) { caught = e; }
  const again = model.predictProba(expected.X.slice(0, 1))[0];
  console.log(JSON.stringify({ worst, labelsOk: JSON.stringify(labels) === JSON.stringify(expected.predict),
    code: caught && caught.code, isError: caught instanceof Error, again, first: expected.predict_proba[0][0],
    version: wp.version(), hasInit: typeof wp.default === "function" }));
`;

function checkOutput(stdout) {
  const r = JSON.parse(stdout.trim().split("\n").pop());
  assert.ok(r.worst <= 1e-12, `max relative difference ${r.worst}`);
  assert.ok(r.labelsOk, "labels differ from scikit-learn");
  assert.equal(r.code, "SHAPE_MISMATCH");
  assert.ok(r.isError);
  assert.ok(Math.abs(r.again - r.first) <= 1e-15, "model unusable after an error");
  assert.ok(r.hasInit, "default export init() missing");
}

test("ES module import in Node predicts like scikit-learn", () => {
  writeFileSync(join(project, "esm.mjs"),
    `import fs from "node:fs"; import * as wp from "wasm-predict"; import init from "wasm-predict"; await init();\n` +
    consumerCheck("sk19/logreg_binary_breast_cancer", 4));
  checkOutput(run("node", ["esm.mjs"], project));
});

test("CommonJS require in Node predicts like scikit-learn", () => {
  writeFileSync(join(project, "cjs.cjs"),
    `const fs = require("node:fs"); const wp = require("wasm-predict");\n` +
    consumerCheck("sk13/logreg_string_classes", 2));
  checkOutput(run("node", ["cjs.cjs"], project));
});

test("TypeScript declarations type-check a consumer (and reject misuse)", () => {
  writeFileSync(join(project, "consumer.mts"), `
import init, { load, version, Model, type ModelMetadata, type WasmPredictError, type ClassLabel, type RowResult } from "wasm-predict";
await init();
const model: Model = load(new Uint8Array(0), { name: "m", version: "1" });
const meta: ModelMetadata = model.metadata;
const names: string[] = meta.featureNames;
const classes: ClassLabel[] | null = meta.classes;
const p: Float64Array = model.predictProba(new Float64Array(4), 4);
const labels: Float64Array | ClassLabel[] = model.predict([{ a: 1 }]);
const scores: Float64Array = model.decisionFunction([[1, 2, 3, 4]]);
const bundle: Uint8Array = model.toBundle();
const columns: Float64Array | ClassLabel[] = model.predict({ a: [1, 2], b: ["x", null] });
const transformed: Float64Array = model.transform([[1, 2]]);
const decoded: Float64Array | ClassLabel[] = model.inverseTransform([0, 2]);
const outputClasses: ClassLabel[][] | null = meta.outputClasses;
const kind: "regression" | "classification" | "outlier_detection" | "clustering" | "transform" = meta.outputKind;
const perRow: RowResult[] = model.predictRows([[1, 2], { a: 1 }]);
for (const r of perRow) { if (r.ok) { const p: number | string | boolean | Float64Array | ClassLabel[] = r.prediction; void p; } else { const c: string = r.error.code; void c; } }
const limited: Model = load(new Uint8Array(0), { limits: { maxTrees: 10, maxNodes: 1000 } });
// @ts-expect-error limits are typed
load(new Uint8Array(0), { limits: { maxTreez: 10 } });
const v: string = version();
function handle(e: unknown) { if ((e as WasmPredictError).code === "BAD_INPUT") return; }
// @ts-expect-error predict takes rows, not a string
model.predict("1,2,3");
// @ts-expect-error unknown metadata field
meta.nonexistent;
// @ts-expect-error load options are typed
load(new Uint8Array(0), { nmae: "typo" });
model.free();
export { names, classes, p, labels, scores, bundle, v, handle, limited, columns, transformed, decoded, outputClasses, kind };
`);
  writeFileSync(join(project, "consumer.cts"), `
import wp = require("wasm-predict");
const model: wp.Model = wp.load(new Uint8Array(0));
const proba: Float64Array = model.predictProba([[1, 2]]);
// @ts-expect-error the result is a typed array, not a string
const wrong: string = model.predictProba([[1, 2]]);
export = { proba, wrong };
`);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], skipLibCheck: false },
    files: ["consumer.mts", "consumer.cts"],
  }));
  run(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], project);
});

test("the README's JavaScript example runs against the installed package", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = readme.match(/```js\n([\s\S]*?)```/)[1].replaceAll('"www/models/', JSON.stringify(join(root, "www/models")).slice(0, -1) + "/");
  writeFileSync(join(project, "readme.mjs"), block);
  const out = run("node", ["readme.mjs"], project);
  assert.match(out, /featureNamesFromSource: true/);
  assert.match(out, /SHAPE_MISMATCH row 0 has 3 values but the model takes 30 features/);
});
