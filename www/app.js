// The demo page: load a model (example or user file), build a form from its feature names,
// predict on every change. Plain ES modules, no framework; everything runs in this tab.
import init, { load, version } from "./pkg/wasm_predict.js";

const $ = (id) => document.getElementById(id);
const state = { model: null, sample: null, fileName: "model" };

function setStatus(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function describeError(error) {
  return error && error.code ? `${error.code}: ${error.message}` : String(error);
}

function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  return Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-4)
    ? value.toExponential(6)
    : value.toFixed(6).replace(/\.?0+$/, "");
}

/** Load model bytes, replacing (and freeing) the current model only on success. */
function useModel(bytes, label, sample) {
  const started = performance.now();
  let model;
  try {
    model = load(bytes);
  } catch (error) {
    setStatus(`Could not load ${label}: ${describeError(error)}`, "error");
    return false;
  }
  const loadMs = performance.now() - started;
  if (state.model) state.model.free();
  state.model = model;
  state.sample = sample && sample.length === model.metadata.nFeatures ? sample : null;
  state.fileName = label.replace(/\.[^.]*$/, "") || "model";
  setStatus(`Loaded ${label} in ${loadMs.toFixed(2)} ms.`, "ok");
  $("status").dataset.loadMs = String(loadMs);
  showModel(model, loadMs);
  buildForm(model);
  predict();
  return true;
}

function showModel(model, loadMs) {
  const m = model.metadata;
  const facts = [
    ["Model", m.name],
    ["Class", m.estimatorClass],
    ["Trained with", `${m.sourceLibrary} ${m.sourceLibraryVersion}`],
    ["Read from", m.sourceFormat],
    ["Task", m.outputKind],
    ["Features", String(m.nFeatures)],
    ["Classes", m.classes ? m.classes.join(", ") : "—"],
    ["Load time", `${loadMs.toFixed(2)} ms`],
  ];
  const dl = $("facts");
  dl.replaceChildren();
  for (const [k, v] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  $("model-info").hidden = false;
  $("predict-card").hidden = false;
}

function buildForm(model) {
  const form = $("feature-form");
  form.replaceChildren();
  model.metadata.featureNames.forEach((name, i) => {
    const label = document.createElement("label");
    const span = document.createElement("span");
    span.textContent = name;
    const input = document.createElement("input");
    input.type = "number";
    input.step = "any";
    input.name = name;
    input.dataset.index = String(i);
    input.value = String(state.sample ? state.sample[i] : 0);
    label.append(span, input);
    form.append(label);
  });
}

function readRow() {
  const inputs = [...$("feature-form").querySelectorAll("input")];
  return inputs.map((input) => (input.value.trim() === "" ? NaN : Number(input.value)));
}

function predict() {
  const model = state.model;
  if (!model) return;
  const row = new Float64Array(readRow());
  const out = $("prediction");
  const chart = $("chart");
  try {
    const isClassifier = model.metadata.outputKind === "classification";
    const label = model.predict(row, row.length)[0];
    const proba = isClassifier ? model.predictProba(row, row.length) : null;
    // Browsers coarsen performance.now() to 0.1 ms, so time repeated calls and report the mean.
    let calls = 0;
    const started = performance.now();
    do {
      model.predict(row, row.length);
      if (isClassifier) model.predictProba(row, row.length);
      calls += 1;
    } while (calls < 1000 && performance.now() - started < 5);
    const elapsed = (performance.now() - started) / calls;
    out.textContent = formatNumber(label);
    out.dataset.value = typeof label === "number" ? String(label) : JSON.stringify(label);
    out.dataset.error = "";
    chart.replaceChildren();
    if (proba) drawBars(chart, model.metadata.classes, proba);
    $("latency").textContent =
      `predict${proba ? " + predictProba" : ""}: ${(elapsed * 1000).toFixed(1)} µs per row (mean of ${calls} calls)`;
  } catch (error) {
    out.textContent = "—";
    out.dataset.value = "";
    out.dataset.error = error.code || "ERROR";
    chart.replaceChildren();
    $("latency").textContent = describeError(error);
  }
}

function drawBars(container, classes, proba) {
  classes.forEach((cls, i) => {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.dataset.class = String(cls);
    row.dataset.probability = String(proba[i]);
    const name = document.createElement("span");
    name.className = "bar-label";
    name.textContent = String(cls);
    const track = document.createElement("span");
    track.className = "bar-track";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(proba[i] * 100).toFixed(2)}%`;
    track.append(bar);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = `${(proba[i] * 100).toFixed(2)} %`;
    row.append(name, track, value);
    container.append(row);
  });
}

async function loadExample(example) {
  setStatus(`Fetching ${example.title}…`);
  try {
    const response = await fetch(example.file);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    useModel(bytes, example.file.split("/").pop(), example.sample);
  } catch (error) {
    setStatus(`Could not fetch ${example.file}: ${describeError(error)}`, "error");
  }
}

async function loadFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  useModel(bytes, file.name, null);
}

function downloadBundle() {
  if (!state.model) return;
  const blob = new Blob([state.model.toBundle()], { type: "application/octet-stream" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${state.fileName}.wpb`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function wireEvents() {
  $("file-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) loadFile(file);
  });
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) loadFile(file);
  });
  $("feature-form").addEventListener("input", predict);
  $("feature-form").addEventListener("submit", (event) => event.preventDefault());
  $("predict-button").addEventListener("click", predict);
  $("reset-button").addEventListener("click", () => {
    if (state.model) buildForm(state.model);
    predict();
  });
  $("download-bundle").addEventListener("click", downloadBundle);
}

async function main() {
  wireEvents();
  await init();
  $("runtime-version").textContent = `wasm-predict ${version()}.`;
  const examples = await (await fetch("models/examples.json")).json();
  const container = $("examples");
  for (const example of examples) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.example = example.id;
    button.title = example.about;
    button.textContent = example.title;
    button.addEventListener("click", () => loadExample(example));
    container.append(button);
  }
  setStatus("Ready. Pick an example or drop your own model.", "ok");
  document.body.dataset.ready = "true";
}

main().catch((error) => setStatus(`Start-up failed: ${describeError(error)}`, "error"));
