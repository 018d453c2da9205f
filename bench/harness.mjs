// The measurement core, shared by Node and Chromium: the same adapters and the same timing code
// run in both, so the two tables differ only by where they ran.

/** Settings per mode: full numbers for the results table, tiny ones for the CI smoke run.
 *  The warm-up is timed, not counted: V8 first runs wasm through its baseline compiler (Liftoff)
 *  and swaps in optimized code only after a background compile, which on this 2-core machine took
 *  up to ~20 batch calls (0.5–1 s) for every wasm runtime — so steady state is measured after
 *  `warmupMs` of calls, and the cold first call is reported on its own. */
export function settings(smoke) {
  return smoke
    ? { loadRepeats: 1, batchRepeats: 1, singleCalls: 50, warmup: 5, warmupMs: 0 }
    : { loadRepeats: 5, batchRepeats: 9, singleCalls: 2000, warmup: 200, warmupMs: 2000 };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

/** Adapters: each returns { load(): Promise<handle>, batch(handle, X): Promise<Float64Array|Float32Array|number[]>,
 *  single(handle, row): Promise<unknown>, singleSync?(handle, row), free?(handle) }. X is a Float64Array, row-major.
 *  A runtime whose API is synchronous also gives `singleSync`, which single-row timing calls directly: awaiting
 *  a synchronous result adds a promise and a microtask turn (~0.3 µs in Node) that its callers never pay. */
export function wasmPredictAdapter(wp, bytes, meta) {
  const nf = meta.n_features;
  const proba = meta.outputs === "proba";
  // Records (array of objects keyed by column) for DataFrame-like models, else a flat Float64Array.
  const call = (m, x) => {
    const cols = Array.isArray(x) ? undefined : nf;
    return proba ? m.predictProba(x, cols) : m.predict(x, cols);
  };
  return {
    load: async () => wp.load(bytes),
    batch: async (m, X) => call(m, X),
    single: async (m, row) => call(m, row),
    singleSync: (m, row) => call(m, row),
    free: (m) => m.free(),
  };
}

export function ortAdapter(ort, onnxBytes, meta, provider) {
  const nf = meta.n_features;
  const pick = (outputs, n) => {
    // zipmap is off, so probabilities are a float tensor [n, classes]; regressors give [n, 1].
    const tensors = Object.values(outputs).filter((t) => t.type === "float32" || t.type === "float64");
    const want = meta.outputs === "proba" ? meta.expected_cols : 1;
    const t = tensors.find((x) => x.dims.length === 2 && x.dims[0] === n && x.dims[1] === want)
      ?? tensors.find((x) => x.size === n * want);
    if (!t) throw new Error(`no output of shape [${n}, ${want}] among ${Object.keys(outputs)}`);
    return t.data;
  };
  const run = async (s, x32) => {
    const n = x32.length / nf;
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", x32, [n, nf]) });
    return pick(out, n);
  };
  return {
    load: async () => ort.InferenceSession.create(onnxBytes, {
      executionProviders: [provider], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all",
    }),
    // ONNX models take float32: the conversion is part of what a user pays per call.
    batch: async (s, X) => run(s, Float32Array.from(X)),
    single: async (s, row) => run(s, Float32Array.from(row)),
    free: (s) => s.release?.(),
  };
}

export function m2cgenAdapter(code, meta) {
  const nf = meta.n_features;
  return {
    load: async () => new Function(`${code}\nreturn score;`)(),
    batch: async (score, X) => {
      const n = X.length / nf;
      const width = meta.outputs === "proba" ? meta.expected_cols : 1;
      const out = new Float64Array(n * width);
      for (let i = 0; i < n; i++) {
        const r = score(Array.from(X.subarray(i * nf, (i + 1) * nf)));
        if (width === 1 && typeof r === "number") out[i] = r;
        else for (let j = 0; j < width; j++) out[i * width + j] = r[j];
      }
      return out;
    },
    single: async (score, row) => score(Array.from(row)),
    singleSync: (score, row) => score(Array.from(row)),
  };
}

/** Agreement of a batch output with scikit-learn's: max |Δ| and, for probabilities, the share
 *  of rows whose arg-max class is the same. */
export function agreement(got, expected, meta) {
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(Number(got[i]) - expected[i]));
  if (got.length !== expected.length) maxAbs = Infinity;
  let labels = null;
  if (meta.outputs === "proba") {
    const k = meta.expected_cols;
    let same = 0;
    const rows = expected.length / k;
    for (let r = 0; r < rows; r++) {
      let a = 0, b = 0;
      for (let j = 1; j < k; j++) {
        if (Number(got[r * k + j]) > Number(got[r * k + a])) a = j;
        if (expected[r * k + j] > expected[r * k + b]) b = j;
      }
      if (a === b) same++;
    }
    labels = same / rows;
  }
  return { max_abs_diff: maxAbs, label_agreement: labels };
}

/** Measure one runtime on one model. `now()` returns milliseconds; `fineClock` says whether
 *  single calls can be timed one by one (Node) or must be timed in groups (browsers coarsen
 *  performance.now() to 5–100 µs). */
export async function measure(adapter, X, expected, meta, opts) {
  const { loadRepeats, batchRepeats, singleCalls, warmup, warmupMs } = opts.settings;
  const now = opts.now;
  const loads = [];
  let handle;
  for (let i = 0; i < loadRepeats; i++) {
    const t = now();
    const h = await adapter.load();
    loads.push(now() - t);
    if (handle && adapter.free) adapter.free(handle);
    handle = h;
  }
  const firstStart = now();
  const first = await adapter.batch(handle, X);
  const firstBatchMs = now() - firstStart;
  const agree = agreement(first, expected, meta);
  for (const start = now(); now() - start < warmupMs; ) await adapter.batch(handle, X);
  const batches = [];
  for (let i = 0; i < batchRepeats; i++) {
    const t = now();
    await adapter.batch(handle, X);
    batches.push(now() - t);
  }
  const nf = meta.n_features;
  const records = Array.isArray(X);
  const nRows = records ? X.length : X.length / nf;
  const rows = Array.from({ length: Math.min(nRows, 256) }, (_, i) => (records ? X.slice(i, i + 1) : X.slice(i * nf, (i + 1) * nf)));
  const sync = adapter.singleSync;
  const singleStart = now();
  for (let i = 0; i < warmup || now() - singleStart < warmupMs / 2; i++) {
    if (sync) sync(handle, rows[i % rows.length]);
    else await adapter.single(handle, rows[i % rows.length]);
  }
  const group = opts.fineClock ? 1 : 20;
  const singles = [];
  for (let i = 0; i < singleCalls; i += group) {
    const t = now();
    if (sync) for (let j = 0; j < group; j++) sync(handle, rows[(i + j) % rows.length]);
    else for (let j = 0; j < group; j++) await adapter.single(handle, rows[(i + j) % rows.length]);
    singles.push((now() - t) / group);
  }
  if (adapter.free) adapter.free(handle);
  const batchMs = median(batches);
  return {
    status: "ok",
    load_ms: median(loads),
    batch_ms: batchMs,
    first_batch_ms: firstBatchMs,
    rows_per_s: nRows / (batchMs / 1000),
    single_p50_us: median(singles) * 1000,
    single_p99_us: quantile(singles, 0.99) * 1000,
    single_timing: `${group === 1 ? "per call" : `mean of groups of ${group}`}, ${sync ? "called directly (synchronous API)" : "awaited"}`,
    ...agree,
  };
}

/** Run `fn`, turning a thrown error into an "unsupported"/"error" row instead of losing it. */
export async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    const code = e && e.code;
    const message = String((e && e.message) || e).split("\n")[0].slice(0, 200);
    const status = code === "UNSUPPORTED_CLASS" || code === "UNSUPPORTED_VERSION" ? "unsupported" : "error";
    return { status, reason: code ? `${code}: ${message}` : message };
  }
}

/** How many fresh processes (Node) or pages (Chromium) measure each model × runtime: the
 *  machine's other work only ever adds time, and one process in a few ran ~2× slower
 *  throughout (in Node, on either core), so each figure is the best of these. */
export function processes(smoke) {
  const n = Number(globalThis.process?.env?.BENCH_PROCESSES ?? 2);
  return smoke ? 1 : Math.max(1, Number.isFinite(n) ? Math.floor(n) : 2);
}

/** Combine repeated measurements of one model × runtime: throughput (rate and batch time) from
 *  the fastest process, single-row p50 and p99 together from the one with the best p50, the
 *  shortest load and first batch, the largest peak memory; agreement from the first. Runs that
 *  failed while another succeeded are counted in `failed_runs`, not hidden. */
export function bestOf(results) {
  const ok = results.filter((r) => r.status === "ok");
  if (ok.length === 0) return results[0];
  const by = (k, better) => ok.reduce((a, b) => (better(b[k], a[k]) ? b : a));
  const fastest = by("rows_per_s", (x, y) => x > y);
  const quickest = by("single_p50_us", (x, y) => x < y);
  const best = {
    ...ok[0],
    processes: ok.length,
    failed_runs: results.length - ok.length,
    rows_per_s: fastest.rows_per_s,
    batch_ms: fastest.batch_ms,
    single_p50_us: quickest.single_p50_us,
    single_p99_us: quickest.single_p99_us,
    load_ms: Math.min(...ok.map((r) => r.load_ms)),
    first_batch_ms: Math.min(...ok.map((r) => r.first_batch_ms)),
  };
  if (ok.every((r) => r.max_rss_mb !== undefined)) best.max_rss_mb = Math.max(...ok.map((r) => r.max_rss_mb));
  return best;
}
