// Every model × runtime in Node, each in a fresh child process.
//   node bench/run_node.mjs WORK_DIR OUT_JSON [--smoke]
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { bestOf, processes } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [work, out] = process.argv.slice(2);
const smoke = process.argv.includes("--smoke");
export const RUNTIMES = ["wasm-predict", "wasm-predict (bundle)", "onnxruntime-web", "onnxruntime-node", "m2cgen"];

function child(model, runtime) {
  try {
    const stdout = execFileSync(process.execPath, [join(here, "node_child.mjs"), work, model, runtime, ...(smoke ? ["--smoke"] : [])],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 24, timeout: smoke ? 120_000 : 900_000 });
    return JSON.parse(stdout.trim().split("\n").pop());
  } catch (e) {
    return { status: "error", reason: String(e.stderr || e.message).split("\n").filter(Boolean).slice(-1)[0]?.slice(0, 200) };
  }
}

const index = JSON.parse(readFileSync(join(work, "index.json"), "utf8"));
const baseline = child("-", "baseline");
const results = { environment: "node", node: process.version, baseline_rss_mb: baseline.max_rss_mb, models: {} };
for (const model of index.models) {
  results.models[model] = {};
  for (const runtime of RUNTIMES) {
    const r = bestOf(Array.from({ length: processes(smoke) }, () => child(model, runtime)));
    if (r.max_rss_mb !== undefined && baseline.max_rss_mb !== undefined) r.peak_rss_over_baseline_mb = r.max_rss_mb - baseline.max_rss_mb;
    results.models[model][runtime] = r;
    const summary = r.status === "ok" ? `${Math.round(r.rows_per_s).toLocaleString("en-US")} rows/s, p50 ${r.single_p50_us.toFixed(1)} µs, load ${r.load_ms.toFixed(2)} ms` : `${r.status}: ${r.reason}`;
    console.log(`node  ${model.padEnd(30)} ${runtime.padEnd(22)} ${summary}`);
  }
}
writeFileSync(out, JSON.stringify(results, null, 1));
