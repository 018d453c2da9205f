// Every model × browser runtime in headless Chromium (Debian's, driven by playwright-core).
//   node bench/run_browser.mjs WORK_DIR OUT_JSON [--smoke]      (WORK_DIR inside the repository)
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";
import { bestOf, processes } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [work, out] = process.argv.slice(2);
const smoke = process.argv.includes("--smoke");
const RUNTIMES = ["wasm-predict", "wasm-predict (bundle)", "onnxruntime-web", "m2cgen"];

const server = await serve(root);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const workUrl = "/" + relative(root, resolve(work));
const index = JSON.parse(readFileSync(join(work, "index.json"), "utf8"));
const results = { environment: "chromium", browser: browser.version(), models: {} };
try {
  for (const model of index.models) {
    results.models[model] = {};
    for (const runtime of RUNTIMES) {
      const runs = [];
      for (let i = 0; i < processes(smoke); i++) {
        // A fresh page per measurement: no runtime's memory or JIT state leaks into the next.
        const page = await browser.newPage();
        page.setDefaultTimeout(smoke ? 120_000 : 900_000);
        await page.goto(`${base}/bench/page.html`);
        await page.waitForSelector("body[data-ready=true]");
        runs.push(await page.evaluate(([w, m, rt, s]) => window.benchOne(w, m, rt, s), [workUrl, model, runtime, smoke]));
        await page.close();
      }
      const r = bestOf(runs);
      results.models[model][runtime] = r;
      const summary = r.status === "ok" ? `${Math.round(r.rows_per_s).toLocaleString("en-US")} rows/s, p50 ${r.single_p50_us.toFixed(1)} µs, load ${r.load_ms.toFixed(2)} ms` : `${r.status}: ${r.reason}`;
      console.log(`chromium ${model.padEnd(30)} ${runtime.padEnd(22)} ${summary}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
writeFileSync(out, JSON.stringify(results, null, 1));
