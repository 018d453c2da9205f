// The demo page in real headless Chromium (Debian's, driven by playwright-core): load the
// example models, type values, and check the page shows exactly what scikit-learn predicted;
// load a user file and a hostile file; then stop the server and keep predicting.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const fixture = (id) => JSON.parse(readFileSync(join(root, "tests/fixtures", id + ".json"), "utf8"));
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

let server, browser, page, baseUrl;
const pageErrors = [];

function startServer() {
  return new Promise((resolvePort, reject) => {
    server = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", join(root, "www")],
      { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => reject(new Error("http.server did not start")), 10000);
    server.stdout.on("data", (chunk) => {
      const m = String(chunk).match(/port (\d+)/);
      if (m) { clearTimeout(timer); resolvePort(Number(m[1])); }
    });
    server.on("error", reject);
  });
}

function stopServer() {
  return new Promise((done) => {
    if (!server || server.exitCode !== null) return done();
    server.on("exit", () => done());
    server.kill("SIGTERM");
  });
}

function close(got, want, what) {
  const abs = Math.abs(got - want);
  assert.ok(abs <= 1e-15 || abs <= 1e-12 * Math.max(Math.abs(got), Math.abs(want)), `${what}: page ${got}, scikit-learn ${want}`);
}

async function fillRow(row) {
  const inputs = page.locator("#feature-form input");
  assert.equal(await inputs.count(), row.length);
  for (let i = 0; i < row.length; i++) await inputs.nth(i).fill(String(row[i]));
}

async function shownValue() {
  return page.locator("#prediction").getAttribute("data-value");
}

before(async () => {
  const port = await startServer();
  baseUrl = `http://127.0.0.1:${port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  await page.goto(baseUrl);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
});

after(async () => {
  await browser?.close();
  await stopServer();
});

test("linear regression example: typed values give scikit-learn's prediction", async () => {
  const expected = fixture("sk19/linreg_diabetes");
  await page.click("button[data-example=linreg_diabetes]");
  await page.waitForFunction(() => document.querySelector("#prediction").dataset.value !== "");
  assert.match(await page.textContent("#facts"), /LinearRegression/);
  assert.deepEqual(await page.locator("#feature-form input").evaluateAll((els) => els.map((e) => e.name)), expected.feature_names);
  // The sample row is prefilled: its prediction is shown right away.
  close(Number(await shownValue()), expected.predict[0], "sample row");
  for (const k of [7, 23, 52]) {
    await fillRow(expected.X[k]);
    close(Number(await shownValue()), expected.predict[k], `row ${k}`);
  }
  assert.match(await page.textContent("#latency"), /µs/);
  assert.match(await page.textContent("#status"), /Loaded .* in [\d.]+ ms/);
});

test("logistic regression example: label and probability bars match scikit-learn", async () => {
  const expected = fixture("sk19/logreg_binary_breast_cancer");
  await page.click("button[data-example=logreg_binary_breast_cancer]");
  await page.waitForFunction(() => document.querySelectorAll(".bar-row").length === 2);
  for (const k of [3, 41, 52]) {
    await fillRow(expected.X[k]);
    assert.equal(Number(await shownValue()), expected.predict[k], `row ${k} label`);
    const bars = await page.locator(".bar-row").evaluateAll((rows) => rows.map((r) => [r.dataset.class, Number(r.dataset.probability)]));
    assert.deepEqual(bars.map((b) => b[0]), expected.classes.map(String));
    bars.forEach(([, p], i) => close(p, expected.predict_proba[k][i], `row ${k} class ${i}`));
  }
  mkdirSync(join(root, "target/e2e"), { recursive: true });
  await page.screenshot({ path: join(root, "target/e2e/demo-logistic.png"), fullPage: true });
});

test("gradient boosting example: label and probabilities match scikit-learn", async () => {
  const expected = fixture("sk19/tree_gb_classifier_binary");
  await page.click("button[data-example=tree_gb_classifier_binary]");
  await page.waitForFunction(() => /gradient_boosting/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#facts"), /GradientBoostingClassifier/);
  for (const k of [2, 45, 60]) {
    await fillRow(expected.X[k]);
    assert.equal(Number(await shownValue()), expected.predict[k], `row ${k} label`);
    const p1 = Number(await page.locator(".bar-row").nth(1).getAttribute("data-probability"));
    close(p1, expected.predict_proba[k][1], `row ${k}`);
  }
});

test("a picked file loads; a hostile file is refused with its code and the page keeps working", async () => {
  const expected = fixture("sk13/logreg_string_classes");
  await page.setInputFiles("#file-input", join(root, "tests/fixtures/sk13/logreg_string_classes.p2.pkl"));
  await page.waitForFunction(() => /logreg_string_classes/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#facts"), /scikit-learn 1\.3\.2/);
  await fillRow(expected.X[12]);
  assert.equal(JSON.parse(await shownValue()), expected.predict[12]);

  // joblib.dump(..., compress=3) output, as most users save models.
  await page.setInputFiles("#file-input", join(root, "tests/fixtures/sk19/logreg_string_classes.joblib.z"));
  await page.waitForFunction(() => /logreg_string_classes\.joblib/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#facts"), /joblib \(zlib compressed/);
  const expected19 = fixture("sk19/logreg_string_classes");
  await fillRow(expected19.X[7]);
  assert.equal(JSON.parse(await shownValue()), expected19.predict[7]);

  await page.setInputFiles("#file-input", join(root, "tests/fixtures/hostile/os_system.p4.pkl"));
  await page.waitForFunction(() => /UNSUPPORTED_CLASS/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#status"), /posix\.system/);
  await fillRow(expected19.X[30]);
  assert.equal(JSON.parse(await shownValue()), expected19.predict[30], "previous model still serves");
});

test("the downloaded bundle, dropped back onto the page, predicts the same", async () => {
  const expected = fixture("sk19/linreg_diabetes");
  await page.click("button[data-example=linreg_diabetes]");
  await page.waitForFunction(() => /diabetes/.test(document.querySelector("#status").textContent));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-bundle")]);
  assert.equal(download.suggestedFilename(), "diabetes_linear_regression.wpb");
  const bytes = [...readFileSync(await download.path())];
  assert.deepEqual(bytes.slice(0, 8), [...Buffer.from("WPBUNDLE")]);
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], "dropped.wpb"));
    document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await page.waitForFunction(() => /Loaded dropped\.wpb/.test(document.querySelector("#status").textContent));
  assert.match(await page.textContent("#facts"), /pickle protocol 4/);
  await fillRow(expected.X[44]);
  close(Number(await shownValue()), expected.predict[44], "bundle row 44");
});

test("after the page has loaded, predictions keep working with the server stopped", async () => {
  const expected = fixture("sk19/logreg_binary_breast_cancer");
  await page.click("button[data-example=logreg_binary_breast_cancer]");
  await page.waitForFunction(() => document.querySelectorAll(".bar-row").length === 2);
  await stopServer();
  const reachable = await page.evaluate(() => fetch("models/examples.json", { cache: "no-store" }).then(() => true, () => false));
  assert.equal(reachable, false, "the server should be down");
  for (const k of [0, 10, 51]) {
    await fillRow(expected.X[k]);
    assert.equal(Number(await shownValue()), expected.predict[k]);
    const p1 = Number(await page.locator(".bar-row").nth(1).getAttribute("data-probability"));
    close(p1, expected.predict_proba[k][1], `offline row ${k}`);
  }
  // A local file still loads offline too.
  await page.setInputFiles("#file-input", join(root, "tests/fixtures/sk19/linreg_multioutput.p5.pkl"));
  await page.waitForFunction(() => /linreg_multioutput/.test(document.querySelector("#status").textContent));
  await page.screenshot({ path: join(root, "target/e2e/demo-offline.png"), fullPage: true });
  const unexpected = pageErrors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(e));
  assert.deepEqual(unexpected, []);
});
