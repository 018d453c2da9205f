// The benchmark page's side: one (model, runtime) measurement per call from Playwright, with
// the same harness as Node. Served cross-origin isolated (COOP/COEP) for finer timers.
import { settings, measure, guarded, wasmPredictAdapter, ortAdapter, m2cgenAdapter } from "./harness.mjs";

const cache = {};
async function bytesOf(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
async function wasmPredict(work) {
  if (!cache.wp) {
    cache.wp = await import(`${work}/pkg-simd/web/wasm_predict.js`);
    await cache.wp.default();
  }
  return cache.wp;
}
async function ortWeb() {
  if (!cache.ort) {
    cache.ort = await import("./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs");
    cache.ort.env.wasm.wasmPaths = new URL("./node_modules/onnxruntime-web/dist/", import.meta.url).href;
    cache.ort.env.wasm.numThreads = 1;
  }
  return cache.ort;
}

window.benchOne = (work, model, runtime, smoke) => guarded(async () => {
  const dir = `${work}/${model}`;
  const meta = await (await fetch(`${dir}/meta.json`)).json();
  const X = meta.files.X.endsWith(".json") ? await (await fetch(`${dir}/${meta.files.X}`)).json()
    : new Float64Array((await bytesOf(`${dir}/${meta.files.X}`)).buffer);
  const expected = new Float64Array((await bytesOf(`${dir}/expected.f64`)).buffer);
  const opts = { settings: settings(smoke), now: () => performance.now(), fineClock: false };
  let adapter;
  if (runtime.startsWith("wasm-predict")) {
    const wp = await wasmPredict(work);
    let bytes = await bytesOf(`${dir}/model.pkl`);
    if (runtime === "wasm-predict (bundle)") {
      const m = wp.load(bytes);
      bytes = m.toBundle();
      m.free();
    }
    adapter = wasmPredictAdapter(wp, bytes, meta);
  } else if (runtime === "onnxruntime-web") {
    if (!meta.files.onnx) return { status: "unsupported", reason: `no ONNX file: ${meta.unsupported.onnx}` };
    adapter = ortAdapter(await ortWeb(), await bytesOf(`${dir}/${meta.files.onnx}`), meta, "wasm");
  } else if (runtime === "m2cgen") {
    if (!meta.files.m2cgen) return { status: "unsupported", reason: `m2cgen: ${meta.unsupported.m2cgen}` };
    adapter = m2cgenAdapter(await (await fetch(`${dir}/${meta.files.m2cgen}`)).text(), meta);
  } else {
    return { status: "unsupported", reason: `${runtime} does not run in a browser` };
  }
  const result = await measure(adapter, X, expected, meta, opts);
  result.cross_origin_isolated = self.crossOriginIsolated;
  return result;
});
document.getElementById("status").textContent = "ready";
document.body.dataset.ready = "true";
