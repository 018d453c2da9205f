// One measurement in its own Node process, so peak memory (maxRSS) belongs to one runtime:
//   node bench/node_child.mjs WORK_DIR MODEL RUNTIME [--smoke]
import { readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { settings, measure, guarded, wasmPredictAdapter, ortAdapter, m2cgenAdapter } from "./harness.mjs";

const [work, model, runtime] = process.argv.slice(2);
const smoke = process.argv.includes("--smoke");
const require = createRequire(import.meta.url);
const now = () => Number(process.hrtime.bigint()) / 1e6;

function f64(path) {
  const b = readFileSync(path);
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}

async function main() {
  if (runtime === "baseline") return { status: "ok" };
  const dir = join(work, model);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const X = meta.files.X.endsWith(".json") ? JSON.parse(readFileSync(join(dir, meta.files.X), "utf8")) : f64(join(dir, meta.files.X));
  const expected = f64(join(dir, "expected.f64"));
  const opts = { settings: settings(smoke), now, fineClock: true };
  let adapter;
  let bundleBytes;
  if (runtime === "wasm-predict" || runtime === "wasm-predict (bundle)") {
    const wp = require(resolve(work, "pkg-simd/node/wasm_predict.js"));
    let bytes = new Uint8Array(readFileSync(join(dir, "model.pkl")));
    if (runtime === "wasm-predict (bundle)") {
      const m = wp.load(bytes); // throws "unsupported" for models the importer does not know yet
      bytes = m.toBundle();
      bundleBytes = [bytes.length, gzipSync(bytes, { level: 9 }).length];
      m.free();
    }
    adapter = wasmPredictAdapter(wp, bytes, meta);
  } else if (runtime === "onnxruntime-web" || runtime === "onnxruntime-node") {
    if (!meta.files.onnx) return { status: "unsupported", reason: `no ONNX file: ${meta.unsupported.onnx}` };
    const ort = runtime === "onnxruntime-web" ? await import("onnxruntime-web") : await import("onnxruntime-node");
    if (runtime === "onnxruntime-web") ort.env.wasm.numThreads = 1;
    adapter = ortAdapter(ort, new Uint8Array(readFileSync(join(dir, meta.files.onnx))), meta, runtime === "onnxruntime-web" ? "wasm" : "cpu");
  } else if (runtime === "m2cgen") {
    if (!meta.files.m2cgen) return { status: "unsupported", reason: `m2cgen: ${meta.unsupported.m2cgen}` };
    adapter = m2cgenAdapter(readFileSync(join(dir, meta.files.m2cgen), "utf8"), meta);
  } else {
    throw new Error(`unknown runtime ${runtime}`);
  }
  const result = await measure(adapter, X, expected, meta, opts);
  if (bundleBytes) [result.bundle_bytes, result.bundle_gzip_bytes] = bundleBytes;
  return result;
}

const result = await guarded(main);
result.max_rss_mb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(result) + "\n");
